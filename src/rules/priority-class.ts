import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { at, fail, finding, pass, skip } from './util.js';

const ID = 'priority-class';

function check(a: PodAnalysis): RuleResult {
  const name = a.chosenPriorityClass;
  if (name === undefined) return skip('the Pod names no PriorityClass of its own');
  const { allowedClasses, defaultClass } = a.policy.priority;
  const path = at(a, 'priorityClassName');
  if (name.startsWith('system-')) {
    // A node agent (DaemonSet) needs its system class to survive node pressure: never tell it to
    // drop the class, tell it where node agents belong (exempt namespaces; policies/exempt.yaml).
    if (a.daemonSet) {
      return fail([finding(ID, path, `PriorityClass ${name} is reserved for cluster components and may not be used in namespace ${a.namespace}, which no exempt NamespacePolicy covers`,
        `install the node agent into a namespace of an exempt NamespacePolicy (the shipped gpu-system policy covers the vendors' namespaces, e.g. gpu-operator, nvidia-device-plugin) or add ${a.namespace} to one; keep priorityClassName ${name}`)]);
    }
    return fail([finding(ID, path, `PriorityClass ${name} is reserved for cluster components and may not be used in namespace ${a.namespace}`,
      allowedClasses.length > 0 ? `use one of: ${allowedClasses.join(', ')}` : defaultClass ? `remove it to get ${defaultClass}` : 'remove priorityClassName')]);
  }
  if (allowedClasses.length > 0 && !allowedClasses.includes(name) && name !== defaultClass) {
    const remove = defaultClass && !a.daemonSet ? `, or remove the field to get ${defaultClass}` : '';
    return fail([finding(ID, path, `PriorityClass ${name} is not allowed in namespace ${a.namespace} (allowed: ${allowedClasses.join(', ')})`,
      `use one of: ${allowedClasses.join(', ')}${remove}`)]);
  }
  return pass();
}

export const priorityClass: Rule = {
  id: ID,
  summary: 'Pods may only use the PriorityClasses their namespace allows, never system-* classes',
  fix: 'Use an allowed PriorityClass, or remove the field to get the namespace default',
  check,
};
