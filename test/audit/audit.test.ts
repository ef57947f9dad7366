import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { render, type AuditReport, type Format, FORMATS } from '../../src/audit/formats.js';
import { readInputs, parseManifests } from '../../src/audit/input.js';
import { audit, contextOf, isWorkload, summarize } from '../../src/audit/run.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { engineFor } from '../../src/engine/build.js';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { POLICIES_DIR, PUBLIC_DIR } from '../support/app.js';
import { expectGolden } from '../support/golden.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const EXPECTED = new URL('./expected/', import.meta.url).pathname;
const BROKEN = relative(ROOT, new URL('./fixtures/broken.yaml', import.meta.url).pathname);
const VIEW = relative(ROOT, new URL('./fixtures/webhook-view.yaml', import.meta.url).pathname);
const CORPUS = relative(ROOT, PUBLIC_DIR).replace(/\/$/, '');
const NOW = new Date('2026-01-01T00:00:00Z');

async function reportFor(paths: string[], namespace = 'research'): Promise<AuditReport> {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const objects = await readInputs(paths);
    const engine = engineFor(await loadPolicyDir('policies'), [], contextOf(objects, namespace));
    const results = audit(engine, objects, { namespace });
    return { apiVersion: 'gpu-admission.io/v1alpha1', kind: 'AuditReport', policies: 'policies', summary: summarize(results), results };
  } finally {
    process.chdir(cwd);
  }
}

function golden(name: string, text: string): void {
  expectGolden(join(EXPECTED, name), text);
}

async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  // dist/ is built from src/ once per run by test/global-setup.ts.
  const main = join(ROOT, 'dist/main.js');
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [main, 'audit', ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

describe.each([['corpus', [CORPUS]], ['broken', [BROKEN]], ['webhook-view', [VIEW]]])('golden audit output: %s', (name, paths) => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await reportFor(paths);
  });
  it.each(FORMATS)('%s', (format) => {
    const ext = { table: 'txt', json: 'json', yaml: 'yaml', junit: 'xml', sarif: 'sarif.json', policyreport: 'policyreport.yaml' }[format as Format];
    golden(`${name}.${ext}`, render(format as Format, report, { color: false, version: '0.1.0', now: NOW }));
  });
});

describe('the broken variants', () => {
  it('each is judged as documented, at the path of the field', async () => {
    const r = await reportFor([BROKEN]);
    const by = Object.fromEntries(r.results.map((x) => [x.name, x]));
    expect(by['vllm-dropped-limit']?.violations.map((f) => [f.ruleId, f.path])).toEqual([['gpu-squatting', 'spec.template.spec.nodeSelector[cloud.google.com/gke-accelerator]']]);
    expect(by['finetune-contradiction']?.violations.map((f) => f.ruleId)).toEqual(['node-selection']);
    expect(by['mig-on-a100']?.violations.map((f) => [f.ruleId, f.path])).toEqual([['pool-selection', 'spec.pytorchReplicaSpecs.Worker.template.spec.nodeSelector[cloud.google.com/gke-accelerator]']]);
    expect(by['half-a-gpu']?.violations.map((f) => f.ruleId)).toEqual(['accelerator-limits']);
    expect(by['cpu-squatter']?.violations.map((f) => [f.ruleId, f.path])).toEqual([['gpu-squatting', 'spec.tolerations[0]']]);
    expect(by['lws-no-tolerations']?.verdict).toBe('warned');
    expect(by['escalation']?.violations.map((f) => f.ruleId)).toEqual(['priority-class']);
    expect(r.results.map((x) => x.kind)).not.toContain('ConfigMap');
  });
});

describe('audit and webhook agree', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = engineFor(await loadPolicyDir(POLICIES_DIR));
  });
  it('gives the same verdicts and patches as the webhook for every corpus object', async () => {
    const objects = await readInputs([PUBLIC_DIR]);
    const results = audit(engine, objects, { namespace: 'research' });
    expect(results.length).toBeGreaterThan(25);
    const workloads = objects.filter(isWorkload);
    expect(workloads.length).toBe(results.length);
    results.forEach((r, i) => {
      const src = workloads[i]!;
      expect([src.file, src.line]).toEqual([r.file, r.line]);
      const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0]! : '';
      const req = { kind: { group, kind: r.kind }, operation: 'CREATE' as const, namespace: r.namespace, name: r.name, object: src.object };
      const m = engine.mutate(req);
      expect(r.patch).toEqual(m.patch);
      const v = engine.validate({ ...req, object: m.patch.length ? applyLikeApiServer(src.object, m.patch) : src.object });
      expect(r.violations.map((f) => f.ruleId)).toEqual(v.denials.map((f) => f.ruleId));
    });
  });
});

describe('input', () => {
  it('reads List objects, skips empty documents and names file and line of a syntax error', () => {
    expect(parseManifests('x.yaml', '---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: a}}]\n---\n').map((o) => o.object['kind'])).toEqual(['Pod']);
    expect(() => parseManifests('bad.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: [\n')).toThrow(/^bad\.yaml: line \d+: /);
    expect(() => parseManifests('bad.yaml', '- a\n- b\n')).toThrow(/bad\.yaml:1: document 1 is not a Kubernetes object/);
  });

  it('a Namespace in the input gives its labels to label-selected policies', async () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ml, labels: {gpu-admission.io/profile: training}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec: {containers: [{name: c, image: x, resources: {limits: {nvidia.com/gpu: "1", memory: 1Gi}}}]}\n';
    const objects = parseManifests('ns.yaml', text);
    const results = audit(engineFor(await loadPolicyDir(POLICIES_DIR), [], contextOf(objects)), objects, { namespace: 'default' });
    expect(results[0]?.policy).toBe('training');
  });
});

describe('gpu-admission audit (CLI)', () => {
  it('reads stdin, exits 1 when something would be denied and 0 when not', async () => {
    const denied = await cli(['-', '-o', 'json'], readFileSync(join(ROOT, BROKEN), 'utf8'));
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).summary.denied).toBe(6);
    const fine = await cli(['--namespace', 'research'], readFileSync(join(PUBLIC_DIR, 'device-plugin-test-pod.yaml'), 'utf8'));
    expect(fine.code).toBe(0);
    expect(fine.stdout).toContain('1 objects: 0 denied, 1 warned');
    const strict = await cli(['--namespace', 'research', '--fail-on', 'warn'], readFileSync(join(PUBLIC_DIR, 'device-plugin-test-pod.yaml'), 'utf8'));
    expect(strict.code).toBe(1);
  });

  it.each([
    ['unparseable YAML', ['-'], 'apiVersion: v1\nkind: [\n', /<stdin>: line \d+/],
    ['an unknown flag', ['--frobnicate'], '', /Unknown option '--frobnicate'/],
    ['an unknown format', ['-o', 'html'], '', /unknown output format "html"/],
    ['a missing path', ['no/such/dir'], '', /no\/such\/dir: no such file or directory/],
    ['invalid policies', ['--policies', 'test'], '', /no policy files|invalid policies/],
  ])('exits 2 on %s, never looking like a clean audit', async (_n, args, input, message) => {
    const r = await cli(args, input);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  // How fast is measured by `npm run bench` (audit of 10,000 objects); here only that all are judged.
  it('audits 10,000 objects in one run and counts every one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpa-audit-'));
    try {
      const one = readFileSync(join(PUBLIC_DIR, 'gke-vllm-a100-deployment.yaml'), 'utf8');
      const docs = parseYamlDocuments(one).map((d) => d.value as Record<string, unknown>).filter((d) => d['kind'] === 'Deployment');
      const many = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ ...docs[0], metadata: { name: `d-${i}`, namespace: ['inference', 'training', 'research', 'default'][i % 4] } })).join('\n---\n');
      writeFileSync(join(dir, 'many.yaml'), many);
      const r = await cli([join(dir, 'many.yaml'), '-o', 'json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).summary.objects).toBe(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the audit sees what the webhook sees', () => {
  let report: AuditReport;
  let by: Record<string, AuditReport['results'][number]>;
  beforeAll(async () => {
    report = await reportFor([VIEW]);
    by = Object.fromEntries(report.results.map((x) => [x.name, x]));
  });

  it('reports objects of the namespaces the webhook configurations exclude as excluded, not judged', () => {
    for (const name of ['neuron-device-plugin', 'gpu-admission-debug']) {
      expect(by[name]).toMatchObject({ verdict: 'excluded', skipped: 'excluded (the webhook never sees this namespace)', violations: [], patch: [], podPatches: [] });
    }
    expect(report.summary).toMatchObject({ objects: 5, excluded: 2 });
  });

  it.each(FORMATS)('shows the excluded objects in %s output', (format) => {
    const text = render(format as Format, report, { color: false, version: '0.1.0', now: NOW });
    expect(text).toMatch(format === 'sarif' || format === 'policyreport' ? /namespace-excluded/ : /excluded/);
    expect(text).toContain('neuron-device-plugin');
  });

  it('judges every namespace when no namespace is excluded', async () => {
    const objects = await readInputs([join(ROOT, VIEW)]);
    const results = audit(engineFor(await loadPolicyDir(POLICIES_DIR)), objects, { namespace: 'research', excludedNamespaces: [] });
    expect(results.filter((r) => r.verdict === 'excluded')).toEqual([]);
  });

  it('a node agent in a vendor namespace is exempt (system-node-critical allowed); elsewhere it is never told to drop its class', () => {
    expect(by['nvdp-nvidia-device-plugin']).toMatchObject({ verdict: 'skipped', policy: 'gpu-system' });
    const agent = by['gpu-exporter'];
    // A DaemonSet in a tenant namespace the policy does not name as a node agent may not squat either.
    expect(agent?.violations.map((f) => f.ruleId)).toEqual(['gpu-squatting', 'priority-class']);
    expect(agent?.violations[0]?.fix).toMatch(/a node agent belongs in an exempt namespace, or is named in spec\.nodeAgents/);
    const priority = agent?.violations.find((f) => f.ruleId === 'priority-class');
    expect(priority?.fix).toMatch(/exempt NamespacePolicy/);
    expect(priority?.fix).not.toMatch(/remove/);
  });

  it('reads YAML as kubectl does and fields written as null as left out', () => {
    const vllm = by['vllm'];
    expect(vllm?.verdict).toBe('warned');
    expect([...(vllm?.violations ?? []), ...(vllm?.warnings ?? [])].map((f) => f.ruleId)).not.toContain('pod-spec-shape');
  });

  it('shows the patch each Pod of a template receives, and a patched Pod receives nothing more', async () => {
    const vllm = by['vllm'];
    expect(vllm?.patch).toEqual([]);
    const [pp] = vllm?.podPatches ?? [];
    expect(pp?.template).toBe('spec.template');
    expect(pp?.patch.map((op) => op.path)).toEqual(expect.arrayContaining(['/spec/tolerations', '/spec/nodeSelector']));
    expect(pp?.diff.join('\n')).toContain('+ spec.tolerations');
    const engine = engineFor(await loadPolicyDir(POLICIES_DIR));
    const objects = await readInputs([join(ROOT, VIEW)]);
    const template = (objects.find((o) => o.object['kind'] === 'Deployment')?.object['spec'] as { template: { metadata: object; spec: object } }).template;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, namespace: 'research' }, spec: JSON.parse(JSON.stringify(template.spec), (_k, v: unknown) => (v === null ? undefined : v)) as object };
    const once = applyLikeApiServer(pod, pp?.patch ?? []);
    expect(engine.mutate({ kind: { group: '', kind: 'Pod' }, operation: 'CREATE', namespace: 'research', object: once }).patch).toEqual([]);
  });

  it('--template-patches judges as if templates were patched, and says so', async () => {
    const r = await cli([VIEW, '--template-patches', '-o', 'json']);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as AuditReport;
    expect(out.overrides).toEqual([expect.stringContaining('mutations.templates: true')]);
    const vllm = out.results.find((x) => x.name === 'vllm');
    expect(vllm?.patch.map((op) => op.path)).toEqual(expect.arrayContaining(['/spec/template/spec/tolerations']));
    expect(vllm?.podPatches).toEqual([]);
    const table = await cli([VIEW, '--template-patches']);
    expect(table.stdout).toContain('as if: mutations.templates: true');
    expect((await cli([VIEW, '-o', 'json'])).stdout).not.toContain('overrides');
  });

  it('--excluded-namespaces replaces the shipped exclusions', async () => {
    const r = await cli([VIEW, '--excluded-namespaces', 'research', '-o', 'json']);
    const out = JSON.parse(r.stdout) as AuditReport;
    expect(out.results.filter((x) => x.verdict === 'excluded').map((x) => x.name).sort()).toEqual(['gpu-exporter', 'vllm']);
  });
});

