/**
 * Kubeflow Trainer TrainJob: the runtime carries the Pod templates, tolerations and selection, so
 * only `spec.trainer.resourcesPerNode` is judged on the TrainJob itself (the accelerator request:
 * allowed resources, quantities, the per-Pod maximum), and never patched.
 */
import { describe, expect, it } from 'vitest';
import { engine, policy } from '../support/fixtures.js';

const PATH = 'spec.trainer.resourcesPerNode';

function trainJob(resourcesPerNode: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { name: 'llama-finetune', namespace: 'team' },
    spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { numNodes: 2, image: 'ghcr.io/example/trainer:1.0', resourcesPerNode, ...extra } },
  };
}

const request = (object: Record<string, unknown>) => ({ kind: { group: 'trainer.kubeflow.org', kind: 'TrainJob' }, operation: 'CREATE' as const, namespace: 'team', name: 'llama-finetune', object });

describe('TrainJob resourcesPerNode', () => {
  it.each<[string, unknown, ReturnType<typeof policy>]>([
    ['whole GPUs by limit only (templates are not defaulted)', { limits: { 'nvidia.com/gpu': '4', cpu: '16', memory: '128Gi' } }, policy()],
    ['equal request and limit', { requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } }, policy()],
    ['CPU only in a namespace without accelerators', { limits: { cpu: '8' } }, policy({ accelerators: { allowed: false } })],
    ['up to the namespace maximum', { limits: { 'nvidia.com/gpu': '4' } }, policy({ accelerators: { maxPerPod: 4 } })],
  ])('allows %s', (_n, res, pol) => {
    const v = engine([pol]).validate(request(trainJob(res)));
    expect(v.denials).toEqual([]);
  });

  it.each<[string, unknown, ReturnType<typeof policy>, string, string]>([
    ['a fractional GPU', { limits: { 'nvidia.com/gpu': '0.5' } }, policy(), 'accelerator-limits', `${PATH}.limits[nvidia.com/gpu]`],
    ['a request above the limit', { requests: { 'nvidia.com/gpu': '4' }, limits: { 'nvidia.com/gpu': '2' } }, policy(), 'accelerator-limits', `${PATH}.requests[nvidia.com/gpu]`],
    ['a request without a limit', { requests: { 'nvidia.com/gpu': '1' } }, policy(), 'accelerator-limits', `${PATH}.limits[nvidia.com/gpu]`],
    ['GPUs where the namespace allows none', { limits: { 'nvidia.com/gpu': '1' } }, policy({ accelerators: { allowed: false } }), 'accelerator-allowed', `${PATH}.limits[nvidia.com/gpu]`],
    ['more than the namespace maximum per Pod', { limits: { 'nvidia.com/gpu': '8' } }, policy({ accelerators: { maxPerPod: 4 } }), 'accelerator-quantity', `${PATH}.limits[nvidia.com/gpu]`],
  ])('denies %s, naming the field', (_n, res, pol, ruleId, path) => {
    const v = engine([pol]).validate(request(trainJob(res)));
    expect(v.denials.map((f) => [f.ruleId, f.path])).toEqual([[ruleId, path]]);
  });

  it('does not judge selection or tolerations on the TrainJob (the runtime carries them): no pool or toleration finding', () => {
    const v = engine([policy({ accelerators: { pools: ['l4'] } })]).validate(request(trainJob({ limits: { 'amd.com/gpu': '1' } })));
    expect(v.denials.map((f) => f.ruleId).filter((r) => ['pool-selection', 'pool-tolerations', 'node-selection'].includes(r))).toEqual([]);
  });

  it('never patches the TrainJob', () => {
    const v = engine([policy({ mutations: { templates: true } })]).mutate(request(trainJob({ limits: { 'nvidia.com/gpu': '1' } })));
    expect(v.patch).toEqual([]);
  });

  it('skips a TrainJob without resourcesPerNode (nothing to judge here)', () => {
    const v = engine().validate(request(trainJob(undefined)));
    expect(v.skipped).toContain('carries no Pod spec');
  });
});
