import type { PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { describeCatalogueSelection, forbiddenReach, poolAllowed, poolOffers, reachPath } from '../scheduling/pools.js';
import { describeRequirement, findConflict } from '../scheduling/selectors.js';
import { at, describePool, fail, finding, pass, poolList, skip } from './util.js';

const ID = 'pool-selection';

/** A finding that warns and never denies: what cannot be told without the cluster's nodes. */
const advisory = (path: string, message: string, fix: string) => ({ ...finding(ID, path, message, fix), advisory: true });

/**
 * The fix of a failed selection, worded only when a finding needs it (most Pods pass): the pools
 * that offer what the Pod requests and the namespace may use, else `none`.
 */
function hintOf(a: PodAnalysis, none = 'request a resource one of your pools offers'): string {
  const providers = a.config.pools.filter((p) => a.acc.resources.every((r) => poolOffers(p, r)) && poolAllowed(a.policy, p));
  return providers.length > 0 ? `select a pool that offers it: ${providers.map(describePool).join('; ')}` : none;
}

function checkNodeName(a: PodAnalysis, wanted: string): RuleResult {
  const node = a.selection.nodeName as { name: string; path: string };
  const { selected, offering, usable } = a.candidates;
  if (selected.length === 0) {
    return fail([finding(ID, node.path, `spec.nodeName names node ${node.name}, which belongs to no GpuPool of the catalogue; it offers no ${wanted}`, hintOf(a))]);
  }
  if (offering.length === 0) {
    return fail([finding(ID, node.path, `spec.nodeName names node ${node.name} of pool ${poolList(selected)}, which does not offer ${wanted}`, hintOf(a))]);
  }
  if (usable.length === 0) {
    return fail([finding(ID, node.path,
      `spec.nodeName names node ${node.name} of pool ${poolList(offering)}, which namespace ${a.namespace} may not use (allowed pools: ${a.policy.accelerators.pools.join(', ')})`, hintOf(a))]);
  }
  return pass();
}

function check(a: PodAnalysis): RuleResult {
  const pools = a.config.pools;
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  if (a.gated) return skip('scheduling gates: judged in full at the UPDATE that removes the last gate');
  if (a.target.partial) return skip('node selection lives elsewhere (partial template)');
  if (pools.length === 0) return skip('the catalogue defines no GpuPool');
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  const wanted = a.acc.resources.join(' + ');
  if (a.selection.nodeName && a.candidates.node) return checkNodeName(a, wanted);
  if (a.alternatives.every((reqs) => findConflict(reqs) !== undefined)) return skip('the selection contradicts itself (node-selection reports it)');
  const result = checkSelection(a, wanted);
  const node = a.selection.nodeName;
  if (!node || (result.status === 'fail' && result.findings.some((f) => !f.advisory))) return result;
  // Offline, or a node the cluster view does not know: the kubelet still enforces the selection
  // (judged above), but which pool the node is in cannot be told.
  const why = a.config.cluster?.nodes() ? 'the cluster view knows no node of that name, so' : 'without a cluster view';
  return fail([advisory(node.path,
    `spec.nodeName binds the Pod to node ${node.name} without the scheduler; ${why} its pool cannot be told`,
    'select the pool with nodeSelector and let the scheduler place the Pod')]);
}

function checkSelection(a: PodAnalysis, wanted: string): RuleResult {
  const pools = a.config.pools;
  const { selected, offering, usable, basis } = a.candidates;
  const path = a.selection.nodeSelector[0]?.path ?? (a.selection.terms ? at(a, 'affinity.nodeAffinity') : at(a, 'nodeSelector'));
  const shown = describeCatalogueSelection(a.alternatives, pools);
  if (selected.length === 0) {
    const what = shown.length > 0 ? shown.join(' / ') : 'the node selection';
    return fail([finding(ID, path, `${what} matches no GpuPool (pools: ${poolList(pools)}); the Pod would stay Pending`, hintOf(a))]);
  }
  if (offering.length === 0) {
    const which = a.selection.constrained ? `the selected pool${selected.length > 1 ? 's' : ''} (${poolList(selected)})` : 'no pool of the catalogue';
    return fail([finding(ID, path, `${which} ${a.selection.constrained ? `do${selected.length > 1 ? '' : 'es'} not offer` : 'offers'} ${wanted}; the Pod would stay Pending`, hintOf(a))]);
  }
  if (usable.length === 0) {
    const allowed = a.policy.accelerators.pools.join(', ');
    return fail([finding(ID, path, `pool${offering.length > 1 ? 's' : ''} ${poolList(offering)} may not be used by namespace ${a.namespace} (allowed pools: ${allowed})`,
      hintOf(a, `use one of the allowed pools: ${allowed}`))]);
  }
  // Restriction by pool is total: no alternative may reach a pool the namespace may not use. The
  // verdict never relies on the mutating webhook (it may be off, and it fails open).
  const forbidden = forbiddenReach(a.candidates, a.policy, a.target.spec.tolerations);
  if (forbidden.length === 0) return pass();
  const names = poolList(forbidden);
  const narrow = `narrow the selection to the allowed pools: ${usable.map(describePool).join('; ')}`;
  if (basis === 'open') {
    const keys = [...new Set(a.candidates.open.map((r) => describeRequirement(r)))].join(', ');
    return fail([advisory(path,
      `which pools ${keys} reaches cannot be told without the cluster's nodes; it may reach ${names}, which namespace ${a.namespace} may not use`, narrow)]);
  }
  const first = forbidden[0];
  const where = first ? reachPath(a.alternatives, first, pools, a.target.path) : path;
  return fail([finding(ID, where,
    `the node selection can reach pool${forbidden.length > 1 ? 's' : ''} ${names}, which namespace ${a.namespace} may not use (it matches ${poolList(offering)})`, narrow)]);
}

export const poolSelection: Rule = {
  id: ID,
  summary: 'An accelerator Pod must select a pool that offers its resource and that its namespace may use, and no other',
  fix: 'Select a pool that offers the resource and that the namespace may use',
  check,
};
