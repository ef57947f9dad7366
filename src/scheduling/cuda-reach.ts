/**
 * Which drivers a Pod can reach: per live node (GFD labels, else its pool's declared `cuda`), or
 * per pool offline (GpuPool.cuda). Shared by rule cuda-compatibility and mutator cuda-affinity so
 * both reason about the same candidates. Pure.
 */
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { NodeFacts, PodAnalysis } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { type CudaRequirement, type CudaVersion, type GfdFamily, type RequirementResult, cudaCompat, cudaRequirement, nodeCuda, parseCudaVersion } from '../workload/cuda.js';
import { nodeInPool } from './pools.js';
import { type Requirement, selectionMatchesNode } from './selectors.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';

export interface CudaUnit {
  /** `pool l4`, `node gpu-1 (pool l4)` */
  label: string;
  kind: 'node' | 'pool';
  /** The pool (of a node: its first usable pool). */
  pool?: GpuPool;
  node?: NodeFacts;
  supported?: CudaVersion;
  /** Where `supported` came from, for messages. */
  basis?: string;
  /** The GFD label family a node's version came from. */
  family?: GfdFamily;
}

export interface CudaReach {
  mode: 'nodes' | 'pools';
  units: CudaUnit[];
}

export interface CudaReachInput {
  alts: Requirement[][];
  nodeName?: string;
  /** Pools the Pod may land on that offer its resources and that the namespace may use. */
  usable: GpuPool[];
  /** The whole catalogue. */
  pools: GpuPool[];
  resources: string[];
  /** Live nodes, when a synced cluster view has them. */
  nodes?: Iterable<NodeFacts>;
}

function poolUnit(pool: GpuPool, nodes: NodeFacts[] | undefined): CudaUnit {
  const declared = parseCudaVersion(pool.cuda);
  if (declared) return { label: `pool ${pool.name}`, kind: 'pool', pool, supported: declared, basis: 'GpuPool.cuda' };
  // Every live node of the pool carries the GFD labels: the pool supports the lowest of them.
  const members = (nodes ?? []).filter((n) => nodeInPool(n, pool));
  const versions = members.map((n) => nodeCuda(n.labels)?.version);
  if (members.length > 0 && versions.every((v) => v !== undefined)) {
    const lowest = (versions as CudaVersion[]).reduce((a, b) => (a.major !== b.major ? (a.major < b.major ? a : b) : a.minor <= b.minor ? a : b));
    return { label: `pool ${pool.name}`, kind: 'pool', pool, supported: lowest, basis: 'GFD labels of its nodes' };
  }
  return { label: `pool ${pool.name}`, kind: 'pool', pool };
}

function nodeUnit(node: NodeFacts, pool: GpuPool | undefined): CudaUnit {
  const label = `node ${node.name}${pool ? ` (pool ${pool.name})` : ''}`;
  const gfd = nodeCuda(node.labels);
  if (gfd) return { label, kind: 'node', node, ...(pool ? { pool } : {}), supported: gfd.version, basis: `GFD label ${gfd.family === 'current' ? 'nvidia.com/cuda.runtime-version' : 'nvidia.com/cuda.runtime'}`, family: gfd.family };
  const declared = parseCudaVersion(pool?.cuda);
  if (declared) return { label, kind: 'node', node, ...(pool ? { pool } : {}), supported: declared, basis: 'GpuPool.cuda' };
  return { label, kind: 'node', node, ...(pool ? { pool } : {}) };
}

/**
 * Live nodes decide when some node the selection matches is in a usable pool (or, with no pools
 * in the catalogue, offers the Pod's resources); otherwise the usable pools do (an autoscaler may
 * still add a node).
 */
export function cudaReach(input: CudaReachInput): CudaReach {
  const known = input.nodes ? [...input.nodes] : undefined;
  if (known) {
    const units: CudaUnit[] = [];
    for (const n of known) {
      if (input.nodeName !== undefined ? n.name !== input.nodeName : !selectionMatchesNode(input.alts, n)) continue;
      if (input.pools.length > 0) {
        const pool = input.usable.find((p) => nodeInPool(n, p));
        if (pool) units.push(nodeUnit(n, pool));
      } else if (input.resources.length > 0 && input.resources.every((r) => isPositiveInteger(parseQuantity(n.allocatable[r])))) {
        units.push(nodeUnit(n, undefined));
      }
    }
    if (units.length > 0) {
      // A usable pool without a matching live node may still get one from an autoscaler.
      const empty = input.usable.filter((p) => !units.some((u) => u.pool === p));
      return { mode: 'nodes', units: [...units, ...empty.map((p) => poolUnit(p, known))] };
    }
  }
  return cudaPoolReach(input.usable, known);
}

/** The usable pools as units: their declared `cuda`, else the lowest GFD version of their live nodes when all carry it. */
export function cudaPoolReach(usable: GpuPool[], nodes: NodeFacts[] | undefined): CudaReach {
  return { mode: 'pools', units: usable.map((p) => poolUnit(p, nodes)) };
}

/** How one reachable node or pool runs the workload. */
export type UnitVerdict = 'ok' | 'unknown' | 'limited' | 'fails';

/**
 * `limited`: same major version, older minor, and minor version compatibility applies (the policy
 * keeps it on and no NVIDIA_REQUIRE_CUDA check refuses the start). `fails`: an older major version,
 * or an older minor whose start the toolkit refuses (or the policy turns compatibility off).
 */
export function unitVerdict(needed: CudaRequirement, unit: CudaUnit, minorVersionCompatibility: boolean): UnitVerdict {
  if (!unit.supported) return 'unknown';
  const c = cudaCompat(needed.version, unit.supported);
  if (c === 'ok') return 'ok';
  if (c === 'minor' && minorVersionCompatibility && !needed.enforced) return 'limited';
  return 'fails';
}

/** What the Pod spec under analysis needs: annotations of its metadata (and the workload's), else its accelerator containers. */
export function podCudaRequirement(a: PodAnalysis, spec: V1PodSpec = a.target.spec): RequirementResult {
  const metadata = [{ annotations: a.target.metadata?.annotations, path: a.target.path.replace(/spec$/, 'metadata') }];
  if (a.target.isTemplate && a.objectMeta) metadata.push({ annotations: a.objectMeta.annotations, path: 'metadata' });
  const seen = new Set<V1Container>();
  const containers = a.acc.uses
    .filter((u) => !seen.has(u.ref.container) && seen.add(u.ref.container))
    .map((u) => ({ container: u.ref.container, path: `${a.target.path}.${u.ref.path}` }));
  // Accelerators through resource claims only: every app container may use them.
  const fallback = containers.length > 0 ? containers : (Array.isArray(spec.containers) ? spec.containers : [])
    .map((container, i) => ({ container, path: `${a.target.path}.containers[${i}]` }));
  return cudaRequirement(metadata, fallback.filter((c) => c.container && typeof c.container === 'object'));
}
