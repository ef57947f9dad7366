import type { V1Container } from '@kubernetes/client-node';
import type { PodAnalysis, RuleResult, WorkloadAnalysis, WorkloadRule } from '../engine/types.js';
import { formatSeconds } from '../util/duration.js';
import { probeBudget } from '../workload/probes.js';
import { controllerOwner, fail, pass, skip } from './util.js';
import { wholeNumber } from '../util/json.js';

const ID = 'rollout-progress-deadline';

/**
 * apps/v1 defaults spec.progressDeadlineSeconds to 600 and requires it to be greater than
 * spec.minReadySeconds (kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_Deployment;
 * pkg/apis/apps/validation/validation.go ValidateDeploymentSpec: "must be greater than minReadySeconds").
 */
export const API_DEFAULT_PROGRESS_DEADLINE = 600;

export const DEPLOYMENT = 'apps/Deployment';

const int = wholeNumber;

/** The Pod specs' accelerator containers, with their spec as given or as a mutation will leave it. */
export type ContainerView = (a: PodAnalysis) => readonly (V1Container | undefined)[];

const asGiven: ContainerView = (a) => a.acc.acceleratorContainers.map((ref) => ref.container);

/**
 * The start-up budget of a workload's accelerator Pods: the larger of the policy's
 * startupProbe.minBudgetSeconds and the budget the accelerator containers' own startupProbe (or
 * livenessProbe, when they have none) gives them (workload/probes.ts probeBudget, as the
 * startup-budget rule computes it).
 */
export function startupBudgetSeconds(w: WorkloadAnalysis, containers: ContainerView = asGiven): number {
  let budget = w.policy.startupProbe.minBudgetSeconds ?? 0;
  for (const a of w.pods) {
    for (const c of containers(a)) {
      const probe = c?.startupProbe ?? c?.livenessProbe;
      if (probe) budget = Math.max(budget, probeBudget(probe));
    }
  }
  return budget;
}

export interface DeadlineNeed {
  /** The least progressDeadlineSeconds the policy accepts. */
  seconds: number;
  /** How it was computed, for messages. */
  why: string;
}

/**
 * What the policy asks of spec.progressDeadlineSeconds: a number, or `auto` = max(600, start-up
 * budget + marginSeconds); in both cases more than minReadySeconds, as the API requires.
 */
export function deadlineNeed(w: WorkloadAnalysis, minReadySeconds: number, containers?: ContainerView): DeadlineNeed | undefined {
  const r = w.policy.rollout;
  if (r.progressDeadlineSeconds === undefined) return undefined;
  let need: DeadlineNeed;
  if (r.progressDeadlineSeconds === 'auto') {
    const budget = startupBudgetSeconds(w, containers);
    const sum = budget + r.marginSeconds;
    need = sum > API_DEFAULT_PROGRESS_DEADLINE
      ? { seconds: sum, why: `start-up budget ${formatSeconds(budget)} + margin ${formatSeconds(r.marginSeconds)}, rollout.progressDeadlineSeconds: auto` }
      : { seconds: API_DEFAULT_PROGRESS_DEADLINE, why: `the API default 600s covers start-up budget ${formatSeconds(budget)} + margin ${formatSeconds(r.marginSeconds)}, rollout.progressDeadlineSeconds: auto` };
  } else {
    need = { seconds: r.progressDeadlineSeconds, why: 'rollout.progressDeadlineSeconds' };
  }
  if (need.seconds <= minReadySeconds) need = { seconds: minReadySeconds + 1, why: `more than minReadySeconds ${minReadySeconds}, as the API requires` };
  return need;
}

/** spec.progressDeadlineSeconds as the API server defaults it. */
export function progressDeadlineOf(object: Record<string, unknown>): number {
  const spec = object['spec'] as Record<string, unknown> | undefined;
  return int(spec?.['progressDeadlineSeconds']) ?? API_DEFAULT_PROGRESS_DEADLINE;
}

export function minReadySecondsOf(object: Record<string, unknown>): number {
  const spec = object['spec'] as Record<string, unknown> | undefined;
  return int(spec?.['minReadySeconds']) ?? 0;
}

/**
 * A workload an operator manages (KServe's predictor Deployment, an LWS's StatefulSets) is left to
 * its operator: it rewrites the fields it owns on every reconcile, so a patch would start a fight
 * over the object and a denial would stall the operator. The owner's own settings are the fix.
 */
export const managedBy = (owner: string): string => `managed by its controller ${owner}: the operator owns its rollout fields (set them on the ${owner.split(' ')[0]})`;

function check(w: WorkloadAnalysis): RuleResult {
  if (w.policy.rollout.progressDeadlineSeconds === undefined) return skip('the policy sets no rollout.progressDeadlineSeconds');
  if (w.kind !== DEPLOYMENT) return skip('only a Deployment has progressDeadlineSeconds');
  if (!w.accelerator) return skip('no Pod template requests an accelerator');
  const owner = controllerOwner(w.meta);
  if (owner) return skip(managedBy(owner));
  const need = deadlineNeed(w, minReadySecondsOf(w.object));
  if (!need) return pass();
  const spec = w.object['spec'] as Record<string, unknown> | undefined;
  const set = int(spec?.['progressDeadlineSeconds']);
  const have = set ?? API_DEFAULT_PROGRESS_DEADLINE;
  if (have >= need.seconds) return pass();
  return fail([{
    ruleId: ID,
    path: 'spec.progressDeadlineSeconds',
    message: `progressDeadlineSeconds is ${have}${set === undefined ? ' (the API default)' : ''}: the rollout is marked failed (ProgressDeadlineExceeded) while a new replica may still be loading; policy ${w.policy.name} wants at least ${need.seconds} (${need.why})`,
    fix: `set spec.progressDeadlineSeconds: ${need.seconds}`,
  }]);
}

export const rolloutProgressDeadline: WorkloadRule = {
  id: ID,
  summary: "Accelerator Deployments' progressDeadlineSeconds covers the Pods' start-up budget plus a margin",
  fix: 'Raise spec.progressDeadlineSeconds to the start-up budget + margin',
  check,
};
