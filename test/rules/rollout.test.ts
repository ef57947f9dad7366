/**
 * rollout-progress-deadline and rollout-strategy: whole-object rules on the WorkloadAnalysis the
 * real engine builds, and the engine's CREATE / UPDATE verdicts.
 */
import { describe, expect, it } from 'vitest';
import type { WorkloadRule } from '../../src/engine/types.js';
import type { NamespacePolicyDoc } from '../../src/policy/normalize.js';
import { rolloutProgressDeadline } from '../../src/rules/rollout-progress-deadline.js';
import { rolloutStrategy } from '../../src/rules/rollout-strategy.js';
import { gpuContainer, policy } from '../support/fixtures.js';
import { engineOf, type KindName, ON_L4, request, workload, workloadAnalysis } from '../support/workload.js';
import { expectOne, expectPass, expectSkip, failures } from './helpers.js';

type Rollout = NonNullable<NamespacePolicyDoc['spec']>['rollout'];
type Json = Record<string, unknown>;

/** The object as an operator creates it: a controller ownerReference. */
const managed = (o: Json): Json => ({ ...o, metadata: { ...(o['metadata'] as Json), ownerReferences: [{ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', name: 'llm', uid: 'u1', controller: true }] } });
const pol = (rollout: Rollout, extra: NamespacePolicyDoc['spec'] = {}) => policy({ rollout, ...extra }, 'serving');
const run = (rule: WorkloadRule, rollout: Rollout, object: Json, extra: NamespacePolicyDoc['spec'] = {}) => rule.check(workloadAnalysis(pol(rollout, extra), object));

const probed = (failureThreshold: number, periodSeconds = 10) => ({
  pod: { ...ON_L4, containers: [gpuContainer({ startupProbe: { httpGet: { path: '/health', port: 8000 }, failureThreshold, periodSeconds } })] },
});

describe('rollout-progress-deadline', () => {
  const rule = rolloutProgressDeadline;

  it.each<[string, Rollout, Json, NamespacePolicyDoc['spec']?]>([
    ['auto with no start-up budget: the API default 600 s is enough', { progressDeadlineSeconds: 'auto' }, workload('Deployment')],
    ['a number, met exactly', { progressDeadlineSeconds: 1200 }, workload('Deployment', { progressDeadlineSeconds: 1200 })],
    ['auto: policy budget 900 s + margin 300 s, set higher', { progressDeadlineSeconds: 'auto' }, workload('Deployment', { progressDeadlineSeconds: 1500 }), { startupProbe: { minBudgetSeconds: 900 } }],
    ['auto with a smaller margin, met by the default', { progressDeadlineSeconds: 'auto', marginSeconds: 60 }, workload('Deployment'), { startupProbe: { minBudgetSeconds: 500 } }],
  ])('allows %s', (_n, rollout, object, extra) => {
    expectPass(run(rule, rollout, object, extra));
  });

  it('denies the API default below a number, naming the field, the numbers, the fix and the policy', () => {
    expectOne(failures(run(rule, { progressDeadlineSeconds: 1200 }, workload('Deployment'))), {
      ruleId: 'rollout-progress-deadline', path: 'spec.progressDeadlineSeconds',
      message: ['is 600 (the API default)', 'at least 1200', 'policy serving'], fix: ['spec.progressDeadlineSeconds: 1200'],
    });
  });

  it('auto: the policy start-up budget plus the margin', () => {
    expectOne(failures(run(rule, { progressDeadlineSeconds: 'auto' }, workload('Deployment', { progressDeadlineSeconds: 900 }), { startupProbe: { minBudgetSeconds: 900 } })), {
      ruleId: 'rollout-progress-deadline', path: 'spec.progressDeadlineSeconds',
      message: ['is 900', 'at least 1200', 'start-up budget 15m + margin 5m'], fix: ['1200'],
    });
  });

  it('auto: a container startupProbe longer than the policy budget counts', () => {
    expectOne(failures(run(rule, { progressDeadlineSeconds: 'auto' }, workload('Deployment', { progressDeadlineSeconds: 1200 }, probed(180)), { startupProbe: { minBudgetSeconds: 900 } })), {
      ruleId: 'rollout-progress-deadline', path: 'spec.progressDeadlineSeconds', message: ['at least 2100', 'start-up budget 30m'], fix: ['2100'],
    });
  });

  it('stays above minReadySeconds, as the API requires', () => {
    expectOne(failures(run(rule, { progressDeadlineSeconds: 600 }, workload('Deployment', { minReadySeconds: 700, progressDeadlineSeconds: 700 }))), {
      ruleId: 'rollout-progress-deadline', path: 'spec.progressDeadlineSeconds', message: ['at least 701', 'minReadySeconds 700'], fix: ['701'],
    });
  });

  it.each<[string, Rollout, Json, Rollout, Json, string]>([
    ['the policy sets no minimum', {}, workload('Deployment'), { progressDeadlineSeconds: 1200 }, workload('Deployment'), 'no rollout.progressDeadlineSeconds'],
    ['a StatefulSet (no such field)', { progressDeadlineSeconds: 1200 }, workload('StatefulSet'), { progressDeadlineSeconds: 1200 }, workload('Deployment'), 'only a Deployment'],
    ['a LeaderWorkerSet (no such field)', { progressDeadlineSeconds: 1200 }, workload('LeaderWorkerSet'), { progressDeadlineSeconds: 1200 }, workload('Deployment'), 'only a Deployment'],
    ['a CPU-only Deployment', { progressDeadlineSeconds: 1200 }, workload('Deployment', {}, { gpu: false }), { progressDeadlineSeconds: 1200 }, workload('Deployment'), 'no Pod template requests an accelerator'],
    ['a Deployment an operator manages (KServe predictor)', { progressDeadlineSeconds: 1200 }, managed(workload('Deployment')), { progressDeadlineSeconds: 1200 }, workload('Deployment'), 'managed by its controller InferenceService llm'],
  ])('skips %s (and fails without that reason)', (_n, rollout, object, twinRollout, twin, reason) => {
    expectSkip(run(rule, rollout, object), reason);
    expect(run(rule, twinRollout, twin).status).toBe('fail');
  });
});

describe('rollout-strategy', () => {
  const rule = rolloutStrategy;
  const surge = { surgeOnly: 'enforce' } as const;

  it.each<[string, Rollout, Json]>([
    ['maxUnavailable 0', surge, workload('Deployment', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } })],
    ['"0%"', surge, workload('Deployment', { strategy: { rollingUpdate: { maxUnavailable: '0%' } } })],
    ['the default 25% of 3 replicas (rounds down to 0)', surge, workload('Deployment', { replicas: 3 })],
    ['Recreate when only surgeOnly is on (surge-only judges rolling updates)', surge, workload('Deployment', { strategy: { type: 'Recreate' } })],
    ['a LeaderWorkerSet with maxUnavailable 0 and maxSurge 1', surge, workload('LeaderWorkerSet', { rolloutStrategy: { type: 'RollingUpdate', rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: 1 } } })],
    ['a LeaderWorkerSet with 40% of 2 groups (rounds down to 0)', surge, workload('LeaderWorkerSet', { rolloutStrategy: { rollingUpdateConfiguration: { maxUnavailable: '40%', maxSurge: 1 } } })],
    ['RollingUpdate when recreate is enforced', { recreate: 'enforce' }, workload('Deployment')],
    ['minReadySeconds met', { minReadySeconds: 30 }, workload('Deployment', { minReadySeconds: 30 })],
    ['a StatefulSet above minReadySeconds', { minReadySeconds: 30 }, workload('StatefulSet', { minReadySeconds: 60 })],
  ])('allows %s', (_n, rollout, object) => {
    expectPass(run(rule, rollout, object));
  });

  it.each<[string, Rollout, Json, string, string[], string[], boolean?]>([
    ['the default 25% of 4 replicas', surge, workload('Deployment'), 'spec.strategy.rollingUpdate.maxUnavailable', ['"25%" (the API default)', 'wants 0', 'policy serving', 'rollout.surgeOnly'], ['maxUnavailable: 0', 'spare accelerator capacity']],
    ['maxUnavailable 1', surge, workload('Deployment', { strategy: { rollingUpdate: { maxUnavailable: 1 } } }), 'spec.strategy.rollingUpdate.maxUnavailable', ['is 1'], ['maxUnavailable: 0']],
    ['25% of 3 with maxSurge 0 (the controller then takes one down)', surge, workload('Deployment', { replicas: 3, strategy: { rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } } }), 'spec.strategy.rollingUpdate.maxUnavailable', ['"25%" with maxSurge 0'], ['maxSurge: 1']],
    ['surgeOnly warn: advisory', { surgeOnly: 'warn' }, workload('Deployment'), 'spec.strategy.rollingUpdate.maxUnavailable', ['wants 0'], [], true],
    ['a LeaderWorkerSet by default (1 group)', surge, workload('LeaderWorkerSet'), 'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable', ['1 (the API default)', 'groups'], ['maxUnavailable: 0', 'maxSurge: 1']],
    ['a LeaderWorkerSet with 50% of 2 groups', surge, workload('LeaderWorkerSet', { rolloutStrategy: { rollingUpdateConfiguration: { maxUnavailable: '50%', maxSurge: 1 } } }), 'spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable', ['"50%"'], ['maxUnavailable: 0']],
    ['Recreate', { recreate: 'enforce' }, workload('Deployment', { strategy: { type: 'Recreate' } }), 'spec.strategy.type', ['Recreate', 'policy serving'], ['RollingUpdate']],
    ['Recreate, warned', { recreate: 'warn' }, workload('Deployment', { strategy: { type: 'Recreate' } }), 'spec.strategy.type', ['Recreate'], ['RollingUpdate'], true],
    ['minReadySeconds unset', { minReadySeconds: 30 }, workload('Deployment'), 'spec.minReadySeconds', ['is 0', 'at least 30'], ['spec.minReadySeconds: 30']],
    ['a StatefulSet below minReadySeconds', { minReadySeconds: 30 }, workload('StatefulSet', { minReadySeconds: 10 }), 'spec.minReadySeconds', ['is 10'], ['30']],
  ])('denies %s', (_n, rollout, object, path, message, fix, advisory) => {
    const f = expectOne(failures(run(rule, rollout, object)), { ruleId: 'rollout-strategy', path, message, fix });
    expect(f.advisory === true).toBe(advisory === true);
  });

  it.each<[string, Rollout, KindName, Json, Rollout, KindName, string, { gpu?: boolean }?]>([
    ['a Job', surge, 'Job', {}, surge, 'Deployment', 'not a Deployment, StatefulSet or LeaderWorkerSet'],
    ['a CPU-only Deployment', surge, 'Deployment', {}, surge, 'Deployment', 'no Pod template requests an accelerator', { gpu: false }],
    ['a Deployment with every rollout check off', {}, 'Deployment', {}, surge, 'Deployment', 'are off'],
    ['a LeaderWorkerSet with surgeOnly off (minReadySeconds does not exist there)', { minReadySeconds: 30 }, 'LeaderWorkerSet', {}, surge, 'LeaderWorkerSet', 'no minReadySeconds'],
    ['a StatefulSet under surgeOnly (it cannot surge)', surge, 'StatefulSet', {}, { ...surge, minReadySeconds: 30 }, 'StatefulSet', 'cannot surge'],
  ])('skips %s (and fails without that reason)', (_n, rollout, kind, spec, twinRollout, twinKind, reason, opts) => {
    expectSkip(run(rule, rollout, workload(kind, spec, opts)), reason);
    expect(run(rule, twinRollout, workload(twinKind, spec)).status).toBe('fail');
  });

  it('skips a Deployment an operator manages (its operator rewrites the strategy), and fails its unmanaged twin', () => {
    expectSkip(run(rule, surge, managed(workload('Deployment'))), 'managed by its controller InferenceService llm');
    expect(run(rule, surge, workload('Deployment')).status).toBe('fail');
    // ownerReferences of the wrong type are ignored, never a crash.
    expect(run(rule, surge, { ...workload('Deployment'), metadata: { name: 'x', ownerReferences: 'bogus' } }).status).toBe('fail');
  });
});

describe('rollout rules in the engine', () => {
  const p = pol({ progressDeadlineSeconds: 1200, surgeOnly: 'enforce' }, { mutations: { rollout: false } });
  const good = () => workload('Deployment', { progressDeadlineSeconds: 1200, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });

  it('denies a CREATE with both problems, and admits the fixed object', () => {
    const v = engineOf(p).validate(request(workload('Deployment')));
    expect(v.denials.map((f) => [f.ruleId, f.path])).toEqual([
      ['rollout-progress-deadline', 'spec.progressDeadlineSeconds'],
      ['rollout-strategy', 'spec.strategy.rollingUpdate.maxUnavailable'],
    ]);
    expect(engineOf(p).validate(request(good())).denials).toEqual([]);
  });

  it('an UPDATE lowering progressDeadlineSeconds of an existing Deployment is caught', () => {
    const lowered = good();
    (lowered['spec'] as Json)['progressDeadlineSeconds'] = 600;
    const v = engineOf(p).validate(request(lowered, 'UPDATE', good()));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['rollout-progress-deadline']);
  });

  it('an unrelated UPDATE of an already-bad Deployment is not newly denied', () => {
    const old = workload('Deployment');
    const relabelled = workload('Deployment');
    (relabelled['metadata'] as Json)['labels'] = { version: 'v2' };
    const v = engineOf(p).validate(request(relabelled, 'UPDATE', old));
    expect(v.denials).toEqual([]);
  });
});
