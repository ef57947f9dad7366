import type { V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mutatePod } from '../../src/engine/evaluate.js';
import type { EngineConfig, NodeFacts } from '../../src/engine/types.js';
import { tolerationsMutator } from '../../src/mutators/tolerations.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import {
  analysisOf, config, cpuContainer, defaultTolerations, gpuContainer, gpuToleration, podSpec, policy, pools,
} from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

const GKE = 'cloud.google.com/gke-accelerator';
const L4 = { [GKE]: 'nvidia-l4' };
const A100 = { [GKE]: 'nvidia-a100-80gb' };
const withDefault = (pool: string, extra: Parameters<typeof policy>[0] = {}): NamespacePolicy =>
  policy({ ...extra, accelerators: { defaultPool: pool, ...extra.accelerators } });

/** Pools whose taints differ, so a test can tell which pool's tolerations a Pod got. */
function distinctPools(): EngineConfig {
  const p = pools();
  const a100 = p.find((x) => x.name === 'a100');
  const l4 = p.find((x) => x.name === 'l4');
  if (!a100 || !l4) throw new Error('fixture pools changed');
  a100.taints = [{ key: 'nvidia.com/gpu', value: 'a100', effect: 'NoSchedule' }];
  l4.taints = [{ key: 'pool', value: 'l4', effect: 'NoExecute' }, { key: 'nvidia.com/gpu', effect: 'NoSchedule' }];
  return config(p);
}

const a100Toleration = (): V1Toleration => ({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'a100', effect: 'NoSchedule' });
const l4Tolerations = (): V1Toleration[] => [
  { key: 'pool', operator: 'Equal', value: 'l4', effect: 'NoExecute' },
  { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
];
const selectA100ByAffinity = (): V1PodSpec['affinity'] => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-a100-80gb'] }] }] } },
});

const node = (name: string, labels: Record<string, string>): NodeFacts => ({ name, labels, allocatable: {} });
/** The fixture catalogue with a synced cluster view of these nodes. */
function withNodes(nodes: NodeFacts[]): EngineConfig {
  return { ...config(), cluster: { priorityClassExists: () => true, nodes: () => nodes, globalDefaultClass: () => undefined } };
}

/** GPUs through Dynamic Resource Allocation: every pool offers "no extended resource". */
const draSpec = (extra: Partial<V1PodSpec> = {}): V1PodSpec => ({
  containers: [{ name: 'main', image: 'cuda', resources: { claims: [{ name: 'gpu' }] } }],
  resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'single-gpu' }],
  ...extra,
});

/** A view that knows the DRA Pod's claim template allocates an NVIDIA GPU. */
const knowsGpuClaim = (): EngineConfig => ({ ...config(), claims: { deviceClasses: () => ['gpu.nvidia.com'], claimsListed: () => true } });

interface Case {
  name: string;
  spec: () => V1PodSpec;
  policy: () => NamespacePolicy;
  cfg?: () => EngineConfig;
  tolerations?: V1Toleration[] | undefined;
  nodeSelector?: Record<string, string> | undefined;
  notes: number;
  /** A fragment of the one advisory warning expected; none when absent. */
  warning?: string;
}

const apply: Case[] = [
  {
    name: 'appends the pool toleration after the API server defaults',
    spec: () => podSpec({ tolerations: defaultTolerations() }), policy: () => withDefault('l4'),
    tolerations: [...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: L4, notes: 2,
  },
  {
    name: 'creates the tolerations list when the Pod has none',
    spec: () => podSpec(), policy: () => withDefault('l4'),
    tolerations: [gpuToleration()], nodeSelector: L4, notes: 2,
  },
  {
    name: 'keeps user tolerations in place and appends after them',
    spec: () => podSpec({ tolerations: [{ key: 'team', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }, ...(defaultTolerations() ?? [])] }),
    policy: () => withDefault('l4'),
    tolerations: [{ key: 'team', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }, ...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: L4, notes: 2,
  },
  {
    // Regression: a key no pool defines may already point elsewhere; offline it is never pinned.
    name: 'pins no default pool on top of a selection on keys no pool defines (offline), tolerates the usable pools',
    spec: () => podSpec({ nodeSelector: { 'node.kubernetes.io/instance-type': 'g5.8xlarge' } }), policy: () => withDefault('l4'),
    tolerations: [gpuToleration()], nodeSelector: { 'node.kubernetes.io/instance-type': 'g5.8xlarge' }, notes: 1,
    warning: 'which pools node.kubernetes.io/instance-type selects cannot be told without the cluster\'s nodes, so no pool was pinned',
  },
  {
    name: 'with a cluster view, a key no pool defines is decided by the live nodes: they are L4 nodes, no pin needed',
    spec: () => podSpec({ nodeSelector: { 'node.kubernetes.io/instance-type': 'g2-standard-8' } }), policy: () => withDefault('a100', { accelerators: { pools: ['a100', 'l4'] } }),
    cfg: () => withNodes([node('l', { [GKE]: 'nvidia-l4', 'node.kubernetes.io/instance-type': 'g2-standard-8' }), node('a', { [GKE]: 'nvidia-a100-80gb', 'node.kubernetes.io/instance-type': 'a2-ultragpu-1g' })]),
    tolerations: [gpuToleration()], nodeSelector: { 'node.kubernetes.io/instance-type': 'g2-standard-8' }, notes: 1,
  },
  {
    name: 'with a cluster view, nodes of an allowed and a forbidden pool match: narrowed to the default pool',
    spec: () => podSpec({ nodeSelector: { 'topology.kubernetes.io/zone': 'z1' } }), policy: () => withDefault('l4', { accelerators: { pools: ['l4'] } }),
    cfg: () => withNodes([node('l', { [GKE]: 'nvidia-l4', 'topology.kubernetes.io/zone': 'z1' }), node('a', { [GKE]: 'nvidia-a100-80gb', 'topology.kubernetes.io/zone': 'z1' })]),
    tolerations: [gpuToleration()], nodeSelector: { 'topology.kubernetes.io/zone': 'z1', ...L4 }, notes: 2,
  },
  {
    name: 'narrows In [allowed, forbidden] to the allowed default pool',
    spec: () => podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-l4', 'nvidia-a100-80gb'] }] }] } } } }),
    policy: () => withDefault('l4', { accelerators: { pools: ['l4'] } }),
    tolerations: [gpuToleration()], nodeSelector: L4, notes: 2,
  },
  {
    name: 'tolerates every pool a choice among allowed pools reaches, and pins none',
    spec: () => podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-l4', 'nvidia-a100-80gb'] }] }] } } } }),
    policy: () => withDefault('l4'), cfg: distinctPools,
    tolerations: [a100Toleration(), ...l4Tolerations()], nodeSelector: undefined, notes: 3,
  },
  {
    name: 'adds tolerations but no nodeSelector when defaultPoolNodeSelector is off',
    spec: () => podSpec({ tolerations: defaultTolerations() }), policy: () => withDefault('l4', { mutations: { defaultPoolNodeSelector: false } }),
    tolerations: [...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: undefined, notes: 1,
  },
  {
    name: 'a Pod selecting the a100 pool gets the a100 taints, not the default pool (nodeSelector)',
    spec: () => podSpec({ nodeSelector: A100 }), policy: () => withDefault('l4'), cfg: distinctPools,
    tolerations: [a100Toleration()], nodeSelector: A100, notes: 1,
  },
  {
    name: 'a Pod selecting the a100 pool gets the a100 taints (required node affinity), and no default selector',
    spec: () => podSpec({ affinity: selectA100ByAffinity() }), policy: () => withDefault('l4'), cfg: distinctPools,
    tolerations: [a100Toleration()], nodeSelector: undefined, notes: 1,
  },
  {
    name: 'an unconstrained Pod gets every taint of the default pool',
    spec: () => podSpec(), policy: () => withDefault('l4'), cfg: distinctPools,
    tolerations: l4Tolerations(), nodeSelector: L4, notes: 3,
  },
  {
    name: 'the only pool offering the resource is picked without a default pool (MIG)',
    spec: () => podSpec({ containers: [gpuContainer({}, 1, 'nvidia.com/mig-1g.5gb')] }), policy: () => policy(),
    tolerations: [gpuToleration()], nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB', 'nvidia.com/mig.strategy': 'mixed' }, notes: 3,
  },
  {
    name: 'the only pool offering the resource: tolerations but no selector when defaultPoolNodeSelector is off',
    spec: () => podSpec({ containers: [gpuContainer({}, 1, 'nvidia.com/mig-1g.5gb')] }), policy: () => policy({ mutations: { defaultPoolNodeSelector: false } }),
    tolerations: [gpuToleration()], nodeSelector: undefined, notes: 1,
  },
  {
    name: 'a taint without value is tolerated with Exists (AMD)',
    spec: () => podSpec({ containers: [gpuContainer({}, 1, 'amd.com/gpu')] }), policy: () => policy(),
    tolerations: [{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], nodeSelector: { 'amd.com/gpu.product-name': 'MI300X' }, notes: 2,
  },
  {
    name: 'a DRA Pod (claims, no extended resource) gets the default pool, and a second pass adds no other pool',
    spec: () => draSpec({ tolerations: defaultTolerations() }), policy: () => withDefault('l4'), cfg: knowsGpuClaim,
    tolerations: [...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: L4, notes: 2,
  },
  {
    name: 'a DRA Pod selecting l4 tolerates l4 only, not pools whose labels merely do not contradict',
    spec: () => draSpec({ nodeSelector: L4 }), policy: () => policy(), cfg: knowsGpuClaim,
    tolerations: [gpuToleration()], nodeSelector: L4, notes: 1,
  },
];

const noop: Case[] = [
  {
    name: 'never duplicates a toleration the Pod already has',
    spec: () => podSpec({ tolerations: [...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: L4 }), policy: () => withDefault('l4'),
    tolerations: [...(defaultTolerations() ?? []), gpuToleration()], nodeSelector: L4, notes: 0,
  },
  {
    name: 'adds nothing when a wildcard toleration (empty key, Exists) already tolerates the taint',
    spec: () => podSpec({ tolerations: [{ operator: 'Exists' }], nodeSelector: L4 }), policy: () => withDefault('l4'),
    tolerations: [{ operator: 'Exists' }], nodeSelector: L4, notes: 0,
  },
  {
    name: 'adds nothing when a key-wide Exists toleration (any effect) already tolerates the taint',
    spec: () => podSpec({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }], nodeSelector: A100 }), policy: () => withDefault('l4'),
    tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }], nodeSelector: A100, notes: 0,
  },
  {
    name: 'keeps a selector value the user wrote for the default pool key',
    spec: () => podSpec({ tolerations: [gpuToleration()], nodeSelector: A100 }), policy: () => withDefault('l4'),
    tolerations: [gpuToleration()], nodeSelector: A100, notes: 0,
  },
];

const skip: Case[] = [
  {
    name: 'a Pod with spec.nodeName (no scheduler: tolerations and selectors change nothing)',
    spec: () => podSpec({ nodeName: 'gpu-node-1' }), policy: () => withDefault('l4'), tolerations: undefined, nodeSelector: undefined, notes: 0,
  },
  {
    // Regression: a Pod selecting L4 in a namespace that may not use it was re-pinned to A100.
    name: 'a Pod selecting a forbidden pool by its labels (pool-selection denies; never re-pinned)',
    spec: () => podSpec({ nodeSelector: L4 }), policy: () => withDefault('a100', { accelerators: { pools: ['a100'] } }), tolerations: undefined, nodeSelector: L4, notes: 0,
  },
  { name: 'a Pod that requests no accelerator', spec: () => ({ containers: [cpuContainer()] }), policy: () => withDefault('l4'), tolerations: undefined, nodeSelector: undefined, notes: 0 },
  { name: 'mutations.tolerations off', spec: () => podSpec(), policy: () => withDefault('l4', { mutations: { tolerations: false } }), tolerations: undefined, nodeSelector: undefined, notes: 0 },
  {
    name: 'a gated Pod (the queue controller adds selection and tolerations)',
    spec: () => podSpec({ schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }], tolerations: defaultTolerations() }), policy: () => withDefault('l4'),
    tolerations: defaultTolerations(), nodeSelector: undefined, notes: 0,
  },
  {
    name: 'no pool the namespace may use offers the resource',
    spec: () => podSpec(), policy: () => policy({ accelerators: { pools: ['mi300x'] } }), tolerations: undefined, nodeSelector: undefined, notes: 0,
  },
];

describe('tolerations mutator', () => {
  it.each([...apply.map((c) => ({ ...c, kind: 'apply' })), ...noop.map((c) => ({ ...c, kind: 'no-op' })), ...skip.map((c) => ({ ...c, kind: 'skip' }))])(
    '$kind: $name',
    ({ spec, policy: pol, cfg, tolerations, nodeSelector, notes, kind, warning }) => {
      const c = cfg?.() ?? config();
      const out = runMutator(tolerationsMutator, spec(), pol(), c);
      expect(out.spec.tolerations).toEqual(tolerations);
      expect(out.spec.nodeSelector).toEqual(nodeSelector);
      expect(out.notes).toHaveLength(notes);
      expect(out.changed).toBe(kind === 'apply');
      if (warning) expect(out.warnings.map((w) => w.message).join('; ')).toContain(warning);
      else expect(out.warnings).toEqual([]);
      expectIdempotent(tolerationsMutator, out.spec, pol(), c);
    },
  );

  it('is switched off by mutations.tolerations and then leaves the Pod alone in mutatePod', () => {
    const pol = withDefault('l4', { mutations: { tolerations: false } });
    expect(tolerationsMutator.enabled(pol)).toBe(false);
    expect(mutatePod(analysisOf(podSpec(), pol)).patch).toEqual([]);
  });

  it('several fitting pools and no default pool: no toleration, an advisory warning naming the pools', () => {
    const out = runMutator(tolerationsMutator, podSpec({ tolerations: defaultTolerations() }), policy());
    expect(out.changed).toBe(false);
    expect(out.spec.tolerations).toEqual(defaultTolerations());
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatchObject({ ruleId: 'tolerations', advisory: true, path: 'spec.nodeSelector' });
    expect(out.warnings[0]?.message).toContain('a100, l4');
    expect(out.warnings[0]?.fix).toContain('accelerators.defaultPool');
  });

  it('notes name the pool and the taint', () => {
    const out = runMutator(tolerationsMutator, podSpec({ nodeSelector: A100 }), withDefault('l4'), distinctPools());
    expect(out.notes).toEqual([{ mutator: 'tolerations', path: 'spec.tolerations', description: 'tolerate nvidia.com/gpu=a100:NoSchedule of pool a100' }]);
  });

  it('patches by appending to an existing list and adding a missing map whole', () => {
    const spec = podSpec({ tolerations: defaultTolerations() });
    const { patch } = mutatePod(analysisOf(spec, withDefault('l4')));
    expect(patch).toEqual([
      { op: 'add', path: '/spec/tolerations/2', value: gpuToleration() },
      { op: 'add', path: '/spec/nodeSelector', value: L4 },
    ]);
  });

  it('patches a new selector key with its slash escaped', () => {
    const spec = podSpec({ tolerations: [gpuToleration()], nodeSelector: { 'kubernetes.io/arch': 'amd64' } });
    const cfg = withNodes([node('a', { [GKE]: 'nvidia-a100-80gb', 'kubernetes.io/arch': 'amd64' }), node('l', { [GKE]: 'nvidia-l4', 'kubernetes.io/arch': 'amd64' })]);
    const { patch } = mutatePod(analysisOf(spec, withDefault('l4', { accelerators: { pools: ['l4'] } }), cfg));
    expect(patch).toEqual([{ op: 'add', path: '/spec/nodeSelector/cloud.google.com~1gke-accelerator', value: 'nvidia-l4' }]);
  });
});
