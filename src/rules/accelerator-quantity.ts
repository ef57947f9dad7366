import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { at, fail, finding, skip } from './util.js';

const ID = 'accelerator-quantity';

function check(a: PodAnalysis): RuleResult {
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  if (a.acc.perPod.size === 0) return skip('the Pod requests no accelerator resource');
  const out: Finding[] = [];
  const nsMax = a.policy.accelerators.maxPerPod;
  const pools = a.candidates.usable.length > 0 ? a.candidates.usable : a.candidates.offering;
  for (const [resource, count] of a.acc.perPod) {
    const first = a.acc.uses.find((u) => u.resource === resource);
    const path = at(a, first ? `${first.ref.resourcesPath}.limits[${resource}]` : 'containers');
    if (nsMax !== undefined && count > nsMax) {
      out.push(finding(ID, path, `the Pod requests ${count} ${resource} in total, more than the ${nsMax} per Pod namespace ${a.namespace} allows`,
        `request at most ${nsMax} per Pod, or split the work across Pods`));
      continue;
    }
    const limits = pools.map((p) => p.maxPerPod);
    if (pools.length > 0 && limits.every((m): m is number => m !== undefined)) {
      const best = Math.max(...limits);
      if (count > best) {
        const names = pools.map((p) => `${p.name} (${p.maxPerPod})`).join(', ');
        out.push(finding(ID, path, `the Pod requests ${count} ${resource} in total, more than any node of its pools holds: ${names}`,
          `request at most ${best} per Pod so that one node can hold it`));
      }
    }
  }
  return fail(out);
}

export const acceleratorQuantity: Rule = {
  id: ID,
  summary: 'A Pod may not request more accelerators than its namespace or its pool allows per Pod',
  fix: 'Request at most the per-Pod maximum of the namespace and of the largest node of the pool',
  check,
};
