import type { MutatorResult, WorkloadAnalysis, WorkloadMutator } from '../engine/types.js';
import type { ObjectEdit } from '../engine/object-edit.js';
import { escapeToken } from '../util/pointer.js';
import { KUEUE_QUEUE_LABEL, allowedPaths, judge } from '../rules/gang-scheduling.js';

const ID = 'gang-queue';

/**
 * Sends a multi-Pod accelerator workload that is on no gang path to the policy's Kueue LocalQueue
 * (gang.defaultQueue) by its queue-name label. CREATE only: Kueue's webhook refuses a change of the
 * queue name while the job is not suspended ("must not update queue name when job is unsuspend",
 * kubernetes-sigs/kueue pkg/controller/jobframework validation.go ValidateUpdateForQueueName), and
 * a running job is not suspended again by Kueue. A workload on another gang path (even one the
 * policy does not list) is left to the rule: two queue systems on one workload help nobody.
 */
function apply(edit: ObjectEdit, w: WorkloadAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  const queue = w.policy.gang.defaultQueue;
  if (w.operation !== 'CREATE' || queue === undefined) return result;
  const j = judge(w);
  if (typeof j === 'string' || j.on.length > 0) return result;
  const pointer = `/metadata/labels/${escapeToken(KUEUE_QUEUE_LABEL)}`;
  if (edit.get(pointer) === queue) return result;
  edit.set(pointer, queue);
  result.notes.push({
    mutator: ID,
    path: `metadata.labels["${KUEUE_QUEUE_LABEL}"]`,
    description: `set ${KUEUE_QUEUE_LABEL} to ${queue}: Kueue admits the ${j.gang.count} Pods (${j.gang.path}) as one workload`,
  });
  return result;
}

export const gangQueueMutator: WorkloadMutator = {
  id: ID,
  summary: "set the policy's Kueue queue (kueue.x-k8s.io/queue-name) on new multi-Pod accelerator workloads that are on no gang path",
  setting: 'mutations.gangQueue + gang.defaultQueue',
  enabled: (p) => p.mutations.gangQueue && p.gang.mode !== 'off' && p.gang.defaultQueue !== undefined && allowedPaths(p).includes('kueue'),
  apply,
};
