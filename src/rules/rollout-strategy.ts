import type { Finding, RuleResult, WorkloadAnalysis, WorkloadRule } from '../engine/types.js';
import type { CheckLevel } from '../policy/types.js';
import { valueAt } from '../util/pointer.js';
import { DEPLOYMENT, managedBy, minReadySecondsOf } from './rollout-progress-deadline.js';
import { controllerOwner, fail, quote, skip } from './util.js';
import { asObject } from '../util/json.js';

const ID = 'rollout-strategy';

export const STATEFULSET = 'apps/StatefulSet';
export const LEADERWORKERSET = 'leaderworkerset.x-k8s.io/LeaderWorkerSet';

type Json = Record<string, unknown>;

const obj = asObject;

/** Where each kind keeps its rolling-update knobs, and their API defaults. */
export interface RollingShape {
  /** JSON pointer of the object holding maxUnavailable / maxSurge. */
  pointer: string;
  path: string;
  defaultUnavailable: number | string;
  defaultSurge: number | string;
  /** What a replica is, for messages. */
  unit: string;
}

/**
 * Deployment: maxUnavailable and maxSurge default to 25% (apps/v1 RollingUpdateDeployment).
 * LeaderWorkerSet: rollingUpdateConfiguration.maxUnavailable defaults to 1 and maxSurge to 0, in
 * groups (kubernetes-sigs/lws api/leaderworkerset/v1/leaderworkerset_types.go).
 */
export const ROLLING: Record<string, RollingShape> = {
  [DEPLOYMENT]: { pointer: '/spec/strategy/rollingUpdate', path: 'spec.strategy.rollingUpdate', defaultUnavailable: '25%', defaultSurge: '25%', unit: 'replicas' },
  [LEADERWORKERSET]: { pointer: '/spec/rolloutStrategy/rollingUpdateConfiguration', path: 'spec.rolloutStrategy.rollingUpdateConfiguration', defaultUnavailable: 1, defaultSurge: 0, unit: 'groups (leader + workers)' },
};

/**
 * An IntOrString scaled to `total`: a percentage rounds down for maxUnavailable and up for maxSurge
 * (k8s.io/apimachinery intstr.GetScaledValueFromIntOrPercent, as the RollingUpdateDeployment API
 * documentation states). undefined when it is neither an integer nor a percentage (the API refuses it).
 */
export function scaled(v: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return undefined;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Whether an IntOrString is literally zero (`0` or `"0%"`): the API refuses maxUnavailable and maxSurge both zero. */
export function literallyZero(v: unknown): boolean {
  return v === 0 || (typeof v === 'string' && /^0+%$/.test(v));
}

function replicasOf(o: Json): number {
  const r = obj(o['spec'])?.['replicas'];
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 1;
}

export function strategyTypeOf(o: Json): unknown {
  return obj(obj(o['spec'])?.['strategy'])?.['type'] ?? 'RollingUpdate';
}

const level = (l: CheckLevel, f: Finding): Finding => (l === 'warn' ? { ...f, advisory: true } : f);

function surge(w: WorkloadAnalysis, shape: RollingShape): Finding | undefined {
  const ru = obj(valueAt(w.object, shape.pointer)) ?? {};
  const rawUnavailable = ru['maxUnavailable'] ?? shape.defaultUnavailable;
  const rawSurge = ru['maxSurge'] ?? shape.defaultSurge;
  const replicas = replicasOf(w.object);
  let unavailable = scaled(rawUnavailable, replicas, false);
  if (unavailable === undefined) return undefined;
  // The Deployment controller takes one replica down when both round to 0
  // (kubernetes pkg/controller/deployment/util/deployment_util.go ResolveFenceposts).
  const fencepost = w.kind === DEPLOYMENT && unavailable === 0 && scaled(rawSurge, replicas, true) === 0 && replicas > 0;
  if (fencepost) unavailable = 1;
  if (unavailable === 0) return undefined;
  const given = (ru['maxUnavailable'] === undefined ? `${quote(rawUnavailable)} (the API default)` : quote(rawUnavailable))
    + (fencepost ? ' with maxSurge 0, so the controller takes one replica down' : '');
  return level(w.policy.rollout.surgeOnly, {
    ruleId: ID,
    path: `${shape.path}.maxUnavailable`,
    message: `maxUnavailable is ${given}: a rollout stops serving ${shape.unit} before their replacements have loaded; policy ${w.policy.name} wants 0 (rollout.surgeOnly)`,
    fix: `set ${shape.path}.maxUnavailable: 0${literallyZero(rawSurge) ? ` and ${shape.path}.maxSurge: 1 (both 0 is refused)` : ''}; the surge replica needs spare accelerator capacity, or it stays Pending and the rollout waits`,
  });
}

function recreate(w: WorkloadAnalysis): Finding | undefined {
  if (strategyTypeOf(w.object) !== 'Recreate') return undefined;
  return level(w.policy.rollout.recreate, {
    ruleId: ID,
    path: 'spec.strategy.type',
    message: `strategy Recreate stops every replica before the new ones start loading: no capacity until they are ready; policy ${w.policy.name} (rollout.recreate)`,
    fix: 'set spec.strategy.type: RollingUpdate with rollingUpdate.maxUnavailable: 0 and maxSurge: 1',
  });
}

function minReady(w: WorkloadAnalysis): Finding | undefined {
  const min = w.policy.rollout.minReadySeconds;
  if (min === undefined) return undefined;
  const have = minReadySecondsOf(w.object);
  if (have >= min) return undefined;
  return {
    ruleId: ID,
    path: 'spec.minReadySeconds',
    message: `minReadySeconds is ${have}: a replica counts as available as soon as it is ready; policy ${w.policy.name} wants at least ${min} (rollout.minReadySeconds)`,
    fix: `set spec.minReadySeconds: ${min}`,
  };
}

function check(w: WorkloadAnalysis): RuleResult {
  const r = w.policy.rollout;
  if (w.kind !== DEPLOYMENT && w.kind !== STATEFULSET && w.kind !== LEADERWORKERSET) return skip('not a Deployment, StatefulSet or LeaderWorkerSet');
  if (!w.accelerator) return skip('no Pod template requests an accelerator');
  const owner = controllerOwner(w.meta);
  if (owner) return skip(managedBy(owner));
  const out: (Finding | undefined)[] = [];
  if (w.kind === DEPLOYMENT) {
    if (r.surgeOnly === 'off' && r.recreate === 'off' && r.minReadySeconds === undefined) return skip('rollout.surgeOnly and rollout.recreate are off and rollout.minReadySeconds is unset');
    const rolling = strategyTypeOf(w.object) === 'RollingUpdate';
    if (r.surgeOnly !== 'off' && rolling) out.push(surge(w, ROLLING[DEPLOYMENT] as RollingShape));
    if (r.recreate !== 'off') out.push(recreate(w));
    out.push(minReady(w));
  } else if (w.kind === LEADERWORKERSET) {
    // LeaderWorkerSet has no minReadySeconds (lws leaderworkerset_types.go).
    if (r.surgeOnly === 'off') return skip('rollout.surgeOnly is off (a LeaderWorkerSet has no minReadySeconds)');
    out.push(surge(w, ROLLING[LEADERWORKERSET] as RollingShape));
  } else {
    // StatefulSet updateStrategy.rollingUpdate.maxUnavailable "can not be 0" (apps/v1 API): no surge.
    if (r.minReadySeconds === undefined) return skip('a StatefulSet cannot surge (updateStrategy maxUnavailable is at least 1) and rollout.minReadySeconds is unset');
    out.push(minReady(w));
  }
  return fail(out.filter((f): f is Finding => f !== undefined));
}

export const rolloutStrategy: WorkloadRule = {
  id: ID,
  summary: 'Accelerator Deployments and LeaderWorkerSets roll out without dropping serving capacity (surge-only, no Recreate, minReadySeconds), as the policy asks',
  fix: 'Set maxUnavailable: 0 and maxSurge: 1, RollingUpdate, and minReadySeconds as the policy asks',
  check,
};
