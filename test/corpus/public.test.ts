/**
 * The public GPU manifests of the external corpus (../shared/corpus/public, optional: see
 * run.mjs), admitted as the API server would (mutate, apply the patch, validate), plus broken
 * variants of each: every variant must be denied at the path of the Pod spec it broke.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { POLICIES_DIR, shippedEngine } from '../support/app.js';
import { admit, type K8sObject, requestFor } from '../support/corpus.js';
import { describeDraSpecifics, describeManifests, describeTemplateSpecifics, workloads as manifestWorkloads } from '../support/manifest-suite.js';
import { PUBLIC_CORPUS } from './paths.js';

/** What the shipped policies say of each real manifest in the `research` namespace. */
// image-pull: samples whose accelerator image has no tag or `:latest` are warned (advisory, never a
// denial): such an image is pulled with imagePullPolicy Always, so a restart after the tag moved
// pulls the whole new image and fails while the registry is slow or down.
const EXPECTED: Record<string, string> = {
  'aks-docs--use-nvidia-gpu-tf-mnist-job.yaml': 'warned: pool-tolerations',
  'dra-driver-gpu--quickstart-gpu-test-mps.yaml': 'allowed',
  'gateway-api-inference-extension--vllm-gpu-deployment.yaml': 'warned: pool-tolerations',
  'gke-samples--kueue-finetune-gemma-l4-job.yaml': 'warned: pool-tolerations',
  'gke-samples--vllm-gemma-3-27b-it.yaml': 'warned: pool-tolerations',
  'gke-samples--vllm-tpu-llama3-70b.yaml': 'warned: pool-tolerations,image-pull',
  'gpu-operator--gpu-pod.yaml': 'allowed',
  'gpu-operator--plugin-test-timeslicing.yaml': 'allowed',
  'intel-device-plugins--intelgpu-job.yaml': 'denied: pool-selection',
  'k8s-device-plugin--job-1.yaml': 'allowed',
  'karpenter-aws--gpu-nvidia.yaml': 'warned: pool-tolerations',
  'karpenter-aws--mig-nvidia.yaml': 'warned: pool-tolerations',
  'karpenter-aws--neuron.yaml': 'denied: pool-selection',
  'kserve--isvc-huggingface-llama2-gpu.yaml': 'warned: pool-tolerations',
  'kserve--llmisvc-qwen2-7b-gpu-no-scheduler.yaml': 'warned: pool-tolerations,startup-budget',
  'kubeflow-trainer--clustertrainingruntime-torchtune-llama3_2-1b.yaml': 'warned: pool-tolerations,image-pull',
  'kubeflow-trainer--pytorchjob-mnist-nccl.yaml': 'warned: pool-tolerations,image-pull',
  'kuberay--raycluster-tpu-v6e-singlehost.yaml': 'warned: pool-tolerations',
  'kuberay--rayjob-batch-inference.yaml': 'warned: pool-tolerations',
  'kuberay--rayservice-stable-diffusion.yaml': 'warned: pool-tolerations',
  'kueue--hami-gpu-sharing.yaml': 'warned: pool-tolerations,image-pull',
  'kueue--leaderworkerset-tas.yaml': 'denied: accelerator-limits',
  'kueue--provisioning-sample-job.yaml': 'allowed',
  'llm-d--optimized-baseline-vllm-deployment.yaml': 'warned: pool-tolerations',
  'llm-on-openshift--vllm-gpu-deployment.yaml': 'allowed',
  // Sets HABANA_VISIBLE_DEVICES=all beside a limit of one Gaudi: the Pod's env wins over the device
  // plugin's, so it would see every Gaudi of the node. A real finding, not a false alarm.
  'llm-on-openshift--vllm-hpu-gaudi-deployment.yaml': 'denied: visible-devices',
  'lws--vllm-gpu.yaml': 'warned: pool-tolerations',
  'production-stack--vllm-deployment-rendered-values-02.yaml': 'warned: pool-tolerations,image-pull',
  'rocm-k8s-device-plugin--alexnet-gpu.yaml': 'warned: image-pull',
  'volcano--job-mindspore-gpu.yaml': 'warned: pool-tolerations',
};

let shipped: Engine;
beforeAll(async () => {
  shipped = await shippedEngine();
});

const workloads = (file: string): K8sObject[] => manifestWorkloads(file, PUBLIC_CORPUS);

describeManifests(PUBLIC_CORPUS, EXPECTED);

describe('corpus specifics', () => {
  describeTemplateSpecifics(PUBLIC_CORPUS, { deployment: 'gke-samples--vllm-gemma-3-27b-it.yaml', pytorchJob: 'kubeflow-trainer--pytorchjob-mnist-nccl.yaml' });

  it('KServe model containers are checked at spec.predictor.model', () => {
    const [isvc] = workloads('kserve--isvc-huggingface-llama2-gpu.yaml');
    const broken = structuredClone(isvc!);
    ((broken.spec as any).predictor.model.resources.limits as Record<string, string>)['nvidia.com/gpu'] = '0.5';
    const v = admit(shipped, requestFor(broken, 'research')).validated;
    expect(v.denials.map((f) => f.path)).toContain('spec.predictor.model.resources.limits[nvidia.com/gpu]');
  });

  describeDraSpecifics(PUBLIC_CORPUS, 'dra-driver-gpu--quickstart-gpu-test-mps.yaml', 'shared-gpu');

  it('manifests read from disk keep their bytes: the corpus is not modified', () => {
    expect(readFileSync(join(POLICIES_DIR, 'research.yaml'), 'utf8')).toContain('name: research');
  });
});
