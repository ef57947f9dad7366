import type { Finding, PodAnalysis, Rule } from '../engine/types.js';
import { describeTaint, tolerationFor, untolerated } from '../scheduling/tolerations.js';
import { at, finding } from './util.js';

const ID = 'pool-tolerations';

function check(a: PodAnalysis): Finding[] {
  if (!a.acc.isAcceleratorPod || a.gated || a.target.partial || !a.policy.accelerators.allowed) return [];
  const pools = a.candidates.usable;
  if (pools.length === 0) return [];
  const missing = pools.map((p) => ({ pool: p, taints: untolerated(a.target.spec.tolerations, p.taints) }));
  if (missing.some((m) => m.taints.length === 0)) return [];
  const nearest = missing.reduce((x, y) => (y.taints.length < x.taints.length ? y : x));
  const listed = missing.map((m) => `${m.pool.name} (${m.taints.map(describeTaint).join(', ')})`).join('; ');
  const add = nearest.taints.map((t) => JSON.stringify(tolerationFor(t))).join(', ');
  return [finding(ID, at(a, 'tolerations'),
    `the Pod does not tolerate the taints of any pool it may land on: ${listed}; it would stay Pending`,
    `add tolerations ${add}, or turn on mutations.tolerations in the namespace policy`)];
}

export const poolTolerations: Rule = {
  id: ID,
  summary: 'An accelerator Pod must tolerate the taints of at least one pool it may land on',
  check,
};
