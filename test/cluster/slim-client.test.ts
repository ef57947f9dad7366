import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIST = dirname(createRequire(join(ROOT, 'package.json')).resolve('@kubernetes/client-node'));

/** The names a client-node dist file imports from `specifier` (`a as b` counts as a). */
function importedNames(file: string, specifier: string): string[] {
  const text = readFileSync(join(DIST, file), 'utf8');
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const found = [...text.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${quoted}['"]`, 'g'))];
  const other = new RegExp(`(import\\s+\\*|import\\s+\\w+\\s*,?|export\\s*\\*)[^;]*from\\s*['"]${quoted}['"]`).test(text);
  if (other) throw new Error(`${file} imports ${specifier} other than by names: the shim cannot stand in for it`);
  return found.flatMap((m) => (m[1] ?? '').split(',').map((s) => s.trim().split(/\s+as\s+/)[0]?.trim() ?? '').filter(Boolean));
}

/** The shim modules the hook serves (data: URLs), loaded by Node.js itself in a child process: exported names, and serialize's answers. */
function shims(): { gen: string[]; serializer: string[]; serialize: unknown[] } {
  const script = `
const { slimRedirects } = await import(${JSON.stringify(join(ROOT, 'dist/cluster/slim-client.js'))});
const [gen, serializer] = await Promise.all([...slimRedirects().values()].map((url) => import(url)));
const tryIt = (f) => { try { return f(); } catch (err) { return 'throws: ' + err.message; } };
const s = serializer.ObjectSerializer;
process.stdout.write(JSON.stringify({ gen: Object.keys(gen), serializer: Object.keys(serializer),
  serialize: [s.serialize('app=x,tier!=y', 'string'), tryIt(() => s.serialize(undefined, 'string')) ?? null, tryIt(() => s.serialize({}, 'V1Pod'))] }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { gen: string[]; serializer: string[]; serialize: unknown[] };
}

describe('slim client shims cover what client-node imports through them', () => {
  const served = shims();

  it('dist/config.js: every name it imports from ./gen/index.js', () => {
    const names = importedNames('config.js', './gen/index.js');
    expect(names).toContain('createConfiguration');
    for (const n of names) expect(served.gen, `the gen/index.js shim lacks ${n} (client-node upgraded?)`).toContain(n);
  });

  it('dist/cache.js: every name it imports from ./serializer.js, used for strings only', () => {
    const names = importedNames('cache.js', './serializer.js');
    expect(names).toEqual(['ObjectSerializer']);
    for (const n of names) expect(served.serializer, `the serializer.js shim lacks ${n} (client-node upgraded?)`).toContain(n);
    const text = readFileSync(join(DIST, 'cache.js'), 'utf8');
    const uses = [...text.matchAll(/ObjectSerializer\.(\w+)\(([^)]*)\)/g)].map((m) => `${m[1]}(${(m[2] ?? '').split(',').slice(1).join(',').trim()})`);
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set(["serialize('string')"]));
    expect(served.serialize).toEqual(['app=x,tier!=y', null, 'throws: the slim Kubernetes client serializes primitive types only, not V1Pod']);
  });
});

// Runs in a child process on dist/ (built by the global setup): the hook is process-wide.
const SCRIPT = `
import module from 'node:module';
const registerHooks = module.registerHooks;
if (process.env.SLIM_TEST_NO_HOOKS) module.registerHooks = undefined; // as on Node.js < 22.15
const { useSlimClient } = await import(${JSON.stringify(join(ROOT, 'dist/cluster/slim-client.js'))});
const mode = useSlimClient();
const seen = [];
registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
const { KubeConfig } = await import(${JSON.stringify(join(ROOT, 'dist/cluster/kubeconfig.js'))}).then(() => import('@kubernetes/client-node/dist/config.js'));
await import(${JSON.stringify(join(ROOT, 'dist/cluster/informers.js'))});
const kc = new KubeConfig();
kc.loadFromString(\`
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: secret-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
\`);
const opts = {};
await kc.applyToHTTPSOptions(opts);
const loaded = (name) => seen.some((u) => u.endsWith(name));
const slim = { mode, auth: opts.headers?.Authorization, agent: typeof opts.agent, rejectUnauthorized: opts.rejectUnauthorized,
  models: loaded('/gen/models/ObjectSerializer.js'), coreApi: loaded('/gen/apis/CoreV1Api.js'), genIndex: loaded('/dist/gen/index.js') };
// A command that wants the whole client in the same process still gets it.
const all = await import('@kubernetes/client-node');
const api = kc.makeApiClient(all.CoreV1Api);
const objects = all.KubernetesObjectApi.makeApiClient(kc);
const { ObjectSerializer } = await import('@kubernetes/client-node/dist/serializer.js');
const full = { sameKubeConfig: all.KubeConfig === KubeConfig, listNamespace: typeof api.listNamespace, objectsList: typeof objects.list,
  serializer: typeof ObjectSerializer.registerModel, models: loaded('/gen/models/ObjectSerializer.js') };
process.stdout.write(JSON.stringify({ slim, full }));
`;

function runScript(env: Record<string, string> = {}): { slim: Record<string, unknown>; full: Record<string, unknown> } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { slim: Record<string, unknown>; full: Record<string, unknown> };
}

describe('slim client hook (child process, dist/)', () => {
  it('KubeConfig and the informers load without the generated APIs and models; the full client still loads after', () => {
    const { slim, full } = runScript({ GPU_ADMISSION_FULL_CLIENT: '' });
    expect(slim).toEqual({ mode: 'slim', auth: 'Bearer secret-token', agent: 'object', rejectUnauthorized: false, models: false, coreApi: false, genIndex: false });
    expect(full).toEqual({ sameKubeConfig: true, listNamespace: 'function', objectsList: 'function', serializer: 'function', models: true });
  });

  it('GPU_ADMISSION_FULL_CLIENT=1, or no module.registerHooks, loads the full client', () => {
    for (const env of [{ GPU_ADMISSION_FULL_CLIENT: '1' }, { GPU_ADMISSION_FULL_CLIENT: '', SLIM_TEST_NO_HOOKS: '1' }]) {
      const { slim } = runScript(env);
      expect(slim).toMatchObject({ mode: 'full', auth: 'Bearer secret-token', models: true, coreApi: true });
    }
  });
});
