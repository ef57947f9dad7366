import type { V1PodSpec } from '@kubernetes/client-node';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';

const ID = 'default-priority-class';

/**
 * The Priority admission plugin has already resolved `spec.priority` (and preemptionPolicy) from
 * the global default before webhooks run; it runs again after us and rejects a Pod whose integer
 * priority disagrees with the class we set, so both go.
 */
function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const wanted = a.policy.priority.defaultClass;
  if (!wanted || !a.acc.isAcceleratorPod) return result;
  if (a.chosenPriorityClass !== undefined || spec.priorityClassName === wanted) return result;
  if (a.config.cluster?.priorityClassExists(wanted) === false) {
    // The Priority plugin would reject the Pod for naming a class that does not exist.
    result.warnings.push({
      ruleId: ID, path: `${a.target.path}.priorityClassName`, advisory: true,
      message: `default PriorityClass ${wanted} does not exist in the cluster, so none was set`,
      fix: `create PriorityClass ${wanted}, or change priority.defaultClass in NamespacePolicy ${a.policy.name}`,
    });
    return result;
  }
  spec.priorityClassName = wanted;
  delete spec.priority;
  delete spec.preemptionPolicy;
  result.notes.push({ mutator: ID, path: `${a.target.path}.priorityClassName`, description: `set priorityClassName to ${wanted}` });
  return result;
}

export const priorityClassMutator: Mutator = {
  id: ID,
  summary: "set the namespace's default PriorityClass on accelerator Pods that name none, and drop a conflicting spec.priority",
  setting: 'mutations.priorityClass + priority.defaultClass',
  enabled: (p) => p.mutations.priorityClass && p.priority.defaultClass !== undefined,
  apply,
};
