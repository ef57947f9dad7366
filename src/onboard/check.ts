/**
 * What must hold before onboarding writes anything: the plan against the catalogue, the existing
 * policies and (when reachable) the cluster. Every problem says what is wrong and how to fix it.
 */
import { type NamespacePolicyDoc, toPolicy } from '../policy/normalize.js';
import { selectorMatches } from '../policy/resolve.js';
import type { NamespacePolicy, PolicySet } from '../policy/types.js';
import { type ClusterState, type Plan, POLICY_LABEL } from './plan.js';
import { PRODUCTION_CLASS, PRIORITY_CLASSES } from './profiles.js';

export interface Problem {
  level: 'error' | 'warning';
  message: string;
  fix?: string;
}

export interface CheckContext {
  set: PolicySet;
  cluster?: ClusterState;
  force: boolean;
  /** File name the policy is written to (`<ns>.policy.yaml`). */
  targetFile: string;
  /** --priority-value, when given. */
  priorityValue?: number;
}

const NAME_LABEL = 'kubernetes.io/metadata.name';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const MAX_PRIORITY = 1_000_000_000;

const err = (message: string, fix?: string): Problem => ({ level: 'error', message, fix });
const warn = (message: string, fix?: string): Problem => ({ level: 'warning', message, fix });

function validLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix));
}

function checkNamespace(p: Plan): Problem[] {
  const ns = p.namespace;
  if (ns.length > 63 || !DNS_LABEL.test(ns)) {
    return [err(`namespace "${ns}" is not a valid namespace name`, 'use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit')];
  }
  if (ns.startsWith('kube-')) return [err(`namespace ${ns} is reserved for Kubernetes itself`, 'onboard a team namespace instead')];
  if (ns === 'default') return [warn('onboarding the default namespace: every workload created without a namespace lands under this policy', 'give the team its own namespace')];
  return [];
}

function checkLabels(p: Plan): Problem[] {
  const out: Problem[] = [];
  for (const [k, v] of Object.entries(p.labels)) {
    if (!validLabelKey(k)) out.push(err(`--labels: "${k}" is not a valid label key`, 'use [prefix/]name with a name of at most 63 letters, digits, "-", "_" and "."'));
    if (v.length > 63 || !LABEL_VALUE.test(v)) out.push(err(`--labels: the value "${v}" of ${k} is not a valid label value`, 'use at most 63 letters, digits, "-", "_" and "."'));
    if (k === NAME_LABEL) out.push(err(`--labels: ${NAME_LABEL} is set by the API server`, `remove it from --labels`));
  }
  if (p.labels[POLICY_LABEL] !== p.policyName) out.push(err(`--labels: ${POLICY_LABEL} records the onboarding policy and must be "${p.policyName}"`, `remove ${POLICY_LABEL} from --labels`));
  return out;
}

function checkPools(p: Plan, set: PolicySet): Problem[] {
  const known = set.pools.map((x) => x.name);
  if (p.pools.length === 0) {
    return [err(`no pools chosen: ${p.poolChoiceProblem ?? 'none given'}`, `pass --pools with some of: ${known.join(', ') || '(add GpuPool documents first: gpu-admission pools discover)'}`)];
  }
  const out: Problem[] = [];
  for (const name of p.pools) {
    if (!set.poolsByName.has(name)) out.push(err(`--pools: no GpuPool named "${name}" in the catalogue`, `use some of: ${known.join(', ')}; or add the pool (gpu-admission pools discover)`));
  }
  if (p.defaultPool && !p.pools.includes(p.defaultPool)) {
    out.push(err(`--default-pool: "${p.defaultPool}" is not one of the namespace's pools (${p.pools.join(', ')})`, `add ${p.defaultPool} to --pools or choose one of ${p.pools.join(', ')}`));
  }
  const capacities = p.pools.map((n) => set.poolsByName.get(n)?.maxPerPod).filter((n): n is number => n !== undefined);
  if (capacities.length === p.pools.length && capacities.length > 0 && p.maxPerPod > Math.max(...capacities)) {
    out.push(warn(`--max-gpus-per-pod ${p.maxPerPod} is more than any node of the pools holds (${Math.max(...capacities)})`, `use at most ${Math.max(...capacities)}`));
  }
  if (p.patternResources.length > 0) {
    out.push(warn(`the pools offer ${p.patternResources.join(', ')}: a ResourceQuota cannot name a pattern, so those resources are not limited`, 'list the concrete resource names in the GpuPool'));
  }
  return out;
}

function checkQuantities(p: Plan): Problem[] {
  const out: Problem[] = [];
  if (p.maxPerPod < 1) out.push(err('--max-gpus-per-pod must be at least 1'));
  if (p.gpuQuota < 1) out.push(err('--gpu-quota must be at least 1', 'to give a namespace no accelerators, do not onboard it: the default policy allows none'));
  if (p.maxPerPod > p.gpuQuota) {
    out.push(err(`--max-gpus-per-pod ${p.maxPerPod} is more than the namespace quota ${p.gpuQuota}: such a Pod could never be admitted`, `raise --gpu-quota to at least ${p.maxPerPod} or lower --max-gpus-per-pod`));
  }
  return out;
}

function checkPriority(p: Plan, cluster: ClusterState | undefined, askedValue: number | undefined): Problem[] {
  const pc = p.priority;
  if (pc.name.startsWith('system-')) return [err(`--priority: ${pc.name} is reserved for cluster components`, `use a profile class such as ${p.profile.priorityClass}`)];
  const out: Problem[] = [];
  if (pc.value > p.productionValue) {
    out.push(err(`PriorityClass ${pc.name} has value ${pc.value}, above production's (${PRODUCTION_CLASS}: ${p.productionValue}): its Pods could preempt production serving`,
      `use a class at or below ${p.productionValue} (e.g. ${p.profile.priorityClass}) or --priority-value ${Math.min(p.productionValue, PRIORITY_CLASSES[p.profile.priorityClass]?.value ?? p.productionValue)}`));
  }
  if (pc.value > MAX_PRIORITY || pc.value < -MAX_PRIORITY) out.push(err(`--priority-value ${pc.value} is outside what user PriorityClasses may use (±${MAX_PRIORITY})`));
  const live = cluster?.priorityClasses.get(pc.name);
  if (live && askedValue !== undefined && live.value !== askedValue) {
    out.push(err(`PriorityClass ${pc.name} exists with value ${live.value}, not ${askedValue}; a class's value cannot change`, `drop --priority-value, or choose a new class name`));
  }
  if (!live && !PRIORITY_CLASSES[pc.name] && askedValue === undefined) {
    out.push(warn(`PriorityClass ${pc.name} is not in the catalogue${cluster ? ' nor in the cluster' : ''}: it is written with the ${p.profile.name} profile's value ${pc.value}`, 'pass --priority-value to choose its value'));
  }
  return out;
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x);

function leaves(v: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (v !== undefined) out.set(prefix, stable(v));
  return out;
}

/** Field by field, what changes from `before` to `after`: `spec.accelerators.maxPerPod: 8 -> 4`. */
export function fieldChanges(before: unknown, after: unknown, prefix = ''): string[] {
  const a = leaves(before, prefix, new Map());
  const b = leaves(after, prefix, new Map());
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort()
    .map((k) => `${k}: ${a.get(k) ?? '(unset)'} -> ${b.get(k) ?? '(unset)'}`);
}

/** Field-level differences between two multi-document YAML files, documents matched by kind and name. */
export function documentChanges(before: unknown[], after: unknown[]): string[] {
  const key = (d: unknown, i: number): string => {
    const o = (d ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
    return typeof o.kind === 'string' ? `${o.kind}/${String(o.metadata?.name ?? i)}` : `document ${i + 1}`;
  };
  const a = new Map(before.map((d, i) => [key(d, i), d]));
  const b = new Map(after.map((d, i) => [key(d, i), d]));
  return [...new Set([...a.keys(), ...b.keys()])].flatMap((k) => {
    if (!a.has(k)) return [`${k}: (absent) -> added`];
    if (!b.has(k)) return [`${k}: present -> removed`];
    const changes = fieldChanges(a.get(k), b.get(k));
    return a.size + b.size > 2 ? changes.map((c) => `${k} ${c}`) : changes;
  });
}

export type ExistingPolicy =
  | { state: 'new' }
  | { state: 'same'; source: string }
  | { state: 'different'; source: string; changes: string[] };

/** The existing policy of the same name, compared by meaning (defaults applied), not by text. */
export function compareExisting(policyDoc: Record<string, unknown>, set: PolicySet): ExistingPolicy {
  const wanted = toPolicy(policyDoc as unknown as NamespacePolicyDoc, '');
  const existing = set.policies.find((x) => x.name === wanted.name);
  if (!existing) return { state: 'new' };
  const changes = fieldChanges({ ...existing, source: '' }, { ...wanted, source: '' });
  return changes.length === 0 ? { state: 'same', source: existing.source } : { state: 'different', source: existing.source, changes };
}

function checkGovernance(p: Plan, ctx: CheckContext, existing: ExistingPolicy): Problem[] {
  const out: Problem[] = [];
  const others = ctx.set.policies.filter((x) => x.name !== p.policyName);
  for (const o of others.filter((x) => x.namespaces.names.includes(p.namespace))) {
    out.push(err(`namespace ${p.namespace} is already governed by NamespacePolicy "${o.name}" (${o.source}), which names it`,
      `remove ${p.namespace} from spec.namespaces.names in ${o.source}, or change that policy instead of onboarding`));
  }
  const labels = { ...(ctx.cluster?.namespaceLabels ?? {}), ...p.labels, [NAME_LABEL]: p.namespace };
  const bySelector = others.filter((x): x is NamespacePolicy & { namespaces: { selector: object } } =>
    x.namespaces.selector !== undefined && !x.isDefault && !x.namespaces.names.includes(p.namespace) && selectorMatches(x.namespaces.selector, labels));
  for (const o of bySelector) {
    const keys = new Set([...Object.keys(o.namespaces.selector.matchLabels ?? {}), ...(o.namespaces.selector.matchExpressions ?? []).map((e) => e.key)]);
    const shown = Object.entries(labels).filter(([k]) => keys.has(k)).map(([k, v]) => `${k}=${v}`).join(', ');
    const problem = `namespace ${p.namespace} is selected by NamespacePolicy "${o.name}" (${o.source}) through its labels (${shown || 'any'}); the new policy names it and would take it over`;
    if (!ctx.force) out.push(err(problem, 'remove the matching label from the namespace (or from --labels), or pass --force to take the namespace over'));
    else out.push(warn(problem));
  }
  if (existing.state === 'different') {
    const what = `NamespacePolicy "${p.policyName}" already exists in ${existing.source} and differs: ${existing.changes.join('; ')}`;
    if (!ctx.force) out.push(err(what, 'review the changes and pass --force to replace it'));
    else if (existing.source !== ctx.targetFile) out.push(err(what, `it lives in ${existing.source}, which onboarding does not write: edit that file, or remove the policy there first`));
  }
  return out;
}

/** Every problem of the plan; errors stop onboarding before anything is written. */
export function checkOnboarding(p: Plan, policyDoc: Record<string, unknown>, ctx: CheckContext): Problem[] {
  return [
    ...checkNamespace(p),
    ...checkLabels(p),
    ...checkPools(p, ctx.set),
    ...checkQuantities(p),
    ...checkPriority(p, ctx.cluster, ctx.priorityValue),
    ...checkGovernance(p, ctx, compareExisting(policyDoc, ctx.set)),
  ];
}

export function formatProblem(pr: Problem): string {
  return `${pr.level}: ${pr.message}${pr.fix ? `\n  fix: ${pr.fix}` : ''}`;
}
