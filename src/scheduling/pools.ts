import type { GpuPool, NamespacePolicy } from '../policy/types.js';
import { globMatch } from '../util/glob.js';
import { findConflict, type Requirement, selectionMayMatch } from './selectors.js';

/** Node label keys that only accelerator nodes carry (GFD, GKE, Karpenter, AKS). */
export const ACCELERATOR_LABEL_KEYS: ReadonlySet<string> = new Set([
  'nvidia.com/gpu.product',
  'nvidia.com/gpu.memory',
  'nvidia.com/gpu.count',
  'nvidia.com/gpu.family',
  'nvidia.com/mig.strategy',
  'nvidia.com/gpu.present',
  'cloud.google.com/gke-accelerator',
  'cloud.google.com/gke-gpu-partition-size',
  'cloud.google.com/gke-tpu-accelerator',
  'cloud.google.com/gke-tpu-topology',
  'karpenter.k8s.aws/instance-gpu-name',
  'karpenter.k8s.aws/instance-gpu-count',
  'karpenter.k8s.aws/instance-gpu-manufacturer',
  'karpenter.k8s.aws/instance-gpu-memory',
  'kubernetes.azure.com/accelerator',
  'accelerator',
]);

export function poolOffers(pool: GpuPool, resource: string): boolean {
  return pool.resources.some((p) => globMatch(p, resource));
}

export function poolAllowed(policy: NamespacePolicy, pool: GpuPool): boolean {
  return policy.accelerators.pools.length === 0 || policy.accelerators.pools.includes(pool.name);
}

export interface PoolCandidates {
  /** Pools the Pod's node selection may land on. */
  selected: GpuPool[];
  /** ... that also offer every accelerator resource the Pod requests. */
  offering: GpuPool[];
  /** ... that the namespace may use. */
  usable: GpuPool[];
}

export function candidatePools(
  alts: Requirement[][],
  resources: string[],
  pools: GpuPool[],
  policy: NamespacePolicy,
): PoolCandidates {
  // An alternative that contradicts itself schedules nowhere (node-selection reports it): it must
  // not make every pool look reachable.
  const live = alts.filter((reqs) => findConflict(reqs) === undefined);
  const selected = pools.filter((p) => selectionMayMatch(live, p.nodeLabels));
  const offering = selected.filter((p) => resources.every((r) => poolOffers(p, r)));
  const usable = offering.filter((p) => poolAllowed(policy, p));
  return { selected, offering, usable };
}

/** A requirement every node meeting it is an accelerator node, as far as we know. */
function pinsAccelerators(r: Requirement, pools: GpuPool[]): boolean {
  const wellKnown = ACCELERATOR_LABEL_KEYS.has(r.key);
  switch (r.operator) {
    case 'Exists':
      return wellKnown;
    case 'Gt':
      return wellKnown && Number(r.values[0]) >= 0;
    case 'In':
      if (r.key === 'nvidia.com/gpu.present') return r.values.every((v) => v === 'true');
      if (wellKnown) return r.values.length > 0;
      return r.values.length > 0 && r.values.every((v) => pools.some((p) => p.nodeLabels[r.key] === v));
    default:
      return false;
  }
}

/** The requirement that confines the Pod to accelerator nodes in every alternative, if any. */
export function acceleratorPin(alts: Requirement[][], pools: GpuPool[]): Requirement | undefined {
  let first: Requirement | undefined;
  for (const reqs of alts) {
    const pin = reqs.find((r) => pinsAccelerators(r, pools));
    if (!pin) return undefined;
    first ??= pin;
  }
  return first;
}
