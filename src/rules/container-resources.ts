import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { filledBy, filledMessage, type FillField } from '../workload/fills.js';
import type { ContainerRef } from '../workload/accelerators.js';
import { at, fail, finding, skip } from './util.js';

const ID = 'container-resources';

function has(map: unknown, key: string): boolean {
  return map !== null && typeof map === 'object' && Object.hasOwn(map, key);
}

/**
 * A requirement the kind's operator fills in the Pods it creates is no denial on the template: an
 * advisory names the operator's default instead (the Pods are judged again when created).
 */
function missing(a: PodAnalysis, ref: ContainerRef, field: FillField, path: string, message: string, fix: string): Finding {
  const filled = filledBy(a.target, ref, field);
  if (!filled) return finding(ID, path, message, fix);
  const what = { readinessProbe: 'readinessProbe', livenessProbe: 'livenessProbe', memoryLimit: 'memory limit', cpuRequest: 'CPU request' }[field];
  return { ruleId: ID, path, message: filledMessage(ref.container.name ?? ref.path, what, filled), fix: `nothing to do (source: ${filled.fill.source}); to set it yourself: ${fix}`, advisory: true };
}

function check(a: PodAnalysis): RuleResult {
  const { memoryLimit, cpuRequest, readinessProbe } = a.policy.requirements;
  if (!memoryLimit && !cpuRequest && !readinessProbe) return skip('the policy requires no container resources or probes');
  if (!a.policy.accelerators.allowed) return skip('the namespace allows no accelerators (accelerator-allowed reports it)');
  if (a.acc.acceleratorContainers.length === 0) return skip('no accelerator container');
  const out: Finding[] = [];
  for (const ref of a.acc.acceleratorContainers) {
    const r = ref.container.resources ?? {};
    const name = ref.container.name ?? ref.path;
    if (memoryLimit && !has(r.limits, 'memory')) {
      out.push(missing(a, ref, 'memoryLimit', at(a, `${ref.resourcesPath}.limits.memory`),
        `accelerator container "${name}" has no memory limit; the namespace policy requires one`,
        'set resources.limits.memory (e.g. "32Gi") so one Pod cannot starve the others on the GPU node'));
    }
    if (cpuRequest && !has(r.requests, 'cpu') && !has(r.limits, 'cpu')) {
      out.push(missing(a, ref, 'cpuRequest', at(a, `${ref.resourcesPath}.requests.cpu`),
        `accelerator container "${name}" has no CPU request; the namespace policy requires one`,
        'set resources.requests.cpu (e.g. "4") so the scheduler reserves CPU to feed the accelerator'));
    }
    // A model server without readiness takes traffic before its weights are loaded; the
    // startupProbe budget is also derived from this probe.
    if (readinessProbe && !ref.container.readinessProbe && !a.target.virtual) {
      out.push(missing(a, ref, 'readinessProbe', at(a, `${ref.path}.readinessProbe`),
        `accelerator container "${name}" has no readinessProbe; the namespace policy requires one`,
        'add a readinessProbe (e.g. httpGet /health on the serving port) so traffic waits until the model is loaded'));
    }
  }
  return fail(out);
}

export const containerResources: Rule = {
  id: ID,
  summary: 'Accelerator containers carry the memory limit, CPU request and readiness probe the policy requires',
  fix: 'Add the memory limit, CPU request or readinessProbe the policy requires',
  check,
};
