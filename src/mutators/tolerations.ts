import type { V1PodSpec } from '@kubernetes/client-node';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { catalogueKeys, forbiddenReach } from '../scheduling/pools.js';
import type { Requirement } from '../scheduling/selectors.js';
import { describeTaint, tolerates, tolerationFor } from '../scheduling/tolerations.js';

const ID = 'tolerations';

/**
 * The pools the Pod will land on, and whether the webhook pins one of them (`picked`: its labels
 * go into nodeSelector). Pinning only ever narrows: the pinned pool is one the selection already
 * matches (closed-world on the catalogue's keys, or by live nodes), so a node that carries both
 * exists. A selection on keys no pool defines that cannot be decided (offline, or no live pool
 * node matches) is never pinned: it may already point elsewhere.
 */
export function targetPools(a: PodAnalysis): { pools: GpuPool[]; picked: boolean } {
  const { usable, basis } = a.candidates;
  // A selection that requires every label of a pool picks that pool, whatever unknown keys other
  // pools may have: otherwise the labels we add would make the next pass tolerate more pools.
  const pinned = usable.filter((p) => requiresAllLabels(a.alternatives, p));
  if (pinned.length > 0) return { pools: pinned, picked: false };
  if (basis === 'open') return { pools: usable, picked: false };
  const forbidden = forbiddenReach(a.candidates, a.policy, everything);
  const onCatalogue = a.alternatives.some((reqs) => reqs.some((r) => !r.field && catalogueKeys(a.config.pools).has(r.key)));
  // The Pod chose among allowed pools only (by their labels or, with a cluster view, by nodes).
  if ((onCatalogue || basis === 'nodes') && forbidden.length === 0) return { pools: usable, picked: false };
  const name = a.policy.accelerators.defaultPool;
  const fallback = name ? usable.find((p) => p.name === name) : undefined;
  if (fallback) return { pools: [fallback], picked: true };
  return usable.length === 1 ? { pools: usable, picked: true } : { pools: [], picked: false };
}

/** Tolerates every taint: which pools a selection reaches, whatever tolerations get added. */
const everything = [{ operator: 'Exists' }];

function requiresAllLabels(alts: Requirement[][], pool: GpuPool): boolean {
  const labels = Object.entries(pool.nodeLabels);
  return alts.length > 0 && labels.length > 0 && alts.every((reqs) => labels.every(([key, value]) =>
    reqs.some((r) => r.key === key && r.operator === 'In' && r.values.length > 0 && r.values.every((v) => v === value))));
}

function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  // spec.nodeName skips the scheduler: tolerations and selectors would change nothing.
  if (!a.acc.isAcceleratorPod || a.gated || a.selection.nodeName || a.candidates.usable.length === 0) return result;
  const { pools, picked } = targetPools(a);
  // Say so only where a pool would have been pinned: the pin was withheld, not merely unneeded.
  const wouldPin = a.policy.mutations.defaultPoolNodeSelector && !pools.some((p) => requiresAllLabels(a.alternatives, p))
    && (a.candidates.usable.some((p) => p.name === a.policy.accelerators.defaultPool) || a.candidates.usable.length === 1);
  if (a.candidates.basis === 'open' && pools.length > 0 && wouldPin) {
    const keys = [...new Set(a.candidates.open.map((r) => r.key))].join(', ');
    result.warnings.push({
      ruleId: ID, path: `${a.target.path}.nodeSelector`, advisory: true,
      message: `which pools ${keys} selects cannot be told without the cluster's nodes, so no pool was pinned`,
      fix: 'select the pool by its labels in nodeSelector',
    });
  }
  if (pools.length === 0) {
    result.warnings.push({
      ruleId: ID, path: `${a.target.path}.nodeSelector`, advisory: true,
      message: `several pools fit (${a.candidates.usable.map((p) => p.name).join(', ')}) and the policy names no default pool, so no tolerations were added`,
      fix: 'select one pool with nodeSelector, or set accelerators.defaultPool in the namespace policy',
    });
    return result;
  }
  // Copy on write: the spec is a shallow copy whose arrays and maps are still the request's.
  const tolerations = Array.isArray(spec.tolerations) ? [...spec.tolerations] : [];
  const before = tolerations.length;
  for (const pool of pools) {
    for (const taint of pool.taints) {
      if (tolerations.some((t) => tolerates(t, taint))) continue;
      tolerations.push(tolerationFor(taint));
      result.notes.push({ mutator: ID, path: `${a.target.path}.tolerations`, description: `tolerate ${describeTaint(taint)} of pool ${pool.name}` });
    }
  }
  if (tolerations.length > before) spec.tolerations = tolerations;
  const pool = pools[0];
  if (picked && pool && a.policy.mutations.defaultPoolNodeSelector) {
    const selector: Record<string, string> = spec.nodeSelector && typeof spec.nodeSelector === 'object' ? { ...spec.nodeSelector } : {};
    let added = false;
    for (const [key, value] of Object.entries(pool.nodeLabels)) {
      if (Object.hasOwn(selector, key)) continue;
      selector[key] = value;
      added = true;
      result.notes.push({ mutator: ID, path: `${a.target.path}.nodeSelector`, description: `select pool ${pool.name} (${key}=${value})` });
    }
    if (added) spec.nodeSelector = selector;
  }
  return result;
}

export const tolerationsMutator: Mutator = {
  id: ID,
  summary: 'add the tolerations for the taints of the pool(s) the Pod may land on, and pin a pool where the policy names a default',
  setting: 'mutations.tolerations',
  enabled: (p) => p.mutations.tolerations,
  apply,
};
