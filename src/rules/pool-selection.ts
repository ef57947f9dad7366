import type { Finding, PodAnalysis, Rule } from '../engine/types.js';
import { poolAllowed, poolOffers } from '../scheduling/pools.js';
import { findConflict } from '../scheduling/selectors.js';
import { at, describePool, finding, poolList } from './util.js';

const ID = 'pool-selection';

function check(a: PodAnalysis): Finding[] {
  const pools = a.config.pools;
  if (!a.acc.isAcceleratorPod || a.gated || a.target.partial || pools.length === 0 || !a.policy.accelerators.allowed) return [];
  if (a.alternatives.every((reqs) => findConflict(reqs) !== undefined)) return [];
  const { selected, offering, usable } = a.candidates;
  const wanted = a.acc.resources.join(' + ');
  const path = a.selection.nodeSelector[0]?.path ?? (a.selection.terms ? at(a, 'affinity.nodeAffinity') : at(a, 'nodeSelector'));
  const providers = pools.filter((p) => a.acc.resources.every((r) => poolOffers(p, r)) && poolAllowed(a.policy, p));
  const hint = providers.length > 0 ? `select a pool that offers it: ${providers.map(describePool).join('; ')}` : `request a resource one of your pools offers`;
  if (selected.length === 0) {
    return [finding(ID, path, `the node selection matches no GPU pool of the catalogue (pools: ${poolList(pools)}); the Pod would stay Pending`, hint)];
  }
  if (offering.length === 0) {
    // Name the pools the selection really points at, not those it merely does not exclude.
    const keys = new Set(a.alternatives.flat().map((r) => r.key));
    const named = selected.filter((p) => Object.keys(p.nodeLabels).some((k) => keys.has(k)));
    const which = a.selection.constrained ? `the selected pools (${poolList(named.length > 0 ? named : selected)})` : 'no pool of the catalogue';
    return [finding(ID, path, `${which} ${a.selection.constrained ? 'do not offer' : 'offers'} ${wanted}; the Pod would stay Pending`, hint)];
  }
  if (usable.length === 0) {
    const allowed = a.policy.accelerators.pools.join(', ');
    return [finding(ID, path, `pool${offering.length > 1 ? 's' : ''} ${poolList(offering)} may not be used by namespace ${a.namespace} (allowed pools: ${allowed})`,
      providers.length > 0 ? hint : `use one of the allowed pools: ${allowed}`)];
  }
  return [];
}

export const poolSelection: Rule = {
  id: ID,
  summary: 'An accelerator Pod must select a pool that offers its resource and that its namespace may use',
  check,
};
