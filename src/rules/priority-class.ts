import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { at, fail, finding, pass, skip } from './util.js';

const ID = 'priority-class';

function check(a: PodAnalysis): RuleResult {
  const name = a.chosenPriorityClass;
  if (name === undefined) return skip('the Pod names no PriorityClass of its own');
  const { allowedClasses, defaultClass } = a.policy.priority;
  const path = at(a, 'priorityClassName');
  if (name.startsWith('system-')) {
    return fail([finding(ID, path, `PriorityClass ${name} is reserved for cluster components and may not be used in namespace ${a.namespace}`,
      allowedClasses.length > 0 ? `use one of: ${allowedClasses.join(', ')}` : defaultClass ? `remove it to get ${defaultClass}` : 'remove priorityClassName')]);
  }
  if (allowedClasses.length > 0 && !allowedClasses.includes(name) && name !== defaultClass) {
    return fail([finding(ID, path, `PriorityClass ${name} is not allowed in namespace ${a.namespace} (allowed: ${allowedClasses.join(', ')})`,
      `use one of: ${allowedClasses.join(', ')}${defaultClass ? `, or remove the field to get ${defaultClass}` : ''}`)]);
  }
  return pass();
}

export const priorityClass: Rule = {
  id: ID,
  summary: 'Pods may only use the PriorityClasses their namespace allows, never system-* classes',
  fix: 'Use an allowed PriorityClass, or remove the field to get the namespace default',
  check,
};
