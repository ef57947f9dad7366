/**
 * `gpu-admission policy explain <namespace>`: which policy governs a namespace and what that
 * means for its Pods, in plain words. Pure: a policy set and labels in, text out.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import { formatSeconds } from '../util/duration.js';
import { PolicyResolver, selectorMatches } from './resolve.js';
import type { GpuPool, NamespacePolicy, PolicySet } from './types.js';

const NAME_LABEL = 'kubernetes.io/metadata.name';

function selectorText(s: V1LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = e.values?.length ? ` (${e.values.join(', ')})` : '';
    parts.push(`${e.key} ${e.operator}${values}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'every namespace';
}

function why(p: NamespacePolicy, namespace: string): string {
  if (p.namespaces.names.includes(namespace)) return 'the policy names it';
  if (p.namespaces.selector) return `its labels match the policy's selector (${selectorText(p.namespaces.selector)})`;
  return 'no other policy names it or selects its labels, and this is the default policy';
}

const MODE: Record<NamespacePolicy['mode'], string> = {
  enforce: 'enforce: a Pod that breaks a rule is denied',
  warn: 'warn: a Pod that breaks a rule is admitted, with a warning for each finding',
  audit: 'audit: nothing is denied, warned or patched; findings and would-be patches are only recorded in audit annotations',
};

const seconds = (s: number): string => `${formatSeconds(s)} (${s} s)`;

function taintText(pool: GpuPool): string {
  return pool.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(', ') || 'no taint';
}

function acceleratorLines(p: NamespacePolicy, set: PolicySet): string[] {
  const a = p.accelerators;
  if (!a.allowed) {
    return ['Accelerators: none. Any accelerator request (extended resource or DRA claim) is denied, and, as everywhere, a Pod without one may not tolerate GPU pools\' taints or select only GPU nodes.'];
  }
  const pools = a.pools.length > 0 ? a.pools : set.pools.map((x) => x.name);
  const defaultPool = a.defaultPool ?? (pools.length === 1 ? pools[0] : undefined);
  const lines = [
    `Accelerators: allowed from ${a.pools.length > 0 ? `pools ${a.pools.join(', ')}` : `any pool (${pools.join(', ') || 'none defined'})`}` +
      `; resources: ${a.resources.length > 0 ? a.resources.join(', ') : 'any the pools offer'}` +
      `; ${a.maxPerPod !== undefined ? `at most ${a.maxPerPod} per Pod` : 'no per-Pod limit beyond the pools\' nodes'}.`,
  ];
  const pool = defaultPool ? set.poolsByName.get(defaultPool) : undefined;
  if (pool) {
    const selector = Object.entries(pool.nodeLabels).map(([k, v]) => `${k}=${v}`).join(', ');
    const gets = [
      p.mutations.defaultPoolNodeSelector ? `the node selector ${selector}` : undefined,
      p.mutations.tolerations ? `tolerations for ${taintText(pool)}` : undefined,
    ].filter(Boolean).join(' and ');
    lines.push(`  Accelerator Pods that select no pool go to ${pool.name}${gets ? `: they get ${gets}` : ''}.`);
  } else if (pools.length > 1) {
    lines.push('  No default pool: an accelerator Pod that selects no pool gets a warning instead of tolerations.');
  }
  return lines;
}

function settingLines(p: NamespacePolicy): string[] {
  const lines: string[] = [];
  const budget = p.startupProbe.minBudgetSeconds;
  lines.push(budget !== undefined
    ? `Start-up: accelerator containers get at least ${seconds(budget)} before a liveness probe may kill them${p.mutations.startupProbe ? ' (a startupProbe is added or raised)' : ' (warned, not patched)'}.`
    : 'Start-up: no budget.');
  const grace = p.terminationGracePeriodSeconds;
  lines.push(grace !== undefined
    ? `Shutdown: accelerator Pods get at least ${seconds(grace)} of termination grace${p.mutations.terminationGracePeriod ? '' : ' (not patched)'}.`
    : 'Shutdown: the Kubernetes default grace (30 s).');
  const { defaultClass, allowedClasses } = p.priority;
  const allowed = allowedClasses.length > 0 ? `Pods may name only ${allowedClasses.join(', ')}` : 'Pods may name any class but system-*';
  lines.push(`Priority: ${defaultClass ? `accelerator Pods that name no class get ${defaultClass}${p.mutations.priorityClass ? '' : ' (not patched)'}; ` : ''}${allowed}.`);
  const req = [p.requirements.memoryLimit ? 'a memory limit' : undefined, p.requirements.cpuRequest ? 'a CPU request' : undefined, p.requirements.readinessProbe ? 'a readinessProbe' : undefined].filter(Boolean);
  lines.push(`Requirements: ${req.length > 0 ? `accelerator containers need ${req.length > 1 ? `${req.slice(0, -1).join(', ')} and ${req[req.length - 1]}` : req[0]}` : 'none'}.`);
  lines.push(...workloadLines(p));
  const off = Object.entries(p.mutations).filter(([k, v]) => k !== 'templates' && !v).map(([k]) => k);
  lines.push(`Mutations: on Pod creation${off.length > 0 ? `, except ${off.join(', ')}` : ''}; Pod templates are ${p.mutations.templates ? 'patched too' : 'validated, not patched (their Pods are)'}.`);
  if (p.exemptions.length === 0) lines.push('Exemptions: none.');
  for (const e of p.exemptions) {
    const who = [
      e.ownerKinds?.length ? `Pods of ${e.ownerKinds.join(', ')} controllers` : undefined,
      e.serviceAccounts?.length ? `Pods running as ${e.serviceAccounts.join(', ')}` : undefined,
      e.users?.length ? `requests by ${e.users.join(', ')}` : undefined,
      e.groups?.length ? `requests by members of ${e.groups.join(', ')}` : undefined,
    ].filter(Boolean).join(' and '); // every field an exemption gives must match (engine/exemptions.ts)
    lines.push(`Exemption: ${e.rules.join(', ')} lifted for ${who || 'nobody (no subject given)'}.`);
  }
  if (p.nodeAgents.length > 0) lines.push(`Node agents: DaemonSet${p.nodeAgents.length > 1 ? 's' : ''} ${p.nodeAgents.join(', ')} may tolerate GPU pool taints (gpu-squatting), their Pods when the DaemonSet controller creates them.`);
  return lines;
}

const LEVEL: Record<string, string> = { off: 'not checked', warn: 'warned', enforce: 'judged by the mode' };

/** Rollout, disruption, gang, CUDA, image and cost-label settings, one line each. */
function workloadLines(p: NamespacePolicy): string[] {
  const r = p.rollout;
  const deadline = r.progressDeadlineSeconds === 'auto'
    ? `progressDeadlineSeconds at least the start-up budget + ${seconds(r.marginSeconds)}`
    : r.progressDeadlineSeconds !== undefined ? `progressDeadlineSeconds at least ${seconds(r.progressDeadlineSeconds)}` : undefined;
  const rollout = [
    deadline,
    r.surgeOnly !== 'off' ? `surge-only rolling updates (maxUnavailable: 0; ${LEVEL[r.surgeOnly]})` : undefined,
    r.recreate !== 'off' ? `strategy Recreate ${LEVEL[r.recreate]}` : undefined,
    r.minReadySeconds !== undefined ? `minReadySeconds at least ${r.minReadySeconds}` : undefined,
  ].filter(Boolean);
  const lines = [`Rollouts: ${rollout.length > 0 ? `accelerator Deployments, StatefulSets and LeaderWorkerSets need ${rollout.join(', ')}${p.mutations.rollout ? ' (set on the object where missing or lower)' : ' (not patched)'}` : 'no requirement'}.`];
  const protect = p.disruption.protect;
  lines.push(`Disruption: ${protect === 'none' ? 'no protection' : `${protect === 'all' ? 'every accelerator Pod' : 'accelerator Pods of training and batch workloads'} ${p.mutations.disruption ? 'get' : 'would get (not patched)'} the node autoscalers' do-not-evict annotations`}; a multi-replica accelerator workload without a PodDisruptionBudget is ${LEVEL[p.disruption.budgets]} in audits.`);
  const g = p.gang;
  lines.push(g.mode === 'off' ? 'Gang admission: not required.' : `Gang admission: multi-Pod accelerator workloads must go through ${g.paths.length > 0 ? g.paths.join(', ') : 'a gang-capable path (kueue, volcano, kai, coscheduling)'} (${g.mode === 'required' ? 'denied otherwise' : 'warned otherwise'})${g.defaultQueue ? `; those on none get Kueue queue ${g.defaultQueue}${p.mutations.gangQueue ? '' : ' (not patched)'}` : ''}.`);
  lines.push(`CUDA: a workload's CUDA version (annotation gpu-admission.io/cuda or a known image tag) against the pools' drivers: ${LEVEL[p.cuda.check]}${p.cuda.check === 'enforce' && p.cuda.minorVersionCompatibility ? ', an older driver of the same major version only warned (unless the image enforces NVIDIA_REQUIRE_CUDA)' : ''}.`);
  lines.push(`Images: accelerator images without a tag or with :latest ${LEVEL[p.images.unpinned]}${p.images.pullPolicy ? `; pinned images need imagePullPolicy ${p.images.pullPolicy}` : ''}.`);
  const c = p.costLabels;
  lines.push(`Cost labels: ${c.required.length > 0 ? `accelerator Pods need ${c.required.join(', ')}` : 'none required'}${c.fromNamespace.length > 0 ? `; copied from the namespace's labels: ${c.fromNamespace.join(', ')}${p.mutations.costLabels ? '' : ' (not patched)'}` : ''}.`);
  return lines;
}

/** The whole explanation. `labels` are the namespace's labels as the caller knows them. */
export function explainNamespace(set: PolicySet, namespace: string, labels: Record<string, string>): string {
  const all = { ...labels, [NAME_LABEL]: namespace };
  const policy = new PolicyResolver(set, { labels: () => labels, version: 0 }).resolve(namespace);
  const known = `Labels considered: ${Object.entries(all).map(([k, v]) => `${k}=${v}`).join(', ')}` +
    `${Object.keys(labels).length === 0 ? ' (pass --labels k=v,... for the others: the webhook reads the live labels)' : ''}.`;
  if (!policy) {
    return [`Namespace ${namespace} is governed by no policy: no policy names it or selects its labels, and none is the default.`,
      'Its Pods are let through untouched (logged as skipped).', known].join('\n') + '\n';
  }
  const lines = [`Namespace ${namespace} is governed by NamespacePolicy "${policy.name}" (${policy.source}): ${why(policy, namespace)}.`];
  const shadowed = set.policies.filter((p) => p !== policy && p.namespaces.selector && selectorMatches(p.namespaces.selector, all));
  if (shadowed.length > 0) lines.push(`Also matching, but not applied: ${shadowed.map((p) => `"${p.name}"`).join(', ')} (a policy that names the namespace comes first, then selectors by policy name).`);
  if (policy.exempt) {
    lines.push('Exempt: its Pods are neither validated nor mutated.', known);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`Mode: ${MODE[policy.mode]}.`, ...acceleratorLines(policy, set), ...settingLines(policy), known);
  return `${lines.join('\n')}\n`;
}
