import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { acceleratorPin } from '../scheduling/pools.js';
import { describeRequirement, mayMatch } from '../scheduling/selectors.js';
import { describeTaint, repelling, tolerates } from '../scheduling/tolerations.js';
import { at, fail, finding, poolList, skip } from './util.js';

const ID = 'gpu-squatting';

/** The resource of the pools concerned (never another vendor's), for the fix text. */
function resourceHint(pools: GpuPool[]): string {
  const offered = pools.flatMap((p) => p.resources).find((r) => !r.includes('*'));
  return offered ?? 'nvidia.com/gpu';
}

const fixLimit = (pools: GpuPool[]): string =>
  `if the workload needs an accelerator, add resources.limits["${resourceHint(pools)}"] (a chart refactor may have dropped it)`;

/** For a DaemonSet the policy does not name: where node agents belong. */
const agentHint = (a: PodAnalysis): string => a.daemonSet
  ? `; a node agent belongs in an exempt namespace, or is named in spec.nodeAgents of NamespacePolicy ${a.policy.name}`
  : '';

function check(a: PodAnalysis): RuleResult {
  if (a.acc.isAcceleratorPod) return skip('the Pod requests an accelerator');
  // A claim nobody can classify may well allocate a GPU: accelerator-allowed warns about it instead.
  if (a.acc.unclassified.length > 0) return skip('a resource claim of unknown device class may allocate an accelerator');
  // Only the DaemonSets the policy names are node agents: any tenant may create a DaemonSet.
  if (a.nodeAgent) return skip('a node agent the policy names (spec.nodeAgents)');
  if (a.target.partial) return skip('node selection and tolerations live elsewhere (partial template)');
  const out: Finding[] = [];
  const node = a.selection.nodeName;
  if (node && a.candidates.node) {
    // spec.nodeName skips the scheduler: no taint keeps the Pod off that node. Offline (or a node
    // the cluster view does not know) it cannot be told; the tolerations and selection are judged.
    const pools = a.candidates.selected;
    if (pools.length > 0) {
      out.push(finding(ID, node.path,
        `the Pod requests no accelerator but spec.nodeName binds it to node ${node.name} of GPU pool ${poolList(pools)} (taints do not apply without the scheduler); it would occupy a GPU node`,
        `${fixLimit(pools)}; otherwise name a node outside the GPU pools, or let the scheduler place it`));
    }
    return fail(out);
  }
  const tolerations = Array.isArray(a.target.spec.tolerations) ? a.target.spec.tolerations : [];
  // Name the pools the Pod's selection picks (closed-world), not merely the first with the taint.
  const order = [...a.candidates.selected, ...a.config.pools.filter((p) => !a.candidates.selected.includes(p))];
  tolerations.forEach((t, i) => {
    for (const pool of order) {
      const taint = repelling(pool.taints).find((taint) => tolerates(t, taint));
      if (!taint) continue;
      const wildcard = !t.key && t.operator === 'Exists';
      out.push(finding(ID, at(a, `tolerations[${i}]`),
        `the Pod requests no accelerator but ${wildcard ? 'tolerates every taint, including' : 'tolerates'} ${describeTaint(taint)} of GPU pool ${pool.name}; it would occupy a GPU node`,
        `${fixLimit([pool])}; otherwise remove this toleration${agentHint(a)}`));
      return;
    }
  });
  const pin = acceleratorPin(a.alternatives, a.config.pools);
  if (pin && a.selection.constrained) {
    const picked = a.candidates.selected.filter((p) => Object.hasOwn(p.nodeLabels, pin.key) && mayMatch(pin, p.nodeLabels));
    const pools = picked.length > 0 ? picked : a.config.pools.filter((p) => Object.hasOwn(p.nodeLabels, pin.key) && mayMatch(pin, p.nodeLabels));
    out.push(finding(ID, pin.path,
      `the Pod requests no accelerator but selects only accelerator nodes (${describeRequirement(pin)}${pools.length > 0 ? `, pool${pools.length > 1 ? 's' : ''} ${poolList(pools)}` : ''})`,
      `${fixLimit(pools.length > 0 ? pools : a.config.pools)}; otherwise remove the selector`));
  }
  return fail(out);
}

export const gpuSquatting: Rule = {
  id: ID,
  summary: 'A Pod that requests no accelerator may not tolerate GPU pool taints, select only GPU nodes, or be named onto a GPU node',
  fix: 'Add the accelerator limit the workload needs, or remove the GPU toleration / selector / nodeName',
  check,
};
