import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { poolAllowed, poolOffers } from '../scheduling/pools.js';
import { findConflict } from '../scheduling/selectors.js';
import { at, describePool, fail, finding, pass, poolList, skip } from './util.js';

const ID = 'pool-selection';

function check(a: PodAnalysis): RuleResult {
  const pools = a.config.pools;
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  if (a.gated) return skip('scheduling gates: a queue controller will still select the pool');
  if (a.target.partial) return skip('node selection lives elsewhere (partial template)');
  if (pools.length === 0) return skip('the catalogue defines no GpuPool');
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  if (a.alternatives.every((reqs) => findConflict(reqs) !== undefined)) return skip('the selection contradicts itself (node-selection reports it)');
  const { selected, offering, usable } = a.candidates;
  const wanted = a.acc.resources.join(' + ');
  const path = a.selection.nodeSelector[0]?.path ?? (a.selection.terms ? at(a, 'affinity.nodeAffinity') : at(a, 'nodeSelector'));
  const providers = pools.filter((p) => a.acc.resources.every((r) => poolOffers(p, r)) && poolAllowed(a.policy, p));
  const hint = providers.length > 0 ? `select a pool that offers it: ${providers.map(describePool).join('; ')}` : `request a resource one of your pools offers`;
  if (selected.length === 0) {
    return fail([finding(ID, path, `the node selection matches no GPU pool of the catalogue (pools: ${poolList(pools)}); the Pod would stay Pending`, hint)]);
  }
  if (offering.length === 0) {
    // Name the pools the selection really points at, not those it merely does not exclude.
    const keys = new Set(a.alternatives.flat().map((r) => r.key));
    const named = selected.filter((p) => Object.keys(p.nodeLabels).some((k) => keys.has(k)));
    const which = a.selection.constrained ? `the selected pools (${poolList(named.length > 0 ? named : selected)})` : 'no pool of the catalogue';
    return fail([finding(ID, path, `${which} ${a.selection.constrained ? 'do not offer' : 'offers'} ${wanted}; the Pod would stay Pending`, hint)]);
  }
  if (usable.length === 0) {
    const allowed = a.policy.accelerators.pools.join(', ');
    return fail([finding(ID, path, `pool${offering.length > 1 ? 's' : ''} ${poolList(offering)} may not be used by namespace ${a.namespace} (allowed pools: ${allowed})`,
      providers.length > 0 ? hint : `use one of the allowed pools: ${allowed}`)]);
  }
  return pass();
}

export const poolSelection: Rule = {
  id: ID,
  summary: 'An accelerator Pod must select a pool that offers its resource and that its namespace may use',
  fix: 'Select a pool that offers the resource and that the namespace may use',
  check,
};
