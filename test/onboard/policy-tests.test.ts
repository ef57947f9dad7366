/** `gpu-admission policy test`: PolicyTest documents, the runner, its output and exit codes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputs, type SourceObject } from '../../src/audit/input.js';
import { loadPolicyDir, readPolicyFiles } from '../../src/server/policy-files.js';
import { parsePolicyTests, renderOutcomes, runPolicyTest } from '../../src/cli/policy-test.js';
import type { PolicySet } from '../../src/policy/types.js';
import { cli, POLICIES } from './support.js';

let set: PolicySet;
const tmp = mkdtempSync(join(tmpdir(), 'gpa-policytest-'));
beforeAll(async () => {
  set = await loadPolicyDir(POLICIES);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const gpuPod = (limits: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'x:1.0', resources: { limits, requests: { cpu: '1' } }, readinessProbe: { tcpSocket: { port: 80 } } }], ...extra },
});

function testDoc(name: string, spec: Record<string, unknown>): SourceObject {
  return { file: 't.yaml', line: 1, index: 1, object: { apiVersion: 'gpu-admission.io/v1alpha1', kind: 'PolicyTest', metadata: { name }, spec } };
}

function run(name: string, spec: Record<string, unknown>) {
  const { tests, problems } = parsePolicyTests([testDoc(name, spec)]);
  expect(problems).toEqual([]);
  return runPolicyTest(set, tests[0]!);
}

describe('the PolicyTest runner', () => {
  it('passes when verdict, policy, rules and mutations are as expected', () => {
    const o = run('ok', {
      namespace: 'inference',
      object: gpuPod({ 'nvidia.com/gpu': '1', memory: '1Gi' }),
      expect: { verdict: 'allowed', policy: 'realtime-inference', rules: [], mutations: ['tolerations', 'startup-probe', 'termination-grace', 'default-priority-class'] },
    });
    expect(o.failures).toEqual([]);
    expect(o.passed).toBe(true);
  });

  it('fails with each difference, and shows what actually happened', () => {
    const o = run('wrong', {
      namespace: 'inference',
      object: gpuPod({ 'nvidia.com/gpu': '1' }),
      expect: { verdict: 'allowed', policy: 'training', rules: ['gpu-squatting'], mutations: ['tolerations'] },
    });
    expect(o.passed).toBe(false);
    expect(o.failures).toEqual([
      'verdict: expected allowed, got denied',
      'policy: expected training, got realtime-inference',
      'rules: expected [gpu-squatting], got [container-resources]; missing gpu-squatting; unexpected container-resources',
      'mutations: expected [tolerations], got [default-priority-class, startup-probe, termination-grace, tolerations]; unexpected default-priority-class, startup-probe, termination-grace',
    ]);
    const text = renderOutcomes([o]);
    expect(text).toContain('FAIL wrong  (t.yaml:1)');
    expect(text).toContain('      x [container-resources] spec.containers[0]');
    expect(text).toContain('      + [tolerations] spec.tolerations: tolerate nvidia.com/gpu=present:NoSchedule of pool l4');
    expect(text.trimEnd().endsWith('1 test: 0 passed, 1 failed')).toBe(true);
  });

  it('checks only what the case states: rules and mutations are optional', () => {
    expect(run('loose', { namespace: 'inference', object: gpuPod({ 'nvidia.com/gpu': '1' }), expect: { verdict: 'denied' } }).passed).toBe(true);
  });

  it('gives the namespace its labels (label-selected policies) and skips what is exempt', () => {
    expect(run('labels', {
      namespace: 'anything', namespaceLabels: { 'gpu-admission.io/profile': 'notebooks' },
      object: gpuPod({ 'nvidia.com/gpu': '2' }), expect: { verdict: 'warned', policy: 'notebooks' },
    }).passed).toBe(true);
    expect(run('exempt', { namespace: 'gpu-operator', object: gpuPod({ 'nvidia.com/gpu': '2' }), expect: { verdict: 'skipped', policy: 'gpu-system', rules: [], mutations: [] } }).passed).toBe(true);
  });

  it('counts audit-mode findings (recorded) as rules, and would-be mutations as mutations (not applied: so the tolerations are missing too)', () => {
    const audit = { ...set, policies: set.policies.map((p) => (p.name === 'realtime-inference' ? { ...p, mode: 'audit' as const } : p)) };
    const { tests } = parsePolicyTests([testDoc('audit', { namespace: 'inference', object: gpuPod({ 'nvidia.com/gpu': '1' }), expect: { verdict: 'allowed', rules: ['container-resources', 'pool-tolerations'], mutations: ['default-priority-class', 'startup-probe', 'termination-grace', 'tolerations'] } })]);
    const o = runPolicyTest(audit, tests[0]!);
    expect(o.failures).toEqual([]);
  });

  it.each([
    ['an unknown verdict', { namespace: 'a', object: { apiVersion: 'v1', kind: 'Pod' }, expect: { verdict: 'rejected' } }, /t\.yaml:1: spec\.expect\.verdict: must be one of "denied", "warned", "allowed", "skipped"/],
    ['a missing object', { namespace: 'a', expect: { verdict: 'allowed' } }, /spec: must have required property 'object'/],
    ['an unknown field', { namespace: 'a', object: { apiVersion: 'v1', kind: 'Pod' }, expect: { verdict: 'allowed', rule: ['x'] } }, /spec\.expect\.rule: unknown field/],
    ['a bad namespace', { namespace: 'Not_A_Namespace', object: { apiVersion: 'v1', kind: 'Pod' }, expect: { verdict: 'allowed' } }, /spec\.namespace: must match pattern/],
    ['a conflicting object namespace', { namespace: 'a', object: { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'b' } }, expect: { verdict: 'allowed' } }, /spec\.object\.metadata\.namespace \(b\) differs from spec\.namespace \(a\)/],
  ])('rejects %s with the file, line and field', (_n, spec, message) => {
    expect(parsePolicyTests([testDoc('bad', spec)]).problems.join('\n')).toMatch(message);
  });

  it('rejects documents of other kinds and duplicate names', () => {
    const { problems } = parsePolicyTests([
      { file: 'x.yaml', line: 3, index: 1, object: { apiVersion: 'v1', kind: 'Pod' } },
      testDoc('twice', { namespace: 'a', object: { apiVersion: 'v1', kind: 'Pod' }, expect: { verdict: 'allowed' } }),
      testDoc('twice', { namespace: 'a', object: { apiVersion: 'v1', kind: 'Pod' }, expect: { verdict: 'allowed' } }),
    ]);
    expect(problems).toEqual(['x.yaml:3: kind must be PolicyTest, got "Pod"', 't.yaml:1: PolicyTest "twice" is also defined at t.yaml:1']);
  });
});

describe('the shipped policy tests', () => {
  it('policies/tests is not read as policies: the loader reads the top level only', async () => {
    const files = await readPolicyFiles(POLICIES);
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((f) => f.path.includes('/tests/'))).toBe(false);
  });

  it('`policy test policies/tests --policies policies` passes and exits 0', async () => {
    const r = await cli(['policy', 'test', 'policies/tests', '--policies', 'policies']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = /(\d+) tests: (\d+) passed, 0 failed/.exec(r.stdout);
    expect(summary?.[1]).toBe(summary?.[2]);
    expect(Number(summary?.[1])).toBeGreaterThanOrEqual(15);
  });

  it('every example policy governs at least one shipped test', async () => {
    const { tests } = parsePolicyTests(await readInputs([join(POLICIES, 'tests')]));
    const governing = new Set(tests.map((t) => runPolicyTest(set, t).result.policy));
    expect([...governing].sort()).toEqual(set.policies.map((p) => p.name).sort());
  });
});

describe('policy test exit codes', () => {
  const write = (name: string, text: string): string => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const doc = (verdict: string): string => `apiVersion: gpu-admission.io/v1alpha1
kind: PolicyTest
metadata: {name: t-${verdict}}
spec:
  namespace: web
  object: {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: x, resources: {limits: {nvidia.com/gpu: "1"}}}]}}
  expect: {verdict: ${verdict}}
`;

  it('1 when a test fails, with the summary', async () => {
    const r = await cli(['policy', 'test', write('fail.yaml', doc('allowed')), '--policies', POLICIES]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL t-allowed');
    expect(r.stdout).toContain('    verdict: expected allowed, got denied');
    expect(r.stdout).toContain('1 test: 0 passed, 1 failed');
  });

  it('0 when it passes', async () => {
    expect((await cli(['policy', 'test', write('pass.yaml', doc('denied')), '--policies', POLICIES])).code).toBe(0);
  });

  it.each([
    ['invalid test documents', () => [write('invalid.yaml', doc('maybe'))], /invalid policy tests:\n  - .*invalid\.yaml:1: spec\.expect\.verdict: must be one of/],
    ['unparseable YAML', () => [write('broken.yaml', 'kind: [\n')], /broken\.yaml: line \d+/],
    ['no tests found', () => [write('empty.yaml', '# nothing\n')], /no PolicyTest documents in/],
    ['no path', () => [], /policy test needs the files or directories/],
    ['a missing path', () => [join(tmp, 'missing')], /no such file or directory/],
  ])('2 for %s', async (_n, paths, message) => {
    const r = await cli(['policy', 'test', ...paths(), '--policies', POLICIES]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('2 for invalid policies', async () => {
    const bad = mkdtempSync(join(tmp, 'pol-'));
    writeFileSync(join(bad, 'p.yaml'), 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: x}\nspec: {mode: block}\n');
    const r = await cli(['policy', 'test', write('ok2.yaml', doc('denied')), '--policies', bad]);
    expect(r.stderr).toContain('spec.mode: must be one of');
    expect(r.code).toBe(2);
  });
});
