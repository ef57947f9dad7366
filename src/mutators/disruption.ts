import type { V1PodSpec } from '@kubernetes/client-node';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';
import type { PodMetaEdit } from '../engine/meta-edit.js';
import { roleOfOwner, workloadKind, type WorkloadRole } from '../workload/kinds.js';

const ID = 'disruption';

/**
 * The Pod annotations the node autoscalers honour before they evict a Pod to consolidate or scale
 * down its node, with the value that protects it.
 * - Karpenter: `karpenter.sh/do-not-disrupt: "true"` on a Pod blocks voluntary disruption
 *   (consolidation, drift) of its node; not expiration or forceful termination
 *   (https://karpenter.sh/preview/reference/annotations/). A duration value (`5m`) is the user's.
 * - Cluster Autoscaler: `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` keeps the node
 *   from scale-down (kubernetes/autoscaler cluster-autoscaler/FAQ.md, "What types of pods can
 *   prevent CA from removing a node?"; since CA 1.2.3).
 */
export const DISRUPTION_ANNOTATIONS: readonly { key: string; value: string; evictable: string }[] = [
  { key: 'karpenter.sh/do-not-disrupt', value: 'true', evictable: 'false' },
  { key: 'cluster-autoscaler.kubernetes.io/safe-to-evict', value: 'false', evictable: 'true' },
];

/** The role of the Pods of the object under review: the kind of a template's object, a Pod's controller. */
export function podRole(a: PodAnalysis): WorkloadRole | undefined {
  const key = a.objectKind ?? '/Pod';
  const slash = key.indexOf('/');
  const gk = { group: key.slice(0, slash), kind: key.slice(slash + 1) };
  if (key !== '/Pod') return workloadKind(gk)?.role;
  const meta = a.objectMeta ?? a.target.metadata;
  return roleOfOwner(meta?.ownerReferences, meta?.labels);
}

function protects(a: PodAnalysis): boolean {
  if (a.daemonSet) return false;
  const protect = a.policy.disruption.protect;
  if (protect === 'all') return true;
  return protect === 'training' && podRole(a) === 'training';
}

/** Metadata path for messages: `metadata.annotations` of the Pod or of the template. */
const annotationsPath = (a: PodAnalysis): string => (a.target.path === 'spec' ? 'metadata.annotations' : `${a.target.path.replace(/\.spec$/, '')}.metadata.annotations`);

function apply(_spec: V1PodSpec, a: PodAnalysis, meta: PodMetaEdit): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  if (!a.acc.isAcceleratorPod || !meta.editable || !protects(a)) return result;
  const at = annotationsPath(a);
  for (const { key, value, evictable } of DISRUPTION_ANNOTATIONS) {
    const current = meta.annotation(key);
    if (current === undefined) {
      meta.setAnnotation(key, value);
      result.notes.push({ mutator: ID, path: `${at}["${key}"]`, description: `set ${key}: "${value}" so node autoscalers do not evict the Pod to consolidate its node` });
    } else if (current === evictable) {
      // The user's value wins: it is a deliberate opt-out, said once per review.
      result.warnings.push({
        ruleId: ID, path: `${at}["${key}"]`, advisory: true,
        message: `${key} is "${current}": node autoscalers may evict this accelerator Pod to consolidate its node; the annotation was left as set`,
        fix: `remove the annotation to get ${key}: "${value}", or keep it if the workload checkpoints and tolerates eviction (NamespacePolicy ${a.policy.name}, disruption.protect ${a.policy.disruption.protect})`,
      });
    }
  }
  return result;
}

export const disruptionMutator: Mutator = {
  id: ID,
  summary: 'add the node autoscalers\' do-not-evict annotations (Karpenter do-not-disrupt, Cluster Autoscaler safe-to-evict "false") to accelerator Pods of training workloads (or all)',
  setting: 'mutations.disruption + disruption.protect',
  enabled: (p) => p.mutations.disruption && p.disruption.protect !== 'none',
  apply,
};
