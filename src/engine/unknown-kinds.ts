import type { NamespacePolicy } from '../policy/types.js';
import { analyseAccelerators } from '../workload/accelerators.js';
import type { GroupKind } from '../workload/pod-spec.js';
import { findPodShapes } from '../workload/structural.js';
import type { EngineConfig, Finding } from './types.js';

/** Rule id of the report on a kind the kind table does not know that requests accelerators. */
export const UNKNOWN_KIND_RULE = 'unknown-kind';

/**
 * Objects of kinds the kind table does not know are not judged as templates: their fields may mean
 * anything, and a denial on a guessed shape is a false alarm. But a Pod-shaped part that requests
 * accelerators is reported (advisory), so nothing GPU-bearing passes silently; the Pods it makes
 * are judged when they are created.
 */
export function unknownKindFindings(gk: GroupKind, namespace: string, object: unknown, policy: NamespacePolicy, config: EngineConfig, known = false): Finding[] {
  const out: Finding[] = [];
  const kind = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
  for (const shape of findPodShapes(object)) {
    const acc = analyseAccelerators(shape.spec, config.accelerators, { containerPaths: shape.containerPaths, claims: { deviceClasses: policy.accelerators.deviceClasses, assume: false } });
    const first = acc.uses[0];
    if (!first) continue;
    const where = namespace ? `namespace ${namespace} ${policy.accelerators.allowed ? 'allows' : 'may not use'} accelerators` : 'cluster-scoped';
    out.push({
      ruleId: UNKNOWN_KIND_RULE,
      path: `${shape.path ? `${shape.path}.` : ''}${first.ref.resourcesPath}.${first.hasLimit ? 'limits' : 'requests'}[${first.resource}]`,
      message: `not judged: ${known ? `${kind} has no Pod spec where the kind table expects one, but it` : `unknown kind ${kind}`} requests ${[...new Set(acc.uses.map((u) => u.resource))].join(', ')} (${where}); its Pods are judged when created`,
      fix: 'check the template by hand, or ask for the kind to be added to the kind table (src/workload/kinds.ts)',
      advisory: true,
    });
  }
  return out;
}
