import type { PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { pointerToPath } from '../util/pointer.js';
import { fail, pass, skip } from './util.js';

const ID = 'cost-labels';

type Labels = Record<string, unknown>;
const asLabels = (v: unknown): Labels => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Labels) : {});

/**
 * Kinds whose operator copies the object's own labels onto the Pods it creates, for specs that
 * carry no Pod metadata of their own. KServe InferenceService: the component's objectMeta is
 * `utils.Union(isvc.Labels, ...)` (kserve/kserve pkg/controller/v1beta1/inferenceservice/components),
 * merged with the component's own `labels` in newer releases.
 */
const PROPAGATES_OBJECT_LABELS = new Set(['serving.kserve.io/InferenceService']);

/** Where the labels of the Pods this spec becomes are, and what they are; undefined when unknown. */
export function podLabels(a: PodAnalysis): { path: string; labels: Labels } | undefined {
  if (!a.target.virtual && a.target.metadataPointer !== undefined) {
    return { path: `${pointerToPath(a.target.metadataPointer)}.labels`, labels: asLabels(a.target.metadata?.labels) };
  }
  if (a.objectKind && PROPAGATES_OBJECT_LABELS.has(a.objectKind)) {
    const own = asLabels((a.target.spec as unknown as { labels?: unknown }).labels);
    return { path: 'metadata.labels', labels: { ...asLabels(a.objectMeta?.labels), ...own } };
  }
  return undefined;
}

/** Namespace labels the cost-labels mutation copies onto this spec's Pods when they are created. */
export function copiedFromNamespace(a: PodAnalysis): Set<string> {
  const c = a.policy.costLabels;
  if (!a.policy.mutations.costLabels || !a.namespaceLabels) return new Set();
  return new Set(c.fromNamespace.filter((k) => typeof a.namespaceLabels?.[k] === 'string' && a.namespaceLabels[k] !== ''));
}

const present = (labels: Labels, key: string): boolean => typeof labels[key] === 'string' && labels[key] !== '';

function check(a: PodAnalysis): RuleResult {
  const required = a.policy.costLabels.required;
  if (required.length === 0) return skip('the policy requires no cost labels (costLabels.required)');
  if (!a.acc.isAcceleratorPod) return skip('the Pod requests no accelerator');
  const where = podLabels(a);
  if (!where) return skip(`the labels of its Pods are set by the operator from fields not judged here (${a.objectKind ?? 'unknown kind'})`);
  // A template's Pods go through the Pod mutation when they are created: what it copies from the
  // namespace counts. A Pod under review was mutated already (or, in audit mode, was not).
  const copied = a.target.isTemplate ? copiedFromNamespace(a) : new Set<string>();
  const missing = required.filter((k) => !present(where.labels, k) && !copied.has(k));
  if (missing.length === 0) return pass();
  const fromNs = a.policy.costLabels.fromNamespace.filter((k) => missing.includes(k));
  return fail([{
    ruleId: ID, path: where.path,
    message: `accelerator ${a.target.isTemplate ? 'Pod template' : 'Pod'} lacks the cost label${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: GPU spend is attributed by Pod labels (OpenCost, Kubecost, cloud billing exports), so this workload's GPUs are counted for nobody`,
    fix: `add ${missing.map((k) => `${k}: <value>`).join(', ')} to ${where.path}${fromNs.length > 0 ? `, or label namespace ${a.namespace} with ${fromNs.join(', ')} so the mutation copies ${fromNs.length > 1 ? 'them' : 'it'}` : ''} (policy costLabels.required)`,
  }]);
}

export const costLabels: Rule = {
  id: ID,
  summary: 'Accelerator Pods and templates carry the cost-attribution labels the policy requires (labels copied from the namespace count)',
  fix: 'Add the labels to the Pod template metadata, or label the namespace with the ones the policy copies',
  check,
};
