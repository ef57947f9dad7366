import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { describeTaint, tolerationFor, untolerated } from '../scheduling/tolerations.js';
import { at, fail, finding, pass, skip } from './util.js';

const ID = 'pool-tolerations';

function check(a: PodAnalysis): RuleResult {
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  if (a.gated) return skip('scheduling gates: judged in full at the UPDATE that removes the last gate');
  if (a.selection.nodeName) return skip('spec.nodeName skips the scheduler: NoSchedule taints do not apply');
  if (a.target.partial) return skip('tolerations live elsewhere (partial template)');
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  const pools = a.candidates.usable;
  if (pools.length === 0) return skip('no usable pool (pool-selection reports it)');
  const missing = pools.map((p) => ({ pool: p, taints: untolerated(a.target.spec.tolerations, p.taints) }));
  if (missing.some((m) => m.taints.length === 0)) return pass();
  const nearest = missing.reduce((x, y) => (y.taints.length < x.taints.length ? y : x));
  const listed = missing.map((m) => `${m.pool.name} (${m.taints.map(describeTaint).join(', ')})`).join('; ');
  const add = nearest.taints.map((t) => JSON.stringify(tolerationFor(t))).join(', ');
  return fail([finding(ID, at(a, 'tolerations'),
    `the Pod does not tolerate the taints of any pool it may land on: ${listed}; it would stay Pending`,
    `add tolerations ${add}${switchHint(a)}`)]);
}

/** Never suggest a switch that is already on: say why it did not help instead. */
function switchHint(a: PodAnalysis): string {
  if (!a.policy.mutations.tolerations) return ', or turn on mutations.tolerations in the namespace policy';
  if (a.target.isTemplate && !a.policy.mutations.templates) return '';
  return ' (mutations.tolerations adds them only when an ungated Pod is created and one pool can be picked: select one pool, or set accelerators.defaultPool)';
}

export const poolTolerations: Rule = {
  id: ID,
  summary: 'An accelerator Pod must tolerate the taints of at least one pool it may land on',
  fix: "Add the pool's tolerations, or turn on mutations.tolerations",
  check,
};
