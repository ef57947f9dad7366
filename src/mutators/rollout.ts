import type { V1PodSpec } from '@kubernetes/client-node';
import { exemptIds, isLifted } from '../engine/exemptions.js';
import { PodMetaEdit } from '../engine/meta-edit.js';
import type { ObjectEdit } from '../engine/object-edit.js';
import type { MutatorResult, PodAnalysis, WorkloadAnalysis, WorkloadMutator } from '../engine/types.js';
import { API_DEFAULT_PROGRESS_DEADLINE, type ContainerView, DEPLOYMENT, deadlineNeed } from '../rules/rollout-progress-deadline.js';
import { LEADERWORKERSET, literallyZero, ROLLING, type RollingShape, STATEFULSET, strategyTypeOf } from '../rules/rollout-strategy.js';
import { controllerOwner } from '../rules/util.js';
import { startupProbeMutator } from './startup-probe.js';
import { wholeNumber } from '../util/json.js';

const ID = 'rollout';

const int = wholeNumber;

/**
 * The accelerator containers as the Pod mutators will leave them: the startup-probe mutator may
 * raise a template's probe budget a little above the policy's minimum (whole periods), and auto
 * deadlines must be computed from that, or a second pass would raise them again.
 */
const afterPodMutations: ContainerView = (a: PodAnalysis) => {
  const given = a.acc.acceleratorContainers.map((ref) => ref.container);
  // Only Deployments have the field: their Pod specs are templates, patched when mutations.templates.
  if (!a.target.isTemplate || !a.policy.mutations.templates || a.target.virtual || !a.acc.isAcceleratorPod || !startupProbeMutator.enabled(a.policy) || isLifted(exemptIds(a), startupProbeMutator.id)) return given;
  const spec: V1PodSpec = { ...a.target.spec };
  startupProbeMutator.apply(spec, a, new PodMetaEdit(undefined, undefined));
  return a.acc.acceleratorContainers.map((ref) => spec.containers?.[ref.index] ?? ref.container);
};

function apply(edit: ObjectEdit, w: WorkloadAnalysis): MutatorResult {
  const result: MutatorResult = { notes: [], warnings: [] };
  if (!w.accelerator || (w.kind !== DEPLOYMENT && w.kind !== STATEFULSET && w.kind !== LEADERWORKERSET)) return result;
  // An operator-managed workload is left to its operator (rules/rollout-progress-deadline.ts managedBy).
  if (controllerOwner(w.meta)) return result;
  const r = w.policy.rollout;
  const note = (path: string, description: string): void => { result.notes.push({ mutator: ID, path, description }); };

  // minReadySeconds (Deployment, StatefulSet; a LeaderWorkerSet has none).
  let minReady = int(edit.get('/spec/minReadySeconds')) ?? 0;
  if (w.kind !== LEADERWORKERSET && r.minReadySeconds !== undefined && minReady < r.minReadySeconds) {
    edit.set('/spec/minReadySeconds', r.minReadySeconds);
    note('spec.minReadySeconds', `raise minReadySeconds from ${minReady} to ${r.minReadySeconds}`);
    minReady = r.minReadySeconds;
  }

  // Surge-only rolling updates: maxUnavailable 0, and maxSurge 1 where it is 0 (the API refuses both 0).
  const shape = ROLLING[w.kind];
  if (r.surgeOnly !== 'off' && shape) {
    if (w.kind === DEPLOYMENT && strategyTypeOf(w.object) !== 'RollingUpdate') {
      // Changing the strategy type is the owner's call (Recreate may be needed for volumes or capacity).
      result.warnings.push({
        ruleId: ID, path: 'spec.strategy.type', advisory: true,
        message: `strategy ${String(strategyTypeOf(w.object))} left as is: surge-only applies to RollingUpdate (policy ${w.policy.name}, rollout.surgeOnly)`,
        fix: 'set spec.strategy.type: RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1',
      });
    } else {
      surgeOnly(edit, shape, note);
    }
  }

  // progressDeadlineSeconds (Deployment only), more than minReadySeconds.
  if (w.kind === DEPLOYMENT) {
    const need = deadlineNeed(w, minReady, afterPodMutations);
    const set = int(edit.get('/spec/progressDeadlineSeconds'));
    const have = set ?? API_DEFAULT_PROGRESS_DEADLINE;
    if (need && have < need.seconds) {
      edit.set('/spec/progressDeadlineSeconds', need.seconds);
      note('spec.progressDeadlineSeconds', `raise progressDeadlineSeconds from ${have}${set === undefined ? ' (API default)' : ''} to ${need.seconds} (${need.why})`);
    }
  }
  return result;
}

function surgeOnly(edit: ObjectEdit, shape: RollingShape, note: (path: string, description: string) => void): void {
  const unavailable = edit.get(`${shape.pointer}/maxUnavailable`) ?? shape.defaultUnavailable;
  if (literallyZero(unavailable)) return;
  edit.set(`${shape.pointer}/maxUnavailable`, 0);
  note(`${shape.path}.maxUnavailable`, `set maxUnavailable from ${JSON.stringify(unavailable)} to 0 (surge-only rollout)`);
  const surge = edit.get(`${shape.pointer}/maxSurge`) ?? shape.defaultSurge;
  if (literallyZero(surge)) {
    edit.set(`${shape.pointer}/maxSurge`, 1);
    note(`${shape.path}.maxSurge`, `set maxSurge from ${JSON.stringify(surge)} to 1 (maxUnavailable and maxSurge may not both be 0)`);
  }
}

export const rolloutMutator: WorkloadMutator = {
  id: ID,
  summary: 'on accelerator Deployments, StatefulSets and LeaderWorkerSets: raise progressDeadlineSeconds and minReadySeconds, set maxUnavailable: 0 (maxSurge: 1 where it is 0) as rollout.* asks',
  setting: 'mutations.rollout + rollout.*',
  enabled: (p) => p.mutations.rollout && (p.rollout.progressDeadlineSeconds !== undefined || p.rollout.surgeOnly !== 'off' || p.rollout.minReadySeconds !== undefined),
  apply,
};
