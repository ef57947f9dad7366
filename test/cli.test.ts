/**
 * The command line as a user meets it: the Node.js version check, usage errors pointing at the
 * right help, `policy validate` listing every problem in one run, onboarding's field-level
 * difference and SARIF URIs. dist/ is built once by test/global-setup.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sarifUri } from '../src/audit/formats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/main.js');
const work = mkdtempSync(join(tmpdir(), 'gpu-admission-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], opts: { preload?: string; cwd?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...(opts.preload ? ['--import', opts.preload] : []), MAIN, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Node.js version', () => {
  it('exits 2 with one line naming the required and the running version, before loading anything', () => {
    const fake = join(work, 'node20.mjs');
    writeFileSync(fake, "Object.defineProperty(process.versions, 'node', { value: '20.11.1' });\nObject.defineProperty(process, 'version', { value: 'v20.11.1' });\n");
    const r = cli(['serve'], { preload: fake });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('gpu-admission needs Node.js 22 or later; this is v20.11.1\n');
    expect(r.stdout).toBe('');
  });

  it('package.json asks npm to refuse an older Node.js', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toMatch(/^>=22\./);
    expect(readFileSync(join(ROOT, '.npmrc'), 'utf8')).toMatch(/^engine-strict=true$/m);
  });
});

describe('usage errors', () => {
  it.each([
    [['audit', '--bogus'], "Run 'gpu-admission audit --help'"],
    [['onboard', 'team', '--profile', 'training', '--nope'], "Run 'gpu-admission onboard --help'"],
    [['policy', 'frobnicate'], "Run 'gpu-admission policy --help'"],
    [['nonsense'], "Run 'gpu-admission --help'"],
  ])('%j exits 2 and points to the help of that command', (args, pointer) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(pointer);
  });

  it('audit --help lists --accelerator-resources', () => {
    const r = cli(['audit', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--accelerator-resources <list>');
  });
});

describe('policy validate', () => {
  it('reports schema, cross-document, unknown-rule and overlap problems together, in one run', () => {
    const dir = join(work, 'bad-policies');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pools.yaml'), `apiVersion: gpu-admission.io/v1alpha1
kind: GpuPool
metadata: {name: l4}
spec: {nodeLabels: {cloud.google.com/gke-accelerator: nvidia-l4}, resources: [nvidia.com/gpu], colour: blue}
`);
    writeFileSync(join(dir, 'policies.yaml'), `apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: team-a}
spec:
  namespaces: {selector: {matchLabels: {team: ml}}}
  accelerators: {pools: [h100]}
  exemptions: [{rules: [gpu-squating], serviceAccounts: [runner]}]
---
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: team-b}
spec:
  namespaces: {selector: {matchExpressions: [{key: team, operator: Exists}]}}
`);
    const r = cli(['policy', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spec.colour: unknown field');
    expect(r.stderr).toContain('no GpuPool named "h100"');
    expect(r.stderr).toContain('spec.exemptions[0].rules[0]: no rule or mutator is named "gpu-squating"');
    expect(r.stderr).toMatch(/team-a.*team-b|team-b.*team-a/);
  });

  it('accepts the shipped policies', () => {
    const r = cli(['policy', 'validate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('onboard', () => {
  it('names the fields that differ when a generated file exists', () => {
    const out = join(work, 'onboard');
    const base = ['onboard', 'ml', '--profile', 'training', '--pools', 'a100-80gb', '--out', out];
    expect(cli(base).code).toBe(0);
    const r = cli([...base, '--max-gpus-per-pod', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ml.policy.yaml exists and differs from what onboarding generates: spec.accelerators.maxPerPod: 8 -> 4');
    expect(cli([...base, '--max-gpus-per-pod', '4', '--force']).code).toBe(0);
  });
});

describe('SARIF artifact URIs', () => {
  it.each([
    ['manifests/app.yaml', '/repo', 'manifests/app.yaml'],
    ['/repo/charts/llm/templates/deploy.yaml', '/repo', 'charts/llm/templates/deploy.yaml'],
    ['./a b/c#d.yaml', '/repo', 'a%20b/c%23d.yaml'],
    ['/elsewhere/x.yaml', '/repo', 'file:///elsewhere/x.yaml'],
    ['<stdin>', '/repo', 'stdin'],
  ])('%s under %s is %s', (file, root, uri) => {
    expect(sarifUri(file, root)).toBe(uri);
  });
});
