import type { V1Container, V1PodSpec, V1Probe } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';
import { formatSeconds } from '../util/duration.js';
import { PROBE_DEFAULTS, probeBudget, probeHandler } from '../workload/probes.js';
import { ContainerEdits } from './container-edits.js';

const ID = 'startup-probe';

function newStartupProbe(source: V1Probe, min: number): V1Probe | undefined {
  const handler = probeHandler(source);
  if (!handler) return undefined;
  const period = PROBE_DEFAULTS.periodSeconds;
  return {
    ...(jsonpatch.deepClone(handler) as V1Probe),
    periodSeconds: period,
    timeoutSeconds: typeof source.timeoutSeconds === 'number' ? source.timeoutSeconds : PROBE_DEFAULTS.timeoutSeconds,
    successThreshold: 1,
    failureThreshold: Math.max(1, Math.ceil(min / period)),
  };
}

function apply(spec: V1PodSpec, a: PodAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const min = a.policy.startupProbe.minBudgetSeconds;
  if (min === undefined || min === 0) return result;
  const edits = new ContainerEdits(spec);
  const replace = (index: number, c: V1Container): void => edits.replace('containers', index, c);
  for (const ref of a.acc.acceleratorContainers) {
    const c = spec.containers?.[ref.index];
    if (!c) continue;
    const path = `${a.target.path}.${ref.path}.startupProbe`;
    const name = c.name ?? ref.path;
    if (c.startupProbe) {
      if (probeBudget(c.startupProbe) >= min) continue;
      const period = Math.max(1, c.startupProbe.periodSeconds ?? PROBE_DEFAULTS.periodSeconds);
      const threshold = Math.ceil((min - (c.startupProbe.initialDelaySeconds ?? 0)) / period);
      replace(ref.index, { ...c, startupProbe: { ...c.startupProbe, failureThreshold: Math.max(1, threshold) } });
      result.notes.push({ mutator: ID, path, description: `raise failureThreshold of "${name}" to ${threshold} (start-up budget ${formatSeconds(min)})` });
      continue;
    }
    const source = c.readinessProbe ?? c.livenessProbe;
    const probe = source ? newStartupProbe(source, min) : undefined;
    if (!probe) {
      result.warnings.push({
        ruleId: ID, path: `${a.target.path}.${ref.path}`, advisory: true,
        message: `container "${name}" has no probe, so no start-up budget was set`,
        fix: `add a readinessProbe; a startupProbe of ${formatSeconds(min)} will be derived from it`,
      });
      continue;
    }
    replace(ref.index, { ...c, startupProbe: probe });
    result.notes.push({ mutator: ID, path, description: `add startupProbe to "${name}" from its ${c.readinessProbe ? 'readiness' : 'liveness'} probe (budget ${formatSeconds(min)})` });
  }
  edits.commit();
  return result;
}

export const startupProbeMutator: Mutator = {
  id: ID,
  summary: "add or raise a startupProbe so failureThreshold x periodSeconds covers the policy's start-up budget",
  setting: 'mutations.startupProbe + startupProbe.minBudgetSeconds',
  enabled: (p) => p.mutations.startupProbe && p.startupProbe.minBudgetSeconds !== undefined,
  apply,
};
