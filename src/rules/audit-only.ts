/**
 * Rules only `gpu-admission audit` can check: they need other objects of the input (files or a
 * cluster) beside the one under review, which an admission review never carries. The checks live
 * in src/audit/; the ids are here so exemptions, SARIF output and the rules table of the docs know
 * them.
 */
export interface AuditOnlyRule {
  id: string;
  summary: string;
  fix: string;
  advisory?: boolean;
}

/** disruption.budgets (src/audit/budgets.ts). */
export const DISRUPTION_BUDGET_RULE = 'disruption-budget';

export const AUDIT_ONLY_RULES: readonly AuditOnlyRule[] = [
  {
    id: DISRUPTION_BUDGET_RULE,
    summary: 'audit only (disruption.budgets): a multi-replica accelerator workload (Deployment, StatefulSet, ReplicaSet, LeaderWorkerSet, parallel Job, JobSet, Kubeflow and Volcano jobs) has a PodDisruptionBudget in its namespace that selects its Pods',
    fix: 'add a policy/v1 PodDisruptionBudget whose selector matches the Pod template labels (`gpu-admission audit --suggest-pdbs` prints one)',
  },
];
