import type { GpuPool, NamespacePolicy } from '../policy/types.js';
import type { V1Toleration } from '@kubernetes/client-node';
import { globMatch } from '../util/glob.js';
import { untolerated } from './tolerations.js';
import { describeRequirement, distinctRequirements, findConflict, type LiveNode, matches, type Requirement, selectionMatchesNode, someAlternative } from './selectors.js';

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
  /**
   * How `selected` was decided. `catalogue`: every requirement is on a label key some pool
   * defines, and pool identity is closed-world for those keys. `nodes`: live nodes decided the
   * requirements on other keys (or spec.nodeName). `open`: requirements on keys no pool defines
   * (instance type, zone, hostname, custom labels, node names) or spec.nodeName could not be
   * decided (offline, or no live pool node matches): `selected` is only an upper bound.
   */
  basis: 'catalogue' | 'nodes' | 'open';
  /** The requirements on keys no pool defines (and matchFields), of the satisfiable alternatives. */
  open: Requirement[];
  /** The node spec.nodeName binds the Pod to, when the cluster view knows it. */
  node?: LiveNode;
}

/** The label keys the catalogue's pools define: pool identity is closed-world for them. */
export function catalogueKeys(pools: GpuPool[]): ReadonlySet<string> {
  let keys = KEYS.get(pools);
  if (!keys) {
    keys = new Set(pools.flatMap((p) => Object.keys(p.nodeLabels)));
    KEYS.set(pools, keys);
  }
  return keys;
}

/** The catalogue's arrays live as long as their engine: computed once per catalogue, not per review. */
const KEYS = new WeakMap<GpuPool[], Set<string>>();

/**
 * Whether a pool may meet the requirements: on the catalogue's own keys a pool's nodeLabels are
 * complete (a pool that does not carry the key does not match `In`/`Exists`/`Gt`/`Lt`), other
 * keys are unknown and may match.
 */
export function poolMayMatch(alts: Requirement[][], pool: GpuPool, keys: ReadonlySet<string>): boolean {
  return someAlternative(alts, (r) => (r.field || !keys.has(r.key) ? true : matches(r, pool.nodeLabels)));
}

/** A node belongs to a pool when it carries every label of the pool. */
export function nodeInPool(node: LiveNode, pool: GpuPool): boolean {
  const labels = Object.entries(pool.nodeLabels);
  return labels.length > 0 && labels.every(([k, v]) => node.labels[k] === v);
}

export function poolsOfNode(node: LiveNode, pools: GpuPool[]): GpuPool[] {
  return pools.filter((p) => nodeInPool(node, p));
}

export interface PlacementInput {
  alts: Requirement[][];
  nodeName?: string;
  /** Live nodes (with their complete labels), when a synced cluster view has them. */
  nodes?: Iterable<LiveNode>;
}

export function candidatePools(
  input: PlacementInput | Requirement[][],
  resources: string[],
  pools: GpuPool[],
  policy: NamespacePolicy,
): PoolCandidates {
  const { alts, nodeName, nodes } = Array.isArray(input) ? { alts: input, nodeName: undefined, nodes: undefined } : input;
  // An alternative that contradicts itself schedules nowhere (node-selection reports it): it must
  // not make every pool look reachable.
  const live = alts.filter((reqs) => findConflict(reqs) === undefined);
  const keys = catalogueKeys(pools);
  const open = distinctRequirements(live).filter((r) => r.field || !keys.has(r.key));
  const staticSelected = pools.filter((p) => poolMayMatch(live, p, keys));
  const finish = (selected: GpuPool[], basis: PoolCandidates['basis'], node?: LiveNode): PoolCandidates => {
    const offering = selected.filter((p) => resources.every((r) => poolOffers(p, r)));
    const usable = offering.filter((p) => poolAllowed(policy, p));
    return { selected, offering, usable, basis, open, ...(node ? { node } : {}) };
  };
  const known = nodes ? [...nodes] : undefined;
  if (nodeName !== undefined) {
    // spec.nodeName skips the scheduler: the Pod is on that node, whatever selectors say.
    const node = known?.find((n) => n.name === nodeName);
    return node ? finish(poolsOfNode(node, pools), 'nodes', node) : finish(staticSelected, 'open');
  }
  if (open.length === 0) return finish(staticSelected, 'catalogue');
  if (known) {
    const matching = known.filter((n) => selectionMatchesNode(live, n));
    const fromNodes = pools.filter((p) => matching.some((n) => nodeInPool(n, p)));
    // No live pool node matches: an autoscaler may still add one, so it cannot be told.
    if (fromNodes.length > 0) return finish(fromNodes, 'nodes');
  }
  return finish(staticSelected, 'open');
}

/**
 * Pools the Pod may reach although its namespace may not use them: the selection may match them,
 * they offer its resource, and the Pod tolerates every taint that would keep it off them.
 */
export function forbiddenReach(c: PoolCandidates, policy: NamespacePolicy, tolerations: V1Toleration[] | undefined): GpuPool[] {
  return c.offering.filter((p) => !poolAllowed(policy, p) && untolerated(tolerations, p.taints).length === 0);
}

/**
 * Where the selection lets the Pod reach a pool: the requirement on a catalogue key of the first
 * alternative that may match it, else that alternative's affinity term, else the nodeSelector.
 */
export function reachPath(alts: Requirement[][], pool: GpuPool, pools: GpuPool[], base: string): string {
  const keys = catalogueKeys(pools);
  const live = alts.filter((reqs) => findConflict(reqs) === undefined);
  const alt = live.find((reqs) => poolMayMatch([reqs], pool, keys));
  const onKey = alt?.find((r) => !r.field && keys.has(r.key) && r.path.includes('nodeSelectorTerms'))
    ?? alt?.find((r) => !r.field && keys.has(r.key));
  if (onKey) return onKey.path;
  const term = alt?.map((r) => /^(.*\.nodeSelectorTerms\[\d+\])/.exec(r.path)?.[1]).find((t) => t !== undefined);
  return term ?? alt?.[0]?.path ?? `${base}.nodeSelector`;
}

/** The catalogue-key requirements of the selection, as the user wrote them (for messages). */
export function describeCatalogueSelection(alts: Requirement[][], pools: GpuPool[]): string[] {
  const keys = catalogueKeys(pools);
  const seen = new Set<string>();
  for (const r of distinctRequirements(alts)) if (!r.field && keys.has(r.key)) seen.add(describeRequirement(r));
  return [...seen];
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
  // The nodeSelector's requirements are shared by every alternative: each is judged once.
  const judged = new Map<Requirement, boolean>();
  const pins = (r: Requirement): boolean => {
    let v = judged.get(r);
    if (v === undefined) judged.set(r, (v = pinsAccelerators(r, pools)));
    return v;
  };
  for (const reqs of alts) {
    const pin = reqs.find(pins);
    if (!pin) return undefined;
    first ??= pin;
  }
  return first;
}
