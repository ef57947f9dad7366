/**
 * gang-queue: new multi-Pod accelerator workloads on no gang path get the policy's Kueue queue
 * (kueue.x-k8s.io/queue-name) through the real Engine; a second pass changes nothing and the
 * patched object passes gang-scheduling.
 */
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import type { EngineRequest } from '../../src/engine/engine.js';
import type { NamespacePolicyDoc } from '../../src/policy/normalize.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { gangQueueMutator } from '../../src/mutators/gang-queue.js';
import { cpuContainer, engine, gpuContainer, policy } from '../support/fixtures.js';

type Json = Record<string, unknown>;
type Spec = NonNullable<NamespacePolicyDoc['spec']>;
const LABEL = 'kueue.x-k8s.io/queue-name';

const queued = (gang: Spec['gang'] = {}, extra: Spec = {}): NamespacePolicy => policy({ ...extra, gang: { mode: 'required', defaultQueue: 'gpu-batch', ...gang } });

const pytorch = (workers: number, o: { scheduler?: string; labels?: Record<string, string>; cpu?: boolean } = {}): Json => {
  const template = { spec: { ...(o.scheduler ? { schedulerName: o.scheduler } : {}), containers: [o.cpu ? cpuContainer() : gpuContainer()] } };
  return {
    apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'train', namespace: 'team', ...(o.labels ? { labels: o.labels } : {}) },
    spec: { pytorchReplicaSpecs: { Master: { replicas: 1, template }, Worker: { replicas: workers, template } } },
  };
};
const lws = (size: number): Json => ({
  apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: 'LeaderWorkerSet', metadata: { name: 'serve', namespace: 'team' },
  spec: { replicas: 1, leaderWorkerTemplate: { size, workerTemplate: { spec: { containers: [gpuContainer()] } } } },
});

const request = (object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE'): EngineRequest => {
  const [group] = String(object['apiVersion']).split('/');
  return { kind: { group: group as string, kind: String(object['kind']) }, operation, namespace: 'team', name: 'x', object, ...(operation === 'UPDATE' ? { oldObject: object } : {}) };
};
/** The patch operations on the workload's own metadata (other mutators write Pod templates). */
const own = (object: Json, pol: NamespacePolicy, operation: 'CREATE' | 'UPDATE' = 'CREATE') => {
  const v = engine([pol]).mutate(request(object, operation));
  return { ops: v.patch.filter((op) => op.path.startsWith('/metadata')), notes: v.notes.filter((n) => n.mutator === 'gang-queue') };
};

describe('gang-queue', () => {
  it.each<[string, () => Json, Json]>([
    ['a PyTorchJob without labels (adds the labels map)', () => pytorch(2), { op: 'add', path: '/metadata/labels', value: {} }],
    ['a PyTorchJob with other labels (adds the one key)', () => pytorch(2, { labels: { team: 'a' } }), { op: 'add', path: '/metadata/labels/kueue.x-k8s.io~1queue-name', value: 'gpu-batch' }],
    ['a LeaderWorkerSet of size 2', () => lws(2), { op: 'add', path: '/metadata/labels', value: {} }],
  ])('sets the queue on %s, idempotently, and the result passes the rule', (_n, make, first) => {
    const pol = queued();
    const o = make();
    const { ops, notes } = own(o, pol);
    expect(ops[0]).toEqual(first);
    expect(notes).toEqual([{ mutator: 'gang-queue', path: `metadata.labels["${LABEL}"]`, description: expect.stringContaining('set kueue.x-k8s.io/queue-name to gpu-batch') }]);
    const patched = applyLikeApiServer(o, engine([pol]).mutate(request(o)).patch);
    expect((patched['metadata'] as { labels: Json }).labels[LABEL]).toBe('gpu-batch');
    expect(own(patched, pol).ops).toEqual([]);
    expect(engine([pol]).validate(request(patched)).denials.filter((f) => f.ruleId === 'gang-scheduling')).toEqual([]);
    // Without the mutation, the same object is denied.
    expect(engine([pol]).validate(request(o)).denials.filter((f) => f.ruleId === 'gang-scheduling')).toHaveLength(1);
  });

  it.each<[string, () => Json, NamespacePolicy, ('CREATE' | 'UPDATE')?]>([
    ['an UPDATE (Kueue refuses a queue change on an unsuspended job)', () => pytorch(2), queued(), 'UPDATE'],
    ['a workload that names a queue already', () => pytorch(2, { labels: { [LABEL]: 'other' } }), queued()],
    ['a workload on Volcano (another gang path)', () => pytorch(2, { scheduler: 'volcano' }), queued()],
    ['a workload on Volcano the policy does not list (left to the rule)', () => pytorch(2, { scheduler: 'volcano' }), queued({ paths: ['kueue'] })],
    ['a single-Pod job', () => pytorch(0), queued()],
    ['a CPU-only job', () => pytorch(2, { cpu: true }), queued()],
    ['gang.mode off', () => pytorch(2), queued({ mode: 'off' })],
    ['a policy without a default queue', () => pytorch(2), policy({ gang: { mode: 'required' } })],
    ['gang.paths without kueue', () => pytorch(2), queued({ paths: ['volcano'] })],
    ['mutations.gangQueue false', () => pytorch(2), queued({}, { mutations: { gangQueue: false } })],
  ])('leaves alone %s', (_n, make, pol, op) => {
    expect(own(make(), pol, op)).toEqual({ ops: [], notes: [] });
  });

  it('is enabled only when the policy can use it', () => {
    expect(gangQueueMutator.enabled(queued())).toBe(true);
    expect(gangQueueMutator.enabled(queued({ paths: ['kueue', 'volcano'] }))).toBe(true);
    expect(gangQueueMutator.enabled(queued({ paths: ['kai'] }))).toBe(false);
    expect(gangQueueMutator.enabled(policy())).toBe(false);
  });

  it('an audit-mode policy records the note but patches nothing', () => {
    const v = engine([queued({}, { mode: 'audit' })]).mutate(request(pytorch(2)));
    expect(v.patch.filter((op) => op.path.startsWith('/metadata'))).toEqual([]);
    expect(v.notes.map((n) => n.mutator)).toContain('gang-queue');
  });
});
