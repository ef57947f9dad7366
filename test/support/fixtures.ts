/**
 * Builders for tests: every call returns a fresh object, so no test can leak state into another.
 */
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { analyse } from '../../src/engine/analyse.js';
import { Engine, type EngineRequest } from '../../src/engine/engine.js';
import type { EngineConfig, PodAnalysis } from '../../src/engine/types.js';
import { type NamespacePolicyDoc, toPolicy } from '../../src/policy/normalize.js';
import { PolicyResolver } from '../../src/policy/resolve.js';
import type { GpuPool, NamespacePolicy, PolicySet } from '../../src/policy/types.js';
import { AcceleratorMatcher, DEFAULT_ACCELERATOR_RESOURCES } from '../../src/workload/accelerators.js';

export const GPU_TAINT = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' as const };

export function pools(): GpuPool[] {
  return [
    { name: 'a100', nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' }, taints: [{ ...GPU_TAINT }], resources: ['nvidia.com/gpu'], maxPerPod: 8 },
    { name: 'l4', nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, taints: [{ ...GPU_TAINT }], resources: ['nvidia.com/gpu'], maxPerPod: 4 },
    {
      name: 'mig',
      nodeLabels: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/mig.strategy': 'mixed' },
      taints: [{ ...GPU_TAINT }],
      resources: ['nvidia.com/mig-1g.5gb', 'nvidia.com/mig-3g.20gb'],
      maxPerPod: 7,
    },
    { name: 'mi300x', nodeLabels: { 'amd.com/gpu.product-name': 'MI300X' }, taints: [{ key: 'amd.com/gpu', effect: 'NoSchedule' }], resources: ['amd.com/gpu'] },
  ];
}

/** A NamespacePolicy for namespace `team` with every default, overridden by `spec`. */
export function policy(spec: NamespacePolicyDoc['spec'] = {}, name = 'team-policy'): NamespacePolicy {
  return toPolicy({ metadata: { name }, spec: { namespaces: { names: ['team'] }, ...spec } }, 'test.yaml');
}

export function config(p: GpuPool[] = pools()): EngineConfig {
  return { pools: p, accelerators: new AcceleratorMatcher([...DEFAULT_ACCELERATOR_RESOURCES, ...p.flatMap((x) => x.resources)]) };
}

export function gpuContainer(overrides: Partial<V1Container> = {}, gpus: string | number = '1', resource = 'nvidia.com/gpu'): V1Container {
  return {
    name: 'main',
    image: 'vllm/vllm-openai:v0.10.0',
    resources: { limits: { [resource]: String(gpus), memory: '32Gi', cpu: '4' }, requests: { [resource]: String(gpus), memory: '32Gi', cpu: '4' } },
    ...overrides,
  };
}

export function cpuContainer(overrides: Partial<V1Container> = {}): V1Container {
  return { name: 'main', image: 'busybox', resources: { limits: { cpu: '1', memory: '1Gi' } }, ...overrides };
}

export function podSpec(overrides: Partial<V1PodSpec> = {}): V1PodSpec {
  return { containers: [gpuContainer()], ...overrides };
}

export function pod(spec: V1PodSpec, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team', ...meta }, spec };
}

export function analysisOf(spec: V1PodSpec, pol: NamespacePolicy = policy(), cfg: EngineConfig = config(), objectMeta?: Record<string, unknown>): PodAnalysis {
  return analyse({ target: { spec, pointer: '/spec', path: 'spec', isTemplate: false, metadata: objectMeta }, namespace: 'team', objectMeta, policy: pol, config: cfg });
}

export function policySet(policies: NamespacePolicy[], p: GpuPool[] = pools()): PolicySet {
  return { pools: p, poolsByName: new Map(p.map((x) => [x.name, x])), policies, files: ['test.yaml'] };
}

export function engine(policies: NamespacePolicy[] = [policy()], p: GpuPool[] = pools()): Engine {
  return new Engine(new PolicyResolver(policySet(policies, p)), config(p));
}

export function createRequest(object: Record<string, unknown>, namespace = 'team'): EngineRequest {
  return { kind: { group: '', kind: 'Pod' }, operation: 'CREATE', namespace, name: 'p', object };
}

/** Tolerations as the API server defaults them on every Pod. */
export function defaultTolerations(): V1PodSpec['tolerations'] {
  return [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
}

export function gpuToleration(): NonNullable<V1PodSpec['tolerations']>[number] {
  return { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' };
}
