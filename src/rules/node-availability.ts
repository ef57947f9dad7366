import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { selectionMatches } from '../scheduling/selectors.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { at, fail, pass, skip } from './util.js';

const ID = 'node-availability';

/**
 * Advisory, with a live cluster view: an accelerator Pod whose selection matches no existing node
 * offering its resources. Not a denial: autoscalers add nodes on demand.
 */
function check(a: PodAnalysis): RuleResult {
  const nodes = a.config.cluster?.nodes();
  if (!nodes) return skip('no live cluster view of nodes');
  if (!a.acc.isAcceleratorPod || a.acc.resources.length === 0) return skip('the Pod requests no accelerator resource');
  if (a.gated) return skip('scheduling gates: a queue controller will still select nodes');
  if (a.target.partial) return skip('node selection lives elsewhere (partial template)');
  for (const n of nodes) {
    if (!selectionMatches(a.alternatives, n.labels)) continue;
    if (a.acc.resources.every((r) => isPositiveInteger(parseQuantity(n.allocatable[r])))) return pass();
  }
  return fail([{
    ruleId: ID,
    path: a.selection.constrained ? a.selection.nodeSelector[0]?.path ?? at(a, 'affinity.nodeAffinity') : at(a, 'containers'),
    message: `no node in the cluster ${a.selection.constrained ? 'matches the selection and ' : ''}offers ${a.acc.resources.join(' + ')} right now; the Pod waits for an autoscaler`,
    fix: 'check the selector against the labels of your GPU nodes (gpu-admission pools discover lists them)',
    advisory: true,
  }]);
}

export const nodeAvailability: Rule = {
  id: ID,
  summary: 'Warns when no existing node matches an accelerator Pod (live cluster view only)',
  fix: 'Check the selection against the labels of the GPU nodes (`gpu-admission pools discover`)',
  advisory: true,
  check,
};
