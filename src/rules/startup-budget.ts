import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { probeBudget } from '../workload/probes.js';
import { formatSeconds } from '../util/duration.js';
import { filledBy } from '../workload/fills.js';
import { at, fail, skip } from './util.js';

const ID = 'startup-budget';

/** Advisory: a liveness probe that may kill a model server before it has loaded. */
function check(a: PodAnalysis): RuleResult {
  const min = a.policy.startupProbe.minBudgetSeconds;
  if (min === undefined) return skip('the policy sets no start-up budget');
  if (a.acc.acceleratorContainers.length === 0) return skip('no accelerator container');
  const out: Finding[] = [];
  for (const ref of a.acc.acceleratorContainers) {
    const c = ref.container;
    // A startupProbe restarts the container when it runs out, like a liveness probe does.
    const probe = c.startupProbe ?? c.livenessProbe;
    if (!probe) {
      // The operator may inject a liveness probe of its own into the Pods it creates: its budget counts.
      const filled = filledBy(a.target, ref, 'livenessProbe');
      const budget = filled?.fill.budgetSeconds;
      if (filled && budget !== undefined && budget < min) {
        out.push({
          ruleId: ID,
          path: at(a, `${ref.path}.startupProbe`),
          message: `container "${c.name ?? ref.path}" has no probe, but ${filled.operator} gives its Pods ${filled.fill.what}: ${formatSeconds(budget)} to start; policy wants ${formatSeconds(min)}`,
          fix: `add a startupProbe with failureThreshold × periodSeconds >= ${min} (source: ${filled.fill.source})`,
          advisory: true,
        });
      }
      continue;
    }
    const budget = probeBudget(probe);
    if (budget >= min) continue;
    const which = c.startupProbe ? 'startupProbe' : 'livenessProbe';
    out.push({
      ruleId: ID,
      path: at(a, `${ref.path}.${which}`),
      message: `container "${c.name ?? ref.path}" gets ${formatSeconds(budget)} to start before its liveness probe can kill it; policy wants ${formatSeconds(min)}`,
      fix: `add a startupProbe with failureThreshold × periodSeconds >= ${min}`,
      advisory: true,
    });
  }
  return fail(out);
}

export const startupBudget: Rule = {
  id: ID,
  summary: 'Accelerator containers with a liveness probe get the start-up budget the policy asks for (advisory)',
  fix: 'Add a startupProbe whose failureThreshold x periodSeconds covers the budget',
  advisory: true,
  check,
};
