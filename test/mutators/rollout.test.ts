/**
 * The rollout workload mutator, through the real engine: the patch applied as the API server
 * applies it, a second /mutate on the result patching nothing, and /validate on it finding nothing.
 */
import { describe, expect, it } from 'vitest';
import type { NamespacePolicyDoc } from '../../src/policy/normalize.js';
import { gpuContainer, policy } from '../support/fixtures.js';
import { engineOf, type KindName, mutated, ON_L4, request, workload } from '../support/workload.js';

type Rollout = NonNullable<NamespacePolicyDoc['spec']>['rollout'];
type Json = Record<string, unknown>;

const pol = (rollout: Rollout, extra: NamespacePolicyDoc['spec'] = {}) => policy({ rollout, ...extra }, 'serving');

/** The Deployment as the API server hands it to webhooks: apps/v1 defaults filled in. */
const defaulted = (spec: Json = {}) => workload('Deployment', {
  progressDeadlineSeconds: 600, revisionHistoryLimit: 10,
  strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, ...spec,
});

const spec = (o: Json) => o['spec'] as Json;

/** Mutates, checks idempotence and that validation of the result finds nothing of the rollout rules. */
function mutateOnce(p: ReturnType<typeof pol>, object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE') {
  const first = mutated(p, object, operation, operation === 'UPDATE' ? object : undefined);
  const again = engineOf(p).mutate(request(first.object, operation, operation === 'UPDATE' ? first.object : undefined));
  expect(again.patch, 'a second /mutate patches nothing').toEqual([]);
  const v = engineOf(p).validate(request(first.object));
  expect([...v.denials, ...v.warnings].filter((f) => f.ruleId.startsWith('rollout'))).toEqual([]);
  return first;
}

describe('rollout mutator', () => {
  it('raises the defaulted progressDeadlineSeconds to the start-up budget + margin (auto)', () => {
    const { verdict, object } = mutateOnce(pol({ progressDeadlineSeconds: 'auto' }, { startupProbe: { minBudgetSeconds: 900 } }), defaulted());
    expect(spec(object)['progressDeadlineSeconds']).toBe(1200);
    expect(verdict.notes.filter((n) => n.mutator === 'rollout')).toEqual([
      { mutator: 'rollout', path: 'spec.progressDeadlineSeconds', description: expect.stringContaining('from 600 to 1200') },
    ]);
  });

  it('adds progressDeadlineSeconds when absent and the default is below a number', () => {
    const { object } = mutateOnce(pol({ progressDeadlineSeconds: 1800 }), workload('Deployment'));
    expect(spec(object)['progressDeadlineSeconds']).toBe(1800);
  });

  it('auto counts the startupProbe the startup-probe mutator writes into the template (whole periods)', () => {
    const p = pol({ progressDeadlineSeconds: 'auto' }, { startupProbe: { minBudgetSeconds: 1005 }, mutations: { templates: true } });
    const pod = { ...ON_L4, containers: [gpuContainer({ readinessProbe: { httpGet: { path: '/health', port: 8000 } } })] };
    const { object } = mutateOnce(p, workload('Deployment', {}, { pod }));
    // failureThreshold ceil(1005 / 10) = 101 -> 1010 s, + 300 s margin.
    expect(spec(object)['progressDeadlineSeconds']).toBe(1310);
  });

  it('sets maxUnavailable 0 and keeps a non-zero maxSurge', () => {
    const { verdict, object } = mutateOnce(pol({ surgeOnly: 'enforce' }), defaulted());
    expect(spec(object)['strategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    expect(verdict.notes.map((n) => n.path)).toEqual(['spec.strategy.rollingUpdate.maxUnavailable']);
  });

  it('sets maxSurge 1 where it is 0 (the API refuses both 0)', () => {
    const { object } = mutateOnce(pol({ surgeOnly: 'warn' }), defaulted({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '0%' } } }));
    expect(spec(object)['strategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it('a LeaderWorkerSet gets maxUnavailable 0 and maxSurge 1 (its default maxSurge is 0), parents created', () => {
    const { verdict, object } = mutateOnce(pol({ surgeOnly: 'enforce', minReadySeconds: 30, progressDeadlineSeconds: 1200 }), workload('LeaderWorkerSet'));
    expect(spec(object)['rolloutStrategy']).toEqual({ rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec(object)['minReadySeconds']).toBeUndefined();
    expect(spec(object)['progressDeadlineSeconds']).toBeUndefined();
    expect(verdict.notes.map((n) => n.path)).toEqual(['spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable', 'spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge']);
  });

  it('raises minReadySeconds and keeps progressDeadlineSeconds above it', () => {
    const { object } = mutateOnce(pol({ minReadySeconds: 900, progressDeadlineSeconds: 'auto' }), defaulted());
    expect(spec(object)['minReadySeconds']).toBe(900);
    expect(spec(object)['progressDeadlineSeconds']).toBe(901);
  });

  it('a StatefulSet gets minReadySeconds only', () => {
    const { object, verdict } = mutateOnce(pol({ minReadySeconds: 60, surgeOnly: 'enforce', progressDeadlineSeconds: 1200 }), workload('StatefulSet'));
    expect(spec(object)['minReadySeconds']).toBe(60);
    expect(verdict.notes.map((n) => n.path)).toEqual(['spec.minReadySeconds']);
  });

  it('never turns Recreate into RollingUpdate: it warns', () => {
    const { verdict, object } = mutateOnce(pol({ surgeOnly: 'enforce' }), defaulted({ strategy: { type: 'Recreate' } }));
    expect(spec(object)['strategy']).toEqual({ type: 'Recreate' });
    expect(verdict.warnings.map((f) => [f.ruleId, f.path, f.advisory])).toEqual([['rollout', 'spec.strategy.type', true]]);
  });

  it('mutates on UPDATE too (a lowered deadline is raised again)', () => {
    const { object } = mutateOnce(pol({ progressDeadlineSeconds: 1200 }), defaulted({ progressDeadlineSeconds: 700 }), 'UPDATE');
    expect(spec(object)['progressDeadlineSeconds']).toBe(1200);
  });

  it.each<[string, Rollout, KindName, Json, { gpu?: boolean }, NamespacePolicyDoc['spec']?]>([
    ['a CPU-only Deployment', { progressDeadlineSeconds: 1200, surgeOnly: 'enforce' }, 'Deployment', {}, { gpu: false }],
    ['a Job', { progressDeadlineSeconds: 1200, surgeOnly: 'enforce', minReadySeconds: 30 }, 'Job', {}, {}],
    ['mutations.rollout: false', { progressDeadlineSeconds: 1200, surgeOnly: 'enforce' }, 'Deployment', {}, {}, { mutations: { rollout: false } }],
    ['every rollout setting off', {}, 'Deployment', {}, {}],
    ['a Deployment that already complies', { progressDeadlineSeconds: 1200, surgeOnly: 'enforce', minReadySeconds: 30 }, 'Deployment',
      { progressDeadlineSeconds: 1300, minReadySeconds: 60, strategy: { rollingUpdate: { maxUnavailable: '0%', maxSurge: 1 } } }, {}],
  ])('leaves alone %s', (_n, rollout, kind, s, opts, extra) => {
    const v = engineOf(pol(rollout, extra)).mutate(request(workload(kind, s, opts)));
    expect(v.patch).toEqual([]);
    expect(v.notes.filter((n) => n.mutator === 'rollout')).toEqual([]);
  });

  it('leaves alone a Deployment an operator manages (a patch would fight its reconcile), and patches its unmanaged twin', () => {
    const p = pol({ progressDeadlineSeconds: 1200, surgeOnly: 'enforce' });
    const object = workload('Deployment');
    const managed = { ...object, metadata: { ...(object['metadata'] as Json), ownerReferences: [{ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', name: 'llm', uid: 'u1', controller: true }] } };
    expect(engineOf(p).mutate(request(managed)).notes.filter((n) => n.mutator === 'rollout')).toEqual([]);
    expect(engineOf(p).mutate(request(object)).notes.filter((n) => n.mutator === 'rollout')).not.toEqual([]);
  });

  it('and patches the twin of "a CPU-only Deployment" with a GPU', () => {
    expect(engineOf(pol({ progressDeadlineSeconds: 1200 })).mutate(request(workload('Deployment'))).patch).not.toEqual([]);
  });
});
