/** Placement through the whole engine: mutate, apply the patch, validate; and the ungating UPDATE. */
import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import type { EngineRequest } from '../../src/engine/engine.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { createRequest, engine, gpuToleration, pod, podSpec, policy } from '../support/fixtures.js';

const GKE = 'cloud.google.com/gke-accelerator';
const TYPE = 'node.kubernetes.io/instance-type';
const restricted = (pools: string[], defaultPool: string): NamespacePolicy => policy({ accelerators: { pools, defaultPool } });

function mutateThenValidate(spec: V1PodSpec, pol: NamespacePolicy) {
  const e = engine([pol]);
  const req = createRequest(pod(spec));
  const m = e.mutate(req);
  const patched = applyLikeApiServer(req.object, m.patch) as Record<string, unknown>;
  return { m, v: e.validate({ ...req, object: patched }), patched: patched['spec'] as V1PodSpec };
}

const update = (oldSpec: V1PodSpec, newSpec: V1PodSpec): EngineRequest =>
  ({ ...createRequest(pod(newSpec)), operation: 'UPDATE', oldObject: pod(oldSpec) });

describe('placement through the engine', () => {
  it('regression: a Pod selecting a forbidden pool is denied, never re-pinned to the default pool', () => {
    const { patched, v } = mutateThenValidate(podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } }), restricted(['a100'], 'a100'));
    expect(patched.nodeSelector).toEqual({ [GKE]: 'nvidia-l4' });
    expect(v.denials.map((d) => d.message).join('; ')).toContain('pool l4 may not be used by namespace team');
  });

  it('regression: a Pod selecting L4 is not patched with the GFD label of another pool (no node carries both)', () => {
    const gfd = { name: 'a100-gfd', nodeLabels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const }], resources: ['nvidia.com/gpu'] };
    const l4 = { name: 'l4', nodeLabels: { [GKE]: 'nvidia-l4' }, taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const }], resources: ['nvidia.com/gpu'] };
    const e = engine([restricted(['a100-gfd'], 'a100-gfd')], [gfd, l4]);
    const req = createRequest(pod(podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } })));
    expect(e.mutate(req).patch.filter((op) => op.path.startsWith('/spec/nodeSelector'))).toEqual([]);
    expect(e.validate(req).denials.map((d) => d.message).join('; ')).toContain('pool l4 may not be used');
  });

  it('regression: an instance-type selection is not patched with the default pool label (offline), and says so', () => {
    const { m, patched, v } = mutateThenValidate(podSpec({ nodeSelector: { [TYPE]: 'g5.8xlarge' } }), restricted(['l4', 'a100'], 'l4'));
    expect(patched.nodeSelector).toEqual({ [TYPE]: 'g5.8xlarge' });
    expect(patched.tolerations).toContainEqual(gpuToleration());
    expect(m.warnings.map((w) => w.message).join('; ')).toContain('no pool was pinned');
    expect(v.denials).toEqual([]);
  });

  it('validate alone denies what the mutation would have narrowed; after the mutation it allows', () => {
    const spec = podSpec({ tolerations: [gpuToleration()] });
    const e = engine([restricted(['l4'], 'l4')]);
    expect(e.validate(createRequest(pod(spec))).denials.map((d) => d.ruleId)).toContain('pool-selection');
    const { patched, v } = mutateThenValidate(spec, restricted(['l4'], 'l4'));
    expect(patched.nodeSelector).toEqual({ [GKE]: 'nvidia-l4' });
    expect(v.denials).toEqual([]);
  });

  it('narrows In [allowed, forbidden] to the allowed pool', () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-l4', 'nvidia-a100-80gb'] }] }] } } };
    const { patched, v } = mutateThenValidate(podSpec({ affinity }), restricted(['l4'], 'l4'));
    expect(patched.nodeSelector).toEqual({ [GKE]: 'nvidia-l4' });
    expect(v.denials).toEqual([]);
  });

  // Regression: a gated Pod that tolerates every taint and selects a forbidden pool, then ungated.
  const gatedSpec = (gated: boolean): V1PodSpec => podSpec({
    nodeSelector: { [GKE]: 'nvidia-l4' }, tolerations: [{ operator: 'Exists' }],
    ...(gated ? { schedulingGates: [{ name: 'example.com/queue' }] } : {}),
  });

  it('allows creating the gated Pod (the queue may still select), and denies the UPDATE that removes the last gate', () => {
    const e = engine([restricted(['a100'], 'a100')]);
    expect(e.validate(createRequest(pod(gatedSpec(true)))).denials.filter((d) => d.ruleId === 'pool-selection')).toEqual([]);
    const v = e.validate(update(gatedSpec(true), gatedSpec(false)));
    expect(v.denials.map((d) => d.ruleId)).toContain('pool-selection');
  });

  it('twin: an UPDATE of an ungated Pod counts only the findings it introduced', () => {
    const e = engine([restricted(['a100'], 'a100')]);
    expect(e.validate(update(gatedSpec(false), gatedSpec(false))).denials).toEqual([]);
  });
});
