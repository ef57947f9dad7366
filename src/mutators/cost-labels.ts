import type { V1PodSpec } from '@kubernetes/client-node';
import type { PodMetaEdit } from '../engine/meta-edit.js';
import type { Mutator, MutatorResult, PodAnalysis } from '../engine/types.js';
import { pointerToPath } from '../util/pointer.js';

const ID = 'cost-labels';

/**
 * Copies the namespace labels named in costLabels.fromNamespace onto accelerator Pods (and
 * templates, when templates are mutated) that lack them, so cost tools that read Pod labels
 * attribute the GPUs. A label the Pod already has is never overwritten. Without the namespace's
 * labels (offline, namespace not in view) there is nothing to copy.
 */
function apply(_spec: V1PodSpec, a: PodAnalysis, meta: PodMetaEdit): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const ns = a.namespaceLabels;
  if (!ns || !meta?.editable || a.target.metadataPointer === undefined) return result;
  const base = pointerToPath(a.target.metadataPointer);
  for (const key of a.policy.costLabels.fromNamespace) {
    const value = ns[key];
    if (typeof value !== 'string' || value === '' || meta.label(key) !== undefined) continue;
    if (!meta.setLabel(key, value)) continue;
    result.notes.push({ mutator: ID, path: `${base}.labels[${key}]`, description: `copy label ${key}=${value} from namespace ${a.namespace}` });
  }
  return result;
}

export const costLabelsMutator: Mutator = {
  id: ID,
  summary: "copy the namespace's cost labels (costLabels.fromNamespace) onto accelerator Pods that lack them; never overwrites",
  setting: 'mutations.costLabels + costLabels.fromNamespace',
  enabled: (p) => p.mutations.costLabels && p.costLabels.fromNamespace.length > 0,
  apply,
};
