import type { V1PodSpec, V1Probe } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { startupBudget as rule } from '../../src/rules/startup-budget.js';
import { analysisOf, cpuContainer, gpuContainer, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures } from './helpers.js';

const ID = 'startup-budget';
const tenMinutes = (): NamespacePolicy => policy({ startupProbe: { minBudgetSeconds: 600 } });
const http = (o: Partial<V1Probe> = {}): V1Probe => ({ httpGet: { path: '/health', port: 8000 }, ...o });
const probes = (livenessProbe?: V1Probe, startupProbe?: V1Probe): V1PodSpec => ({ containers: [gpuContainer({ livenessProbe, startupProbe })] });

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['a startupProbe of exactly 10m (60 × 10s)', probes(http(), http({ failureThreshold: 60, periodSeconds: 10 }))],
    ['a startupProbe over 10m', probes(http(), http({ failureThreshold: 30, periodSeconds: 30 }))],
    ['a startupProbe with a long initial delay', probes(http(), http({ initialDelaySeconds: 570 }))],
    ['a liveness probe alone with a long initial delay', probes(http({ initialDelaySeconds: 600 }))],
    ['a liveness probe alone that tolerates 10m of failures', probes(http({ failureThreshold: 20, periodSeconds: 30 }))],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec, tenMinutes())));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec, NamespacePolicy]>([
    ['a policy without a start-up budget', probes(http()), policy(), probes(http()), tenMinutes()],
    ['a CPU Pod with a short liveness probe', { containers: [cpuContainer({ livenessProbe: http() })] }, tenMinutes(), { containers: [gpuContainer({ livenessProbe: http() })] }, tenMinutes()],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, pol, twin, twinPol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(twin, twinPol));
  });

  it('passes a CPU sidecar with a short liveness probe next to a GPU container (only accelerator containers count)', () => {
    expectPass(rule.check(analysisOf({ containers: [gpuContainer(), cpuContainer({ name: 'proxy', livenessProbe: http() })] }, tenMinutes())));
  });

  it.each<[string, V1PodSpec, string, string]>([
    ['a default liveness probe (3 × 10s)', probes(http()), 'livenessProbe', '30s'],
    ['a liveness probe with a 2m initial delay', probes(http({ initialDelaySeconds: 120 })), 'livenessProbe', '150s'],
    ['a short startupProbe (30 × 10s)', probes(http(), http({ failureThreshold: 30 })), 'startupProbe', '5m'],
    ['a short startupProbe without a liveness probe (it restarts the container too)', probes(undefined, http({ failureThreshold: 1 })), 'startupProbe', '10s'],
    ['a startupProbe just under (59 × 10s)', probes(http(), http({ failureThreshold: 59, periodSeconds: 10 })), 'startupProbe', '590s'],
  ])('warns about %s', (_n, spec, which, budget) => {
    const f = expectOne(failures(rule.check(analysisOf(spec, tenMinutes()))), {
      ruleId: ID,
      path: `spec.containers[0].${which}`,
      message: ['container "main"', `gets ${budget} to start`, 'before its liveness probe can kill it', 'policy wants 10m'],
      fix: ['add a startupProbe', 'failureThreshold × periodSeconds >= 600'],
    });
    expect(f.advisory).toBe(true);
  });

  it('names each GPU container at its own index', () => {
    const spec: V1PodSpec = { containers: [cpuContainer({ name: 'proxy' }), gpuContainer({ name: 'a', livenessProbe: http() }), gpuContainer({ name: 'b', livenessProbe: http() }, '1', 'amd.com/gpu')] };
    expect(failures(rule.check(analysisOf(spec, tenMinutes()))).map((f) => [f.ruleId, f.path])).toEqual([
      [ID, 'spec.containers[1].livenessProbe'],
      [ID, 'spec.containers[2].livenessProbe'],
    ]);
  });
});
