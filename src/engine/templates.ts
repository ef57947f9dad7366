import { analyse } from './analyse.js';
import { mutatePod, validatePod } from './evaluate.js';
import type { Finding, PodAnalysis } from './types.js';

const key = (f: Finding): string => `${f.ruleId}\u0000${f.path}`;

/**
 * Templates are not mutated by default (GitOps tools would see drift), but the Pods they create
 * are. A template finding that Pod mutation will fix is therefore a warning saying what the Pods
 * will receive, not a denial.
 */
export function templateFindings(a: PodAnalysis, findings: Finding[]): Finding[] {
  if (findings.every((f) => f.advisory)) return findings;
  const m = mutatePod(a);
  if (m.notes.length === 0) return findings;
  const mutated = analyse({ target: { ...a.target, spec: m.spec, metadata: m.metadata }, namespace: a.namespace, objectMeta: a.objectMeta, policy: a.policy, config: a.config, objectKind: a.objectKind, userInfo: a.userInfo, namespaceLabels: a.namespaceLabels, prior: a });
  const remaining = new Set(validatePod(mutated).map(key));
  const receive = m.notes.map((n) => n.description).join('; ');
  return findings.map((f) => (remaining.has(key(f)) || f.advisory ? f : {
    ...f,
    advisory: true,
    message: `its Pods will receive: ${receive}`,
    fix: `nothing to do; to make it visible in the template: ${f.fix}`,
  }));
}
