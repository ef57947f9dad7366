import type { V1NodeSelectorRequirement, V1NodeSelectorTerm, V1PodSpec } from '@kubernetes/client-node';
import type { MutatorResult, Mutator, NodeFacts, PodAnalysis } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { type CudaReach, type CudaUnit, cudaPoolReach, cudaReach, podCudaRequirement, unitVerdict } from '../scheduling/cuda-reach.js';
import { candidatePools } from '../scheduling/pools.js';
import { alternatives, selectionOf } from '../scheduling/selectors.js';
import { type CudaRequirement, type CudaVersion, formatCuda, GFD_CUDA_LABELS, type GfdFamily } from '../workload/cuda.js';

const ID = 'cuda-affinity';
const TERMS = 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
/** The cross product of the user's terms and ours stays well inside the shape bound (100 terms). */
const MAX_TERMS = 32;

/**
 * "version >= M.m" on GFD's integer labels (Gt compares integers; a label value is a string the
 * scheduler parses): major Gt M, OR major In [M] AND minor Gt m-1. Terms are ORed.
 */
export function cudaTerms(family: GfdFamily, v: CudaVersion): V1NodeSelectorRequirement[][] {
  const keys = GFD_CUDA_LABELS[family];
  if (v.minor === 0) return [[{ key: keys.major, operator: 'Gt', values: [String(v.major - 1)] }]];
  return [
    [{ key: keys.major, operator: 'Gt', values: [String(v.major)] }],
    [{ key: keys.major, operator: 'In', values: [String(v.major)] }, { key: keys.minor, operator: 'Gt', values: [String(v.minor - 1)] }],
  ];
}

function rawTerms(spec: V1PodSpec): V1NodeSelectorTerm[] | undefined {
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return Array.isArray(terms) && terms.length > 0 ? terms : undefined;
}

const isEmptyTerm = (t: V1NodeSelectorTerm): boolean => (t?.matchExpressions ?? []).length === 0 && (t?.matchFields ?? []).length === 0;

/** The user's terms ANDed with ours: each of theirs with each of ours (an empty term matches nothing and stays as it is). */
function crossProduct(existing: V1NodeSelectorTerm[] | undefined, ours: V1NodeSelectorRequirement[][]): V1NodeSelectorTerm[] {
  if (!existing) return ours.map((matchExpressions) => ({ matchExpressions }));
  return existing.flatMap((t) => (isEmptyTerm(t) ? [t] : ours.map((extra) => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), ...extra] }))));
}

/** Our requirements added to every term of the user's (or one new term). */
function andEveryTerm(existing: V1NodeSelectorTerm[] | undefined, extra: V1NodeSelectorRequirement[]): V1NodeSelectorTerm[] {
  if (!existing) return [{ matchExpressions: extra }];
  return existing.map((t) => (isEmptyTerm(t) ? t : { ...t, matchExpressions: [...(t.matchExpressions ?? []), ...extra] }));
}

function withTerms(spec: V1PodSpec, terms: V1NodeSelectorTerm[]): V1PodSpec['affinity'] {
  const affinity = spec.affinity ?? {};
  const nodeAffinity = affinity.nodeAffinity ?? {};
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? { nodeSelectorTerms: [] };
  return { ...affinity, nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: terms } } };
}

interface Placement {
  reach: CudaReach;
  usable: GpuPool[];
}

/** Where this spec (as the earlier mutators left it) can land: the same computation as the analysis. */
function placementOf(spec: V1PodSpec, a: PodAnalysis, nodes: NodeFacts[] | undefined): Placement {
  const sel = selectionOf(spec, a.target.path);
  const alts = alternatives(sel, spec);
  const c = candidatePools({ alts, nodeName: sel.nodeName?.name, nodes }, a.acc.resources, a.config.pools, a.policy);
  return { usable: c.usable, reach: cudaReach({ alts, usable: c.usable, pools: a.config.pools, resources: a.acc.resources, nodes }) };
}

/** The GFD label family every reachable node carries, if one does. */
function commonFamily(units: CudaUnit[]): GfdFamily | undefined {
  for (const family of ['current', 'deprecated'] as const) {
    const keys = GFD_CUDA_LABELS[family];
    if (units.every((u) => u.node && /^\d+$/.test(u.node.labels[keys.major] ?? '') && /^\d+$/.test(u.node.labels[keys.minor] ?? ''))) return family;
  }
  return undefined;
}

/**
 * For each pool to leave out, a catalogue label whose value no kept pool has: `NotIn` on it keeps
 * the others (pool identity is closed-world on the catalogue's keys, as in scheduling/pools.ts).
 */
function exclusions(drop: GpuPool[], keep: GpuPool[]): V1NodeSelectorRequirement[] | undefined {
  const byKey = new Map<string, Set<string>>();
  for (const pool of drop) {
    const key = Object.entries(pool.nodeLabels).find(([k, v]) => keep.every((p) => p.nodeLabels[k] !== v))?.[0];
    if (key === undefined) return undefined;
    const values = byKey.get(key) ?? new Set<string>();
    values.add(pool.nodeLabels[key] as string);
    byKey.set(key, values);
  }
  return [...byKey].map(([key, values]) => ({ key, operator: 'NotIn', values: [...values].sort() }));
}

const verdictsOf = (req: CudaRequirement, units: CudaUnit[], mvc: boolean) => units.map((u) => ({ u, v: unitVerdict(req, u, mvc) }));

function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  if (a.policy.cuda.check === 'off' || !a.acc.isAcceleratorPod || a.gated || a.target.partial || a.target.virtual) return result;
  // spec.nodeName skips the scheduler: affinity would change nothing.
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') return result;
  const found = podCudaRequirement(a, spec);
  if (found.status !== 'known') return result;
  const req = found.requirement;
  const mvc = a.policy.cuda.minorVersionCompatibility;
  const nodes = (() => { const n = a.config.cluster?.nodes(); return n ? [...n] : undefined; })();
  const before = placementOf(spec, a, nodes);
  const judged = verdictsOf(req, before.reach.units, mvc);
  const bad = judged.filter((j) => j.v === 'limited' || j.v === 'fails').map((j) => j.u);
  const ok = judged.filter((j) => j.v === 'ok').map((j) => j.u);
  // Nothing too old to leave out, or nothing known to be new enough to narrow to (the rule reports it).
  if (bad.length === 0 || ok.length === 0) return result;
  const path = `${a.target.path}.${TERMS}`;
  const warn = (message: string): MutatorResult => ({
    notes: [], warnings: [{ ruleId: ID, path, advisory: true, message, fix: `select nodes whose driver supports CUDA ${formatCuda(req.version)} yourself` }],
  });
  const needs = `CUDA ${formatCuda(req.version)} (from ${req.source})`;
  // Only pools without a live node are new enough, and the old nodes would still run it (minor
  // version compatibility): narrowing would leave the Pod Pending until an autoscaler adds a node.
  if (before.reach.mode === 'nodes' && !ok.some((u) => u.kind === 'node') && judged.every((j) => j.v !== 'fails')) {
    return warn(`only pools without a live node support ${needs}, and the reachable nodes run it under minor version compatibility, so the selection was not narrowed`);
  }
  const existing = rawTerms(spec);
  let terms: V1NodeSelectorTerm[];
  let description: string;
  let stillFits: (after: Placement) => boolean;
  const family = before.reach.mode === 'nodes' ? commonFamily(before.reach.units) : undefined;
  if (family) {
    terms = crossProduct(existing, cudaTerms(family, req.version));
    description = `require ${GFD_CUDA_LABELS[family].major}/.minor >= ${formatCuda(req.version)} for ${needs}; leaves out ${bad.map((u) => u.label).join(', ')}`;
    stillFits = (after) => verdictsOf(req, after.reach.units, mvc).some((j) => j.v === 'ok' && j.u.kind === 'node');
  } else {
    // Offline, or some node lacks the GFD labels: leave out the pools whose driver is too old.
    const pools = before.reach.mode === 'pools' ? before.reach : cudaPoolReach(before.usable, nodes);
    const poolJudged = verdictsOf(req, pools.units, mvc);
    const drop = poolJudged.filter((j) => j.v === 'limited' || j.v === 'fails').map((j) => j.u.pool as GpuPool);
    const fit = poolJudged.filter((j) => j.v === 'ok').map((j) => j.u.pool as GpuPool);
    if (drop.length === 0 || fit.length === 0) {
      return warn(`${needs} is not supported by ${bad.map((u) => u.label).join(', ')}, and without the GFD labels on every node the pools cannot tell them apart, so the selection was not narrowed`);
    }
    const extra = exclusions(drop, poolJudged.filter((j) => j.v !== 'limited' && j.v !== 'fails').map((j) => j.u.pool as GpuPool));
    if (!extra) return warn(`${needs} is not supported by pool ${drop.map((p) => p.name).join(', ')}, whose labels do not tell it apart from the other pools, so the selection was not narrowed`);
    terms = andEveryTerm(existing, extra);
    description = `leave out pool ${drop.map((p) => `${p.name} (CUDA ${p.cuda ?? '?'})`).join(', ')} for ${needs}`;
    const fitNames = new Set(fit.map((p) => p.name));
    stillFits = (after) => after.usable.some((p) => fitNames.has(p.name));
  }
  if (terms.length > MAX_TERMS) return warn(`narrowing the selection to drivers that support ${needs} would take ${terms.length} node selector terms, so it was not narrowed`);
  const narrowed: V1PodSpec = { ...spec, affinity: withTerms(spec, terms) };
  // Never a Pod that cannot schedule: a node or pool new enough must remain reachable.
  if (!stillFits(placementOf(narrowed, a, nodes))) return warn(`narrowing the selection to drivers that support ${needs} would leave no reachable node, so it was not narrowed`);
  spec.affinity = narrowed.affinity;
  result.notes.push({ mutator: ID, path, description });
  return result;
}

export const cudaAffinityMutator: Mutator = {
  id: ID,
  summary: 'narrow the node selection to nodes whose driver supports the CUDA version the Pod needs, where the reachable drivers differ',
  setting: 'mutations.cudaAffinity',
  enabled: (p) => p.mutations.cudaAffinity,
  apply,
};
