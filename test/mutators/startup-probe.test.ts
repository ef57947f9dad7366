import type { V1Container, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mutatePod } from '../../src/engine/evaluate.js';
import { startupProbeMutator } from '../../src/mutators/startup-probe.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { analysisOf, cpuContainer, gpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

const budget = (min: number, extra: Parameters<typeof policy>[0] = {}): NamespacePolicy => policy({ ...extra, startupProbe: { minBudgetSeconds: min } });

const http = (path: string): V1Probe => ({ httpGet: { path, port: 8000 } });
const ready = http('/ready');
const live = http('/health');

/** The probe the mutator should add: the handler, a 10 s period and enough failures to cover `min`. */
const derived = (handler: V1Probe, failureThreshold: number, timeoutSeconds = 1): V1Probe => ({
  ...handler, periodSeconds: 10, timeoutSeconds, successThreshold: 1, failureThreshold,
});

const withProbes = (probes: Partial<V1Container>): V1PodSpec => podSpec({ containers: [gpuContainer(probes)] });

interface Case {
  name: string;
  spec: () => V1PodSpec;
  policy: () => NamespacePolicy;
  /** startupProbe of containers[0] afterwards (undefined: none). */
  startup: V1Probe | undefined;
  changed: boolean;
  warnings?: number;
}

const cases: Case[] = [
  // apply
  { name: 'derived from the readinessProbe, preferred over the livenessProbe', spec: () => withProbes({ readinessProbe: ready, livenessProbe: live }), policy: () => budget(600), startup: derived(ready, 60), changed: true },
  { name: 'derived from the livenessProbe when there is no readinessProbe', spec: () => withProbes({ livenessProbe: live }), policy: () => budget(600), startup: derived(live, 60), changed: true },
  { name: 'tcpSocket handler', spec: () => withProbes({ livenessProbe: { tcpSocket: { port: 8000 }, periodSeconds: 3 } }), policy: () => budget(600), startup: derived({ tcpSocket: { port: 8000 } }, 60), changed: true },
  { name: 'grpc handler', spec: () => withProbes({ readinessProbe: { grpc: { port: 9000, service: 'infer' } } }), policy: () => budget(300), startup: derived({ grpc: { port: 9000, service: 'infer' } }, 30), changed: true },
  { name: 'exec handler', spec: () => withProbes({ readinessProbe: { exec: { command: ['cat', '/tmp/ready'] } } }), policy: () => budget(120), startup: derived({ exec: { command: ['cat', '/tmp/ready'] } }, 12), changed: true },
  { name: 'keeps the source timeoutSeconds, ignores its thresholds and delay', spec: () => withProbes({ readinessProbe: { ...ready, timeoutSeconds: 5, failureThreshold: 2, initialDelaySeconds: 30, successThreshold: 3 } }), policy: () => budget(600), startup: derived(ready, 60, 5), changed: true },
  { name: 'rounds the failure count up when the budget is not a multiple of the period', spec: () => withProbes({ readinessProbe: ready }), policy: () => budget(905), startup: derived(ready, 91), changed: true },
  { name: 'raises failureThreshold of a short startupProbe (default period)', spec: () => withProbes({ livenessProbe: live, startupProbe: { ...live, failureThreshold: 30 } }), policy: () => budget(900), startup: { ...live, failureThreshold: 90 }, changed: true },
  { name: 'raises failureThreshold respecting periodSeconds', spec: () => withProbes({ startupProbe: { ...live, periodSeconds: 5, failureThreshold: 3 } }), policy: () => budget(600), startup: { ...live, periodSeconds: 5, failureThreshold: 120 }, changed: true },
  { name: 'raises failureThreshold respecting initialDelaySeconds', spec: () => withProbes({ startupProbe: { ...live, initialDelaySeconds: 100, periodSeconds: 20, failureThreshold: 3 } }), policy: () => budget(600), startup: { ...live, initialDelaySeconds: 100, periodSeconds: 20, failureThreshold: 25 }, changed: true },
  { name: 'raises failureThreshold when it was left to its default of 3', spec: () => withProbes({ startupProbe: { ...live } }), policy: () => budget(600), startup: { ...live, failureThreshold: 60 }, changed: true },
  // no-op
  { name: 'a startupProbe above the budget is untouched', spec: () => withProbes({ startupProbe: { ...live, failureThreshold: 100 } }), policy: () => budget(600), startup: { ...live, failureThreshold: 100 }, changed: false },
  { name: 'a startupProbe exactly at the budget is untouched', spec: () => withProbes({ startupProbe: { ...live, initialDelaySeconds: 60, periodSeconds: 18, failureThreshold: 30 } }), policy: () => budget(600), startup: { ...live, initialDelaySeconds: 60, periodSeconds: 18, failureThreshold: 30 }, changed: false },
  { name: 'a container with no probe gets a warning, not a probe', spec: () => withProbes({}), policy: () => budget(600), startup: undefined, changed: false, warnings: 1 },
  // skip
  { name: 'a Pod that requests no accelerator', spec: () => ({ containers: [cpuContainer({ readinessProbe: ready })] }), policy: () => budget(600), startup: undefined, changed: false },
  { name: 'mutations.startupProbe off', spec: () => withProbes({ readinessProbe: ready }), policy: () => budget(600, { mutations: { startupProbe: false } }), startup: undefined, changed: false },
  { name: 'no startup budget in the policy', spec: () => withProbes({ readinessProbe: ready }), policy: () => policy(), startup: undefined, changed: false },
];

describe('startup-probe mutator', () => {
  it.each(cases)('$name', ({ spec, policy: pol, startup, changed, warnings = 0 }) => {
    const out = runMutator(startupProbeMutator, spec(), pol());
    expect(out.spec.containers[0]?.startupProbe).toEqual(startup);
    expect(out.changed).toBe(changed);
    expect(out.notes).toHaveLength(changed ? 1 : 0);
    expect(out.warnings).toHaveLength(warnings);
    expectIdempotent(startupProbeMutator, out.spec, pol());
  });

  it('every probe it writes covers the budget: initialDelay + failureThreshold × period >= minimum', () => {
    for (const min of [1, 9, 10, 11, 299, 300, 901, 3600]) {
      for (const probes of [{ readinessProbe: ready }, { startupProbe: { ...live, periodSeconds: 7, initialDelaySeconds: 13 } }]) {
        const p = runMutator(startupProbeMutator, withProbes(probes), budget(min)).spec.containers[0]?.startupProbe;
        const got = (p?.initialDelaySeconds ?? 0) + (p?.failureThreshold ?? 3) * (p?.periodSeconds ?? 10);
        expect(got, `min ${min}, ${JSON.stringify(probes)}`).toBeGreaterThanOrEqual(min);
      }
    }
  });

  it('the warning names the container and the fix', () => {
    const out = runMutator(startupProbeMutator, podSpec({ containers: [gpuContainer({ name: 'vllm' })] }), budget(600));
    expect(out.warnings).toEqual([expect.objectContaining({ ruleId: 'startup-probe', advisory: true, path: 'spec.containers[0]' })]);
    expect(out.warnings[0]?.message).toContain('"vllm"');
    expect(out.warnings[0]?.fix).toContain('readinessProbe');
  });

  it('only touches accelerator containers, not a CPU sidecar with probes', () => {
    const spec = podSpec({ containers: [cpuContainer({ name: 'proxy', readinessProbe: ready }), gpuContainer({ readinessProbe: ready })] });
    const out = runMutator(startupProbeMutator, spec, budget(600));
    expect(out.spec.containers[0]?.startupProbe).toBeUndefined();
    expect(out.spec.containers[1]?.startupProbe).toEqual(derived(ready, 60));
  });

  it('the derived probe does not share objects with the probe it came from', () => {
    const out = runMutator(startupProbeMutator, withProbes({ readinessProbe: ready }), budget(600));
    const c = out.spec.containers[0];
    expect(c?.startupProbe?.httpGet).toEqual(c?.readinessProbe?.httpGet);
    expect(c?.startupProbe?.httpGet).not.toBe(c?.readinessProbe?.httpGet);
  });

  it('patches an existing probe field by field and adds a new probe whole', () => {
    const raise = mutatePod(analysisOf(withProbes({ startupProbe: { ...live, failureThreshold: 3 } }), budget(600)));
    expect(raise.patch).toEqual([{ op: 'replace', path: '/spec/containers/0/startupProbe/failureThreshold', value: 60 }]);
    const add = mutatePod(analysisOf(withProbes({ readinessProbe: ready }), budget(600)));
    expect(add.patch).toEqual([{ op: 'add', path: '/spec/containers/0/startupProbe', value: derived(ready, 60) }]);
  });
});
