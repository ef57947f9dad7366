import type { V1LabelSelector, V1PodSpec } from '@kubernetes/client-node';
import type { Engine } from '../engine/engine.js';
import type { Finding } from '../engine/types.js';
import { selectorMatches } from '../policy/resolve.js';
import { analyseAccelerators } from '../workload/accelerators.js';
import { groupOf, kindKey, REPLICA_SPECS } from '../workload/kinds.js';
import { findPodSpecs } from '../workload/pod-spec.js';
import type { SourceObject } from './input.js';
import { exemptIds, isLifted } from '../engine/exemptions.js';
import type { PodAnalysis } from '../engine/types.js';
import { DISRUPTION_BUDGET_RULE } from '../rules/audit-only.js';

export { DISRUPTION_BUDGET_RULE };

/*
 * Audit-only rule disruption-budget: a multi-replica accelerator workload without a
 * PodDisruptionBudget. The webhook cannot create one (its configurations declare `sideEffects:
 * None`), and a budget is a separate object it never sees with the workload, so only an audit of a
 * whole input (files or a cluster) can tell. Setting: `disruption.budgets`.
 */

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown, d: number): number => (typeof v === 'number' && Number.isInteger(v) ? v : d);
const sum = (items: unknown, f: (item: Record<string, unknown>) => number): number =>
  Object.values(obj(items)).concat(Array.isArray(items) ? items : []).reduce<number>((n, i) => n + f(obj(i)), 0);

/** How many Pods the workload runs at once, for the kinds the rule judges; undefined for the rest. */
export function podCount(key: string, spec: Record<string, unknown>): number | undefined {
  switch (key) {
    case 'apps/Deployment': case 'apps/StatefulSet': case 'apps/ReplicaSet': case '/ReplicationController':
      return int(spec['replicas'], 1);
    // LWS: replicas groups of leaderWorkerTemplate.size Pods (kubernetes-sigs/lws leaderworkerset_types.go).
    case 'leaderworkerset.x-k8s.io/LeaderWorkerSet':
      return int(spec['replicas'], 1) * int(obj(spec['leaderWorkerTemplate'])['size'], 1);
    case 'batch/Job':
      return int(spec['parallelism'], 1);
    // JobSet: replicas x min(parallelism, completions) per replicatedJob (kueue jobset_controller.go podsCount).
    case 'jobset.x-k8s.io/JobSet':
      return (Array.isArray(spec['replicatedJobs']) ? spec['replicatedJobs'] : []).reduce<number>((n, r) => {
        const job = obj(obj(obj(r)['template'])['spec']);
        const parallelism = int(job['parallelism'], 1);
        return n + int(obj(r)['replicas'], 1) * Math.min(parallelism, int(job['completions'], parallelism));
      }, 0);
    case 'batch.volcano.sh/Job':
      return (Array.isArray(spec['tasks']) ? spec['tasks'] : []).reduce<number>((n, t) => n + int(obj(t)['replicas'], 1), 0);
    default: {
      const field = REPLICA_SPECS[key];
      return field ? sum(spec[field], (r) => int(r['replicas'], 1)) : undefined;
    }
  }
}


/**
 * Labels the controller adds to the Pods it creates, which a budget may select on besides the
 * template's: LWS `leaderworkerset.sigs.k8s.io/name` (kubernetes-sigs/lws api SetNameLabelKey), the
 * Job controller's `batch.kubernetes.io/job-name` and `job-name` (Kubernetes 1.27+), the Kubeflow
 * Training Operator's `training.kubeflow.org/job-name`.
 */
function controllerLabels(key: string, name: string): Record<string, string> {
  if (key === 'leaderworkerset.x-k8s.io/LeaderWorkerSet') return { 'leaderworkerset.sigs.k8s.io/name': name };
  if (key === 'batch/Job') return { 'batch.kubernetes.io/job-name': name, 'job-name': name };
  if (REPLICA_SPECS[key] && key !== 'kubeflow.org/MPIJob') return { 'training.kubeflow.org/job-name': name };
  return {};
}

interface Budget {
  namespace: string;
  name: string;
  selector?: V1LabelSelector;
}

const isBudget = (o: Record<string, unknown>): boolean =>
  o['kind'] === 'PodDisruptionBudget' && (o['apiVersion'] === 'policy/v1' || o['apiVersion'] === 'policy/v1beta1');

function budgetsOf(objects: readonly SourceObject[], defaultNamespace: string): Budget[] {
  return objects.filter((s) => isBudget(s.object)).map((s) => {
    const meta = obj(s.object['metadata']);
    const sel = obj(s.object['spec'])['selector'];
    return { namespace: str(meta['namespace']) || defaultNamespace, name: str(meta['name']), ...(sel !== null && typeof sel === 'object' ? { selector: sel as V1LabelSelector } : {}) };
  });
}

/** A policy/v1 budget with an empty selector selects every Pod of its namespace; a null one none. */
const selects = (b: Budget, labels: Record<string, string>): boolean => b.selector !== undefined && selectorMatches(b.selector, labels);

export interface BudgetCheck {
  /** The finding, with advisory set for `disruption.budgets: warn`. */
  finding: Finding;
  /** The labels a budget could select the workload's accelerator Pods by. */
  labels: Record<string, string>;
  pods: number;
}

/**
 * The disruption-budget check of one workload object: undefined when it passes or does not apply
 * (not a judged kind, one Pod, no accelerator, a budget selects every accelerator template's Pods,
 * the policy turns the check off).
 */
export function checkBudget(engine: Engine, object: Record<string, unknown>, namespace: string, budgets: readonly Budget[]): BudgetCheck | undefined {
  const key = kindKey({ group: groupOf(str(object['apiVersion'])), kind: str(object['kind']) });
  const spec = obj(object['spec']);
  const pods = podCount(key, spec);
  if (pods === undefined || pods <= 1) return undefined;
  const policy = engine.resolver.resolve(namespace);
  if (!policy || policy.exempt || policy.disruption.budgets === 'off') return undefined;
  const name = str(obj(object['metadata'])['name']);
  const gk = { group: groupOf(str(object['apiVersion'])), kind: str(object['kind']) };
  const templates = findPodSpecs(gk, object).filter((t) => t.isTemplate && !t.virtual && analyseAccelerators(t.spec as V1PodSpec, engine.config.accelerators).isAcceleratorPod);
  if (templates.length === 0) return undefined;
  const extra = controllerLabels(key, name);
  const inNamespace = budgets.filter((b) => b.namespace === namespace);
  const uncovered = templates.filter((t) => !inNamespace.some((b) => selects(b, { ...(t.metadata?.labels ?? {}), ...extra })));
  if (uncovered.length === 0) return undefined;
  const first = uncovered[0] as (typeof uncovered)[number];
  // Exemptions lift it as they lift a rule on the template (owner kind, service account).
  if (isLifted(exemptIds({ policy, target: first, objectMeta: obj(object['metadata']) } as unknown as PodAnalysis), DISRUPTION_BUDGET_RULE)) return undefined;
  const labels = { ...(first.metadata?.labels ?? {}), ...extra };
  const where = first.path.replace(/\.spec$/, '');
  return {
    pods,
    labels,
    finding: {
      ruleId: DISRUPTION_BUDGET_RULE,
      path: `${where}.metadata.labels`,
      message: `${pods} accelerator Pods and no PodDisruptionBudget in namespace ${namespace} selects their labels: a node drain or upgrade may evict them all at once`,
      fix: `add a policy/v1 PodDisruptionBudget in ${namespace} whose selector matches ${JSON.stringify(labels)} (gpu-admission audit --suggest-pdbs prints one; NamespacePolicy ${policy.name}, disruption.budgets ${policy.disruption.budgets})`,
      ...(policy.disruption.budgets === 'warn' ? { advisory: true } : {}),
    },
  };
}

/** The budgets an input carries (PodDisruptionBudget policy/v1, and the removed policy/v1beta1). */
export { budgetsOf };

/** Controllers with a scale subresource: a budget of their Pods may use maxUnavailable. */
const SCALABLE = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/ReplicaSet', '/ReplicationController', 'leaderworkerset.x-k8s.io/LeaderWorkerSet']);

/**
 * A PodDisruptionBudget for a workload the check flagged. Replicas of a scalable controller
 * (LeaderWorkerSet Pods belong to its StatefulSets): `maxUnavailable: 1`, a drain takes one at a
 * time. The Pods of Jobs and training operators: their controllers have no scale subresource, and
 * for such Pods a budget may only use an integer `minAvailable`
 * (kubernetes.io/docs/tasks/run-application/configure-pdb, "Arbitrary workloads and selectors");
 * `minAvailable` = every Pod keeps the running job from voluntary evictions (drains wait for it).
 */
export function suggestedBudget(object: Record<string, unknown>, namespace: string, check: BudgetCheck): Record<string, unknown> | undefined {
  const name = str(obj(object['metadata'])['name']) || 'workload';
  // Without labels nothing can select the Pods: the finding says so, no budget is invented.
  if (Object.keys(check.labels).length === 0) return undefined;
  const key = kindKey({ group: groupOf(str(object['apiVersion'])), kind: str(object['kind']) });
  const budget = SCALABLE.has(key) ? { maxUnavailable: 1 } : { minAvailable: check.pods };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: `${name}-gpu`, namespace },
    spec: { ...budget, selector: { matchLabels: check.labels } },
  };
}

/**
 * `audit --suggest-pdbs`: one PodDisruptionBudget per workload the disruption-budget check flags,
 * as YAML documents to review and apply. Objects in excluded namespaces are left out.
 */
export function budgetSuggestions(engine: Engine, objects: readonly SourceObject[], defaultNamespace: string, excluded: readonly string[]): Record<string, unknown>[] {
  const budgets = budgetsOf(objects, defaultNamespace);
  const out: Record<string, unknown>[] = [];
  for (const src of objects) {
    const namespace = str(obj(src.object['metadata'])['namespace']) || defaultNamespace;
    if (excluded.includes(namespace) || isBudget(src.object)) continue;
    const check = checkBudget(engine, src.object, namespace, budgets);
    const pdb = check && suggestedBudget(src.object, namespace, check);
    if (pdb) out.push(pdb);
  }
  return out;
}
