/**
 * The project's own GPU workload manifests (test/fixtures/manifests, written in the shapes the
 * ecosystem documents) admitted as the API server would, plus broken variants of each.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { PUBLIC_DIR, shippedEngine } from '../support/app.js';
import { admit, requestFor } from '../support/corpus.js';
import { describeDraSpecifics, describeManifests, describeTemplateSpecifics, workloads } from '../support/manifest-suite.js';

/** What the shipped policies say of each manifest in the `research` namespace. */
const EXPECTED: Record<string, string> = {
  'aks-tf-mnist-job.yaml': 'warned: pool-tolerations',
  'amd-gpu-pod.yaml': 'allowed',
  'clustertrainingruntime.yaml': 'warned: pool-tolerations',
  'cronjob-nightly-eval.yaml': 'allowed',
  'device-plugin-test-pod.yaml': 'allowed',
  'dra-claim-template-pod.yaml': 'allowed',
  'gaudi-deployment.yaml': 'allowed',
  'gke-kueue-l4-finetune-job.yaml': 'warned: pool-tolerations',
  'gke-vllm-a100-deployment.yaml': 'warned: pool-tolerations',
  'intel-gpu-job.yaml': 'denied: pool-selection',
  'jobset-tpu-multislice.yaml': 'warned: pool-tolerations',
  'kserve-isvc-hf.yaml': 'warned: pool-tolerations',
  'kserve-llmisvc.yaml': 'warned: pool-tolerations,startup-budget',
  'kueue-provisioning-job.yaml': 'allowed',
  'leaderworkerset-requests-only.yaml': 'denied: accelerator-limits',
  'leaderworkerset-vllm.yaml': 'warned: pool-tolerations',
  'mig-pod.yaml': 'allowed',
  'neuron-deployment.yaml': 'denied: pool-selection',
  'pytorchjob-ddp.yaml': 'warned: pool-tolerations',
  'raycluster-gpu-workers.yaml': 'allowed',
  'rayjob-t4-head.yaml': 'warned: pool-tolerations',
  'statefulset-triton-probes.yaml': 'allowed',
  'timeslicing-shared-gpu-deployment.yaml': 'denied: pool-selection',
  'tpu-v6e-pod.yaml': 'allowed',
  'vllm-deployment-probes.yaml': 'warned: pool-tolerations',
  'volcano-job.yaml': 'warned: pool-tolerations',
};

describe('fixture manifests', () => {
  describeManifests(PUBLIC_DIR, EXPECTED);
});

describe('fixture specifics', () => {
  let shipped: Engine;
  beforeAll(async () => {
    shipped = await shippedEngine();
  });

  describeTemplateSpecifics(PUBLIC_DIR, { deployment: 'gke-vllm-a100-deployment.yaml', pytorchJob: 'pytorchjob-ddp.yaml' });

  it('a PyTorchJob judges the Worker replicas on their own (they carry the memory limit)', () => {
    const [job] = workloads('pytorchjob-ddp.yaml');
    const v = admit(shipped, requestFor(job!, 'inference')).validated;
    expect(v.denials.map((f) => f.path).filter((p) => p.startsWith('spec.pytorchReplicaSpecs.Worker.') && p.endsWith('limits.memory'))).toEqual([]);
  });

  it('KServe model containers are checked at spec.predictor.model', () => {
    const [isvc] = workloads('kserve-isvc-hf.yaml');
    const broken = structuredClone(isvc!) as unknown as { spec: { predictor: { model: { resources: { limits: Record<string, string> } } } } };
    broken.spec.predictor.model.resources.limits['nvidia.com/gpu'] = '0.5';
    const v = admit(shipped, requestFor(broken as never, 'research')).validated;
    expect(v.denials.map((f) => f.path)).toContain('spec.predictor.model.resources.limits[nvidia.com/gpu]');
  });

  describeDraSpecifics(PUBLIC_DIR, 'dra-claim-template-pod.yaml', 'paired-gpu');

  it('a renamed time-sliced resource no pool offers is denied by pool selection, not allowed by accident', () => {
    const [deployment] = workloads('timeslicing-shared-gpu-deployment.yaml');
    const v = admit(shipped, requestFor(deployment!, 'research')).validated;
    expect(v.denials.map((f) => f.ruleId)).toContain('pool-selection');
  });
});
