import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { acceleratorPin } from '../scheduling/pools.js';
import { describeRequirement, mayMatch } from '../scheduling/selectors.js';
import { describeTaint, repelling, tolerates } from '../scheduling/tolerations.js';
import { at, fail, finding, skip } from './util.js';

const ID = 'gpu-squatting';

function resourceHint(a: PodAnalysis): string {
  const offered = a.config.pools.flatMap((p) => p.resources).find((r) => !r.includes('*'));
  return offered ?? 'nvidia.com/gpu';
}

function check(a: PodAnalysis): RuleResult {
  if (a.acc.isAcceleratorPod) return skip('the Pod requests an accelerator');
  if (a.daemonSet) return skip('a DaemonSet Pod (node agent)');
  if (a.target.partial) return skip('node selection and tolerations live elsewhere (partial template)');
  const out: Finding[] = [];
  const tolerations = Array.isArray(a.target.spec.tolerations) ? a.target.spec.tolerations : [];
  const fixLimit = `if the workload needs an accelerator, add resources.limits["${resourceHint(a)}"] (a chart refactor may have dropped it)`;
  tolerations.forEach((t, i) => {
    for (const pool of a.config.pools) {
      const taint = repelling(pool.taints).find((taint) => tolerates(t, taint));
      if (!taint) continue;
      const wildcard = !t.key && t.operator === 'Exists';
      out.push(finding(ID, at(a, `tolerations[${i}]`),
        `the Pod requests no accelerator but ${wildcard ? 'tolerates every taint, including' : 'tolerates'} ${describeTaint(taint)} of GPU pool ${pool.name}; it would occupy a GPU node`,
        `${fixLimit}; otherwise remove this toleration`));
      return;
    }
  });
  const pin = acceleratorPin(a.alternatives, a.config.pools);
  if (pin && a.selection.constrained) {
    const pool = a.config.pools.find((p) => Object.hasOwn(p.nodeLabels, pin.key) && mayMatch(pin, p.nodeLabels));
    out.push(finding(ID, pin.path,
      `the Pod requests no accelerator but selects only accelerator nodes (${describeRequirement(pin)}${pool ? `, pool ${pool.name}` : ''})`,
      `${fixLimit}; otherwise remove the selector`));
  }
  return fail(out);
}

export const gpuSquatting: Rule = {
  id: ID,
  summary: 'A Pod that requests no accelerator may not tolerate GPU pool taints or select only GPU nodes',
  fix: 'Add the accelerator limit the workload needs, or remove the GPU toleration / selector',
  check,
};
