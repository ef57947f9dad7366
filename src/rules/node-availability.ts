import type { Finding, PodAnalysis, Rule } from '../engine/types.js';
import { selectionMatches } from '../scheduling/selectors.js';
import { isPositiveInteger, parseQuantity } from '../util/quantity.js';
import { at } from './util.js';

const ID = 'node-availability';

/**
 * Advisory, with a live cluster view: an accelerator Pod whose selection matches no existing node
 * offering its resources. Not a denial: autoscalers add nodes on demand.
 */
function check(a: PodAnalysis): Finding[] {
  const nodes = a.config.cluster?.nodes();
  if (!nodes || !a.acc.isAcceleratorPod || a.acc.resources.length === 0 || a.gated || a.target.partial) return [];
  for (const n of nodes) {
    if (!selectionMatches(a.alternatives, n.labels)) continue;
    if (a.acc.resources.every((r) => isPositiveInteger(parseQuantity(n.allocatable[r])))) return [];
  }
  return [{
    ruleId: ID,
    path: a.selection.constrained ? a.selection.nodeSelector[0]?.path ?? at(a, 'affinity.nodeAffinity') : at(a, 'containers'),
    message: `no node in the cluster ${a.selection.constrained ? 'matches the selection and ' : ''}offers ${a.acc.resources.join(' + ')} right now; the Pod waits for an autoscaler`,
    fix: 'check the selector against the labels of your GPU nodes (gpu-admission pools discover lists them)',
    advisory: true,
  }];
}

export const nodeAvailability: Rule = {
  id: ID,
  summary: 'Warns when no existing node matches an accelerator Pod (live cluster view only)',
  check,
};
