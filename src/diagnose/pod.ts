/**
 * Why one Pod is Pending or restarting: the checks an engineer makes, in order, each with its
 * evidence (object and field, event, node) and the fix. Pure: the objects come in, the steps go out.
 */
import type { CoreV1Event, V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { EXCLUDED_NAMESPACES } from '../admission/exclusions.js';
import { createRequest, simulate } from '../admission/simulate.js';
import type { GpuPool, NamespacePolicy } from '../policy/types.js';
import { nodeInPool, poolAllowed, poolOffers } from '../scheduling/pools.js';
import { alternatives, describeRequirement, distinctRequirements, selectionMatchesNode, selectionOf } from '../scheduling/selectors.js';
import { describeTaint, tolerationFor, untolerated } from '../scheduling/tolerations.js';
import { parseQuantity } from '../util/quantity.js';
import { analyseAccelerators } from '../workload/accelerators.js';
import { probeBudget } from '../workload/probes.js';
import { expectedPlugin, pluginDaemonSets } from './device-plugins.js';
import { describeReason, parseSchedulerMessage, type SchedulerMessage } from './events.js';
import { type Holder, holdersByNode, type NodeView, nodeView } from './nodes.js';
import type { DiagnoseContext, PodDiagnosis, PodState, Snapshot, Step, StepId } from './types.js';

/**
 * Where a Pod names its queue: Kueue's queue-name label (its Pod integration also adds the
 * scheduling gate kueue.x-k8s.io/admission until the workload is admitted), Volcano's queue and
 * PodGroup annotations, KAI-Scheduler's kai.scheduler/queue label (renamed from runai/queue; the
 * KAI-Scheduler changelog and pkg/common/constants).
 */
const QUEUE_KEYS: Array<{ where: 'labels' | 'annotations'; key: string; system: string }> = [
  { where: 'labels', key: 'kueue.x-k8s.io/queue-name', system: 'Kueue LocalQueue' },
  { where: 'annotations', key: 'scheduling.volcano.sh/queue-name', system: 'Volcano queue' },
  { where: 'annotations', key: 'scheduling.k8s.io/group-name', system: 'PodGroup (Volcano / coscheduling)' },
  { where: 'labels', key: 'kai.scheduler/queue', system: 'KAI-Scheduler queue' },
];

const ref = (p: V1Pod): string => `pod/${p.metadata?.name ?? '?'}`;

function time(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}

/** Events about this Pod (by uid when both carry one), newest first. */
export function eventsOf(pod: V1Pod, events: CoreV1Event[] | undefined): CoreV1Event[] {
  const uid = pod.metadata?.uid;
  return (events ?? [])
    .filter((e) => e.involvedObject?.kind === 'Pod' && e.involvedObject.name === pod.metadata?.name && (!uid || !e.involvedObject.uid || e.involvedObject.uid === uid))
    .sort((a, b) => time(b) - time(a));
}

export function podState(p: V1Pod): PodState {
  const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])];
  const crashing = statuses.some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff' || (s.restartCount ?? 0) > 0 && !s.ready);
  if (crashing) return 'restarting';
  switch (p.status?.phase) {
    case 'Pending': return 'pending';
    case 'Running': return 'running';
    case 'Succeeded': return 'succeeded';
    case 'Failed': return 'failed';
    default: return p.spec?.nodeName ? 'unknown' : 'pending';
  }
}

function step(id: StepId, title: string, status: Step['status'], summary: string, evidence: string[] = [], fix?: string): Step {
  return { id, title, status, summary, evidence, ...(fix ? { fix } : {}) };
}

interface PendingView {
  pod: V1Pod;
  ns: string;
  resources: string[];
  need: Map<string, number>;
  nodes?: NodeView[];
  policy?: NamespacePolicy;
  pools: GpuPool[];
}

function schedulerStep(pod: V1Pod, events: CoreV1Event[]): { step: Step; parsed?: SchedulerMessage } {
  const title = 'the scheduler\'s own words';
  const latest = events.find((e) => e.reason === 'FailedScheduling');
  if (!latest) {
    return { step: step('scheduler', title, 'unknown', 'no FailedScheduling event for the Pod (not tried yet, events expired after an hour, or another scheduler handles it)', [`${ref(pod)} spec.schedulerName: ${pod.spec?.schedulerName ?? 'default-scheduler'}`]) };
  }
  const parsed = parseSchedulerMessage(latest.message ?? '');
  const when = time(latest) ? new Date(time(latest)).toISOString() : 'unknown time';
  const evidence = [`event FailedScheduling (${latest.source?.component ?? latest.reportingComponent ?? 'scheduler'}, ${when}${latest.count && latest.count > 1 ? `, ×${latest.count}` : ''}): ${parsed.raw}`,
    ...parsed.reasons.map((r) => `reason: ${describeReason(r)}`), ...(parsed.preemption ?? []).map((r) => `preemption: ${describeReason(r)}`)];
  const kinds = [...new Set(parsed.reasons.map((r) => r.kind))];
  return {
    parsed,
    step: step('scheduler', title, 'cause', `${parsed.nodes !== undefined ? `0 of ${parsed.nodes} nodes fit` : 'no node fits'}: ${parsed.reasons.map((r) => r.text).join('; ')}`, evidence,
      kinds.map((k) => ({ insufficient: 'free capacity: see below', taint: 'tolerations: see below', selector: 'node selection: see below', unschedulable: 'cordoned nodes: kubectl uncordon <node>', other: 'the other reasons (volumes, topology, ports) are outside this tool: kubectl describe pod' })[k]).join('; ')),
  };
}

function poolsOf(n: NodeView, pools: GpuPool[]): GpuPool[] {
  return pools.filter((p) => nodeInPool(n, p));
}

function advertisedStep(v: PendingView, snap: Snapshot): { step: Step; advertising: NodeView[] } {
  const title = 'nodes that advertise the resource';
  if (!v.nodes) return { step: step('advertised', title, 'unknown', 'nodes could not be read', unreadable(snap, 'nodes')), advertising: [] };
  const advertising = v.nodes.filter((n) => v.resources.every((r) => n.allocatable(r) > 0));
  if (advertising.length > 0) {
    return { step: step('advertised', title, 'ok', `${advertising.length} node(s) advertise ${v.resources.join(', ')}`, advertising.slice(0, 10).map((n) => `node/${n.name} status.allocatable: ${v.resources.map((r) => `${r}=${n.allocatable(r)}`).join(', ')}`)), advertising };
  }
  const evidence: string[] = [];
  let fix = '';
  for (const r of v.resources.filter((x) => !v.nodes!.some((n) => n.allocatable(x) > 0))) {
    const unhealthy = v.nodes.filter((n) => n.capacity(r) > 0);
    for (const n of unhealthy) evidence.push(`node/${n.name} status.capacity ${r}=${n.capacity(r)} but status.allocatable ${r}=0: the device plugin reports the devices unhealthy`);
    const poolNodes = v.nodes.filter((n) => v.pools.some((p) => poolOffers(p, r) && nodeInPool(n, p)));
    if (poolNodes.length > 0) evidence.push(`${poolNodes.length} node(s) of the pools offering ${r} (${poolNodes.slice(0, 5).map((n) => n.name).join(', ')}) advertise none`);
    const expected = expectedPlugin(r);
    if (!snap.daemonSets) evidence.push(...unreadable(snap, 'daemonsets'));
    else {
      const found = pluginDaemonSets(r, snap.daemonSets);
      if (found.length === 0) evidence.push(`no device plugin DaemonSet found${expected.names.length ? ` (expected ${expected.names.join(' or ')})` : ''}`);
      for (const d of found) {
        const s = d.status;
        const name = `daemonset/${d.metadata?.name} -n ${d.metadata?.namespace}`;
        evidence.push(`${name} status: desired ${s?.desiredNumberScheduled ?? 0}, ready ${s?.numberReady ?? 0}, available ${s?.numberAvailable ?? 0}`);
        if (snap.boundPods && poolNodes.length > 0) {
          const uid = d.metadata?.uid;
          const onPool = snap.boundPods.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === uid) && poolNodes.some((n) => n.name === p.spec?.nodeName));
          const running = onPool.filter((p) => p.status?.phase === 'Running');
          evidence.push(`${name}: ${running.length} running Pod(s) on the ${poolNodes.length} pool node(s)${onPool.length > running.length ? `, ${onPool.length - running.length} not running` : ''}`);
        }
      }
      fix += `${fix ? '; ' : ''}${found.length === 0 ? `install ${expected.install}` : `make the device plugin run on the GPU nodes (its nodeSelector and tolerations), then check its logs: kubectl logs -n ${found[0]?.metadata?.namespace} daemonset/${found[0]?.metadata?.name}`}`;
    }
  }
  return { step: step('advertised', title, 'cause', `no node advertises ${v.resources.filter((x) => !v.nodes!.some((n) => n.allocatable(x) > 0)).join(', ')} (device plugin missing or unhealthy)`, evidence, fix || 'install the device plugin'), advertising };
}

function selectionStep(v: PendingView, advertising: NodeView[]): { step: Step; matching: NodeView[] } {
  const title = 'node selection';
  const spec = v.pod.spec ?? { containers: [] };
  const alts = alternatives(selectionOf(spec), spec);
  const reqs = distinctRequirements(alts);
  const described = reqs.map((r) => `${r.path}: ${describeRequirement(r)}`);
  if (advertising.length === 0) return { step: step('selection', title, 'skip', 'no node advertises the resource', described), matching: [] };
  const matching = advertising.filter((n) => selectionMatchesNode(alts, n));
  if (matching.length === 0) {
    const evidence = [...described, ...advertising.slice(0, 8).map((n) => `node/${n.name} (pool ${poolsOf(n, v.pools).map((p) => p.name).join(', ') || 'none'}) does not match`)];
    // Suggest the namespace's default pool first, then allowed pools that have advertising nodes.
    const rank = (p: GpuPool): number => (p.name === v.policy?.accelerators.defaultPool ? 0 : advertising.some((n) => nodeInPool(n, p)) ? 1 : 2);
    const allowed = v.policy ? v.pools.filter((p) => poolAllowed(v.policy!, p) && v.resources.every((r) => poolOffers(p, r))).sort((a, b) => rank(a) - rank(b)) : [];
    const hint = allowed.length > 0 ? `: select a pool the namespace may use, e.g. nodeSelector ${JSON.stringify(allowed[0]!.nodeLabels)}` : '';
    return { step: step('selection', title, 'cause', `the Pod's nodeSelector/affinity matches none of the ${advertising.length} node(s) that advertise ${v.resources.join(', ')}`, evidence, `change the selection${hint}`), matching };
  }
  if (v.policy && v.pools.length > 0) {
    const forbidden = matching.filter((n) => {
      const ps = poolsOf(n, v.pools);
      return ps.length > 0 && ps.every((p) => !poolAllowed(v.policy!, p));
    });
    if (forbidden.length === matching.length) {
      const names = [...new Set(forbidden.flatMap((n) => poolsOf(n, v.pools).map((p) => p.name)))];
      return {
        step: step('selection', title, 'cause', `the Pod's selection matches only nodes of pool(s) ${names.join(', ')} that namespace ${v.ns} may not use (policy ${v.policy.name})`,
          [...described, `policy ${v.policy.name} spec.accelerators.pools: [${v.policy.accelerators.pools.join(', ')}]`], `select one of the namespace's pools: ${v.policy.accelerators.pools.join(', ')}`),
        matching,
      };
    }
  }
  return { step: step('selection', title, 'ok', `${matching.length} of ${advertising.length} advertising node(s) match the Pod's selection`, described), matching };
}

function taintStep(v: PendingView, matching: NodeView[]): { step: Step; fitting: NodeView[] } {
  const title = 'taints and cordons';
  if (matching.length === 0) return { step: step('taints', title, 'skip', 'no advertising node matches the selection'), fitting: [] };
  const tolerations = v.pod.spec?.tolerations;
  const blocked = matching.map((n) => ({ n, taints: untolerated(tolerations, n.taints) })).filter((x) => x.taints.length > 0 || x.n.cordoned);
  const fitting = matching.filter((n) => !blocked.some((b) => b.n === n));
  if (fitting.length > 0) return { step: step('taints', title, 'ok', `${fitting.length} matching node(s) carry no taint the Pod does not tolerate`), fitting };
  const evidence = blocked.map(({ n, taints }) => `node/${n.name}${n.cordoned ? ' spec.unschedulable: true (cordoned)' : ''}${taints.length ? ` spec.taints: ${taints.map(describeTaint).join(', ')}` : ''}`);
  const taints = [...new Map(blocked.flatMap((b) => b.taints).filter((t) => !t.key.startsWith('node.kubernetes.io/')).map((t) => [describeTaint(t), t])).values()];
  const conditions = blocked.flatMap((b) => b.taints).filter((t) => t.key.startsWith('node.kubernetes.io/'));
  const fixes: string[] = [];
  if (taints.length) fixes.push(`add to spec.tolerations: ${JSON.stringify(taints.map(tolerationFor))}`);
  if (conditions.length) fixes.push('the node taints of a condition (not-ready, pressure) clear when the node recovers: kubectl describe node');
  if (blocked.some((b) => b.n.cordoned)) fixes.push('kubectl uncordon the nodes once their maintenance is done');
  return { step: step('taints', title, 'cause', `every node that would otherwise fit has a taint the Pod does not tolerate${blocked.some((b) => b.n.cordoned) ? ' or is cordoned' : ''}`, evidence, fixes.join('; ')), fitting };
}

function preemptionPolicy(pod: V1Pod, snap: Snapshot): { policy: string; source: string } {
  if (pod.spec?.preemptionPolicy) return { policy: pod.spec.preemptionPolicy, source: `${ref(pod)} spec.preemptionPolicy` };
  const cls = snap.priorityClasses?.find((c) => c.metadata?.name === pod.spec?.priorityClassName);
  if (cls) return { policy: cls.preemptionPolicy ?? 'PreemptLowerPriority', source: `priorityclass/${cls.metadata?.name} preemptionPolicy` };
  return { policy: 'PreemptLowerPriority', source: 'the default' };
}

function freeStep(v: PendingView, fitting: NodeView[], snap: Snapshot, ctx: DiagnoseContext): Step {
  const title = 'free accelerators';
  if (fitting.length === 0) return step('free', title, 'skip', 'no node passes selection and taints');
  if (!snap.boundPods) return step('free', title, 'unknown', 'bound Pods could not be read: free capacity unknown', unreadable(snap, 'pods'));
  const mine = v.pod.spec?.priority ?? 0;
  const evidence: string[] = [];
  let fits = false;
  let preemptible = false;
  const lower: Holder[] = [];
  for (const r of v.resources) {
    const need = v.need.get(r) ?? 0;
    const holders = holdersByNode(snap.boundPods, r, ctx.matcher, v.pod.metadata?.uid);
    for (const n of fitting) {
      const held = holders.get(n.name) ?? [];
      const used = held.reduce((s, h) => s + h.amount, 0);
      const free = n.allocatable(r) - used;
      if (free >= need) fits = true;
      const below = held.filter((h) => h.priority < mine);
      if (free + below.reduce((s, h) => s + h.amount, 0) >= need) preemptible = true;
      lower.push(...below);
      evidence.push(`node/${n.name} ${r}: allocatable ${n.allocatable(r)}, requested by bound Pods ${used}, free ${free} (needs ${need})`);
      for (const h of held) evidence.push(`  held by pod/${h.name} -n ${h.namespace}: ${h.amount} ${r}, priority ${h.priority}${h.priorityClassName ? ` (${h.priorityClassName})` : ''}`);
    }
  }
  if (fits) return step('free', title, 'ok', 'a fitting node has enough free accelerators', evidence.slice(0, 12));
  const pp = preemptionPolicy(v.pod, snap);
  let fix: string;
  if (preemptible && pp.policy !== 'Never') {
    fix = `preemption can free room: ${lower.length} lower-priority Pod(s) hold enough (this Pod's priority ${mine}); the scheduler will evict them unless a PodDisruptionBudget or the next cycle prevents it`;
  } else if (preemptible) {
    fix = `lower-priority Pods hold enough, but this Pod may not preempt (${pp.source}: Never): use a PriorityClass with preemptionPolicy PreemptLowerPriority, or wait for them to finish`;
  } else {
    fix = `no lower-priority Pod to preempt (this Pod's priority ${mine}): wait for the holders to finish, add nodes to the pool, or ask for fewer (${v.resources.map((r) => `${r}=${v.need.get(r)}`).join(', ')})`;
  }
  evidence.push(`${ref(v.pod)} spec.priority: ${mine}${v.pod.spec?.priorityClassName ? ` (${v.pod.spec.priorityClassName})` : ''}, preemption ${pp.policy} (${pp.source})`);
  return step('free', title, 'cause', `the ${fitting.length} node(s) that fit have too few free ${v.resources.join(', ')} (needs ${v.resources.map((r) => v.need.get(r)).join(', ')} per Pod)`, evidence, fix);
}

function queueStep(pod: V1Pod): Step {
  const title = 'scheduling gates and queues';
  const gates = (pod.spec?.schedulingGates ?? []).map((g) => g.name);
  const queues = QUEUE_KEYS.flatMap((q) => {
    const value = pod.metadata?.[q.where]?.[q.key];
    return value ? [`${ref(pod)} metadata.${q.where}[${q.key}]: ${value} (${q.system})`] : [];
  });
  const scheduler = pod.spec?.schedulerName && pod.spec.schedulerName !== 'default-scheduler' ? pod.spec.schedulerName : undefined;
  const evidence = [...gates.map((g, i) => `${ref(pod)} spec.schedulingGates[${i}].name: ${g}`), ...queues, ...(scheduler ? [`${ref(pod)} spec.schedulerName: ${scheduler}`] : [])];
  if (gates.length > 0) {
    return step('queue', title, 'cause', `the Pod waits on scheduling gate(s) ${gates.join(', ')}${queues.length ? ` and queue ${queues.map((q) => q.split(': ')[1]).join(', ')}` : ''}: the scheduler does not look at it until the gate is removed`, evidence,
      gates.some((g) => g.startsWith('kueue.x-k8s.io/')) ? 'Kueue removes the gate when the workload is admitted: kubectl get workloads -n <ns>, and the ClusterQueue\'s quota' : 'the controller that added the gate removes it; check that controller');
  }
  if (scheduler && queues.length > 0) {
    return step('queue', title, 'cause', `the Pod is handled by ${scheduler} and waits in ${queues.map((q) => q.split(': ')[1]).join(', ')}`, evidence, `check the queue's capacity and the PodGroup status in ${scheduler} (kubectl describe podgroup / queue)`);
  }
  return step('queue', title, 'ok', queues.length ? `queue labels present but no gate: ${queues.join('; ')}` : 'no scheduling gate and no queue', evidence);
}

export function quotaSteps(ns: string, resources: string[], snap: Snapshot, short: boolean): Step {
  const title = 'resource quota';
  if (!snap.quotas) return step('quota', title, 'unknown', 'ResourceQuotas could not be read', unreadable(snap, 'resourcequotas'));
  const evidence: string[] = [];
  const full: string[] = [];
  for (const q of snap.quotas) {
    for (const r of resources) {
      for (const key of [`requests.${r}`, `limits.${r}`]) {
        const hard = parseQuantity(q.status?.hard?.[key] ?? q.spec?.hard?.[key]);
        if (hard === undefined) continue;
        const used = parseQuantity(q.status?.used?.[key]) ?? 0;
        evidence.push(`resourcequota/${q.metadata?.name} -n ${ns} ${key}: used ${used} of hard ${hard}`);
        if (used >= hard) full.push(`resourcequota/${q.metadata?.name} ${key} (${used}/${hard})`);
      }
    }
  }
  if (evidence.length === 0) return step('quota', title, 'ok', `no ResourceQuota of namespace ${ns} limits ${resources.join(', ')}`);
  if (full.length === 0) return step('quota', title, 'ok', 'the namespace has quota left', evidence);
  if (!short) return step('quota', title, 'ok', `quota used up (${full.join(', ')}): this Pod is admitted, but no further Pod requesting it can be created`, evidence);
  return step('quota', title, 'cause', `the namespace's quota is used up: ${full.join(', ')}`, evidence, 'raise the quota\'s hard limit, or free it (scale down or delete Pods that hold it)');
}

function unreadable(snap: Snapshot, resource: string): string[] {
  return snap.unreadable.filter((u) => u.resource === resource).map((u) => `cannot ${u.verb} ${u.resource}${u.namespace ? ` in namespace ${u.namespace}` : ''}: ${u.message}`);
}

// ------------------------------------------------------------------------------------------
// restarts

function seconds(a?: Date | string, b?: Date | string): number | undefined {
  if (!a || !b) return undefined;
  const d = (new Date(b as string).getTime() - new Date(a as string).getTime()) / 1000;
  return Number.isFinite(d) && d >= 0 ? Math.round(d) : undefined;
}

function policyStartupProbe(pod: V1Pod, ctx: DiagnoseContext, index: number): { probe?: V1Probe; budget?: number; policy?: string } {
  if (!ctx.engine) return {};
  const sim = simulate(ctx.engine, createRequest(asCreate(pod), pod.metadata?.namespace ?? 'default'));
  const spec = (sim.object as V1Pod).spec;
  const probe = spec?.containers?.[index]?.startupProbe;
  return { ...(probe ? { probe } : {}), budget: sim.mutated.policy?.startupProbe.minBudgetSeconds, ...(sim.policy ? { policy: sim.policy } : {}) };
}

function restartSteps(pod: V1Pod, events: CoreV1Event[], ctx: DiagnoseContext): Step[] {
  const statuses = pod.status?.containerStatuses ?? [];
  const restarted = statuses.filter((s) => (s.restartCount ?? 0) > 0 || s.state?.waiting?.reason === 'CrashLoopBackOff');
  if (restarted.length === 0) return [];
  const steps: Step[] = [];
  // A container that restarted and is ready again: its history, not why anything is wrong now.
  const healthy = restarted.filter((s) => s.ready && s.state?.running);
  for (const s of healthy) {
    const last = s.lastState?.terminated;
    steps.push(step('restarts', 'restarts and last termination', 'ok', `container "${s.name}" restarted ${s.restartCount} time(s) and is ready now${last ? ` (last ${last.reason ?? 'terminated'}, exit code ${last.exitCode})` : ''}`));
  }
  const containers = pod.spec?.containers ?? [];
  const livenessEvents = events.filter((e) => /liveness probe/i.test(e.message ?? ''));
  for (const s of restarted.filter((x) => !healthy.includes(x))) {
    const index = containers.findIndex((c) => c.name === s.name);
    const c: V1Container | undefined = containers[index];
    const base = `${ref(pod)} status.containerStatuses[name=${s.name}]`;
    const last = s.lastState?.terminated;
    const ran = seconds(last?.startedAt, last?.finishedAt);
    const evidence = [`${base}.restartCount: ${s.restartCount ?? 0}`];
    if (s.state?.waiting?.reason) evidence.push(`${base}.state.waiting.reason: ${s.state.waiting.reason}`);
    if (last) evidence.push(`${base}.lastState.terminated: reason ${last.reason ?? '?'}, exitCode ${last.exitCode}${ran !== undefined ? `, ran ${ran}s` : ''}`);
    const byLiveness = livenessEvents.filter((e) => !e.involvedObject.fieldPath || e.involvedObject.fieldPath.includes(`{${s.name}}`));
    const oom = last?.reason === 'OOMKilled';
    const memLimit = c?.resources?.limits?.['memory'];
    let summary = `container "${s.name}" restarted ${s.restartCount ?? 0} time(s)${last ? `, last ${last.reason ?? 'terminated'} (exit code ${last.exitCode})` : ''}`;
    let fix = `read its previous log: kubectl logs ${pod.metadata?.name} -c ${s.name} --previous`;
    if (oom) {
      summary = `container "${s.name}" was OOMKilled${memLimit ? ` at its memory limit ${memLimit}` : ' (no memory limit: the node ran out)'}`;
      evidence.push(`${ref(pod)} spec.containers[${index}].resources.limits.memory: ${memLimit ?? '(none)'}`);
      fix = memLimit ? `raise spec.containers[${index}].resources.limits.memory above what the model needs at load (weights + KV cache)` : 'set a memory request and limit that covers the model';
    }
    steps.push(step('restarts', 'restarts and last termination', 'cause', summary, evidence, fix));
    if (c?.livenessProbe && byLiveness.length > 0) {
      const live = probeBudget(c.livenessProbe);
      const startup = c.startupProbe ? probeBudget(c.startupProbe) : undefined;
      const cover = (startup ?? 0) + live;
      const given = policyStartupProbe(pod, ctx, index);
      const lev = [
        ...byLiveness.slice(0, 2).map((e) => `event ${e.reason}: ${e.message}`),
        `${ref(pod)} spec.containers[${index}].livenessProbe: budget ${live}s (initialDelaySeconds ${c.livenessProbe.initialDelaySeconds ?? 0} + failureThreshold ${c.livenessProbe.failureThreshold ?? 3} × periodSeconds ${c.livenessProbe.periodSeconds ?? 10})`,
        `${ref(pod)} spec.containers[${index}].startupProbe: ${startup !== undefined ? `budget ${startup}s` : '(none)'}`,
        ...(ran !== undefined ? [`observed: the container ran ${ran}s before it was killed`] : []),
        ...(given.budget !== undefined ? [`policy ${given.policy ?? '?'} startupProbe.minBudgetSeconds: ${given.budget}`] : []),
      ];
      const policyProbe = given.probe && JSON.stringify(given.probe) !== JSON.stringify(c.startupProbe) ? given.probe : undefined;
      const fixL = policyProbe
        ? `the namespace policy gives it this startupProbe (budget ${probeBudget(policyProbe)}s) on re-create: ${JSON.stringify(policyProbe)}`
        : `add a startupProbe whose failureThreshold × periodSeconds covers the model's start (more than ${ran ?? cover}s), so the liveness probe starts after it`;
      steps.push(step('liveness', 'liveness probe against the start-up time', 'cause',
        `the liveness probe killed "${s.name}" before it finished starting: its start-up cover is ${cover}s${ran !== undefined ? `, it ran ${ran}s` : ''}${startup === undefined ? ' (no startupProbe)' : ''}`, lev, fixL));
    }
  }
  return steps;
}

// ------------------------------------------------------------------------------------------

/** The Pod as the API server would see it on CREATE now: no status, no server-set identity. */
function asCreate(pod: V1Pod): Record<string, unknown> {
  const { status: _s, ...rest } = pod;
  const meta = { ...(pod.metadata ?? {}) } as Record<string, unknown>;
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) delete meta[k];
  return JSON.parse(JSON.stringify({ ...rest, apiVersion: 'v1', kind: 'Pod', metadata: meta })) as Record<string, unknown>;
}

function webhookStep(pod: V1Pod, ctx: DiagnoseContext): Step {
  const title = 'the webhook today';
  if (!ctx.engine) return step('webhook', title, 'skip', 'no policies given');
  const ns = pod.metadata?.namespace ?? 'default';
  if (EXCLUDED_NAMESPACES.includes(ns)) return step('webhook', title, 'skip', `namespace ${ns} is never sent to the webhook (the shipped namespaceSelector)`);
  const sim = simulate(ctx.engine, createRequest(asCreate(pod), pod.metadata?.namespace ?? 'default'));
  if (sim.verdict === 'skipped') return step('webhook', title, 'skip', sim.skipped ?? 'not judged');
  const denials = sim.validated?.denials ?? [];
  if (denials.length === 0) return step('webhook', title, 'ok', `policy ${sim.policy} would admit it today${sim.warnings.length ? ` (${sim.warnings.length} warning(s))` : ''}`);
  return step('webhook', title, 'cause', `the webhook would now deny it (policy ${sim.policy} as it is today; a re-created Pod is refused): ${denials[0]!.message}`,
    denials.map((f) => `${f.ruleId} ${f.path}: ${f.message}`), denials.map((f) => f.fix).join('; '));
}

/** Kubelet waiting reasons that do not clear by themselves. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

const PENDING_ORDER: StepId[] = ['queue', 'advertised', 'selection', 'taints', 'free', 'quota', 'restarts', 'webhook', 'scheduler'];
const RESTART_ORDER: StepId[] = ['liveness', 'restarts', 'webhook'];

export function diagnosePod(pod: V1Pod, snap: Snapshot, ctx: DiagnoseContext): PodDiagnosis {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const state = podState(pod);
  const events = eventsOf(pod, snap.events);
  const steps: Step[] = [];
  let scheduler: SchedulerMessage | undefined;
  const spec = pod.spec ?? { containers: [] };
  const acc = analyseAccelerators(spec, ctx.matcher);
  if (state === 'pending' && !pod.spec?.nodeName) {
    const policy = ctx.engine?.resolver.resolve(ns);
    const v: PendingView = { pod, ns, resources: acc.resources, need: acc.perPod, nodes: snap.nodes?.map(nodeView), pools: ctx.set?.pools ?? [], ...(policy ? { policy } : {}) };
    const s = schedulerStep(pod, events);
    scheduler = s.parsed;
    steps.push(s.step);
    if (v.resources.length === 0) {
      steps.push(step('advertised', 'nodes that advertise the resource', 'skip', 'the Pod requests no accelerator resource'));
    } else {
      const adv = advertisedStep(v, snap);
      const sel = selectionStep(v, adv.advertising);
      const tai = taintStep(v, sel.matching);
      steps.push(adv.step, freeStep(v, tai.fitting, snap, ctx), sel.step, tai.step);
    }
    steps.push(queueStep(pod));
    if (v.resources.length > 0) steps.push(quotaSteps(ns, v.resources, snap, false));
  } else if (state === 'pending') {
    steps.push(step('scheduler', 'the scheduler\'s own words', 'ok', `bound to node/${pod.spec?.nodeName}: the kubelet is starting it`));
    const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter((c) => c.state?.waiting?.reason && STUCK.has(c.state.waiting.reason));
    if (waiting.length > 0) {
      const w = waiting[0]!;
      steps.push(step('restarts', 'containers waiting to start', 'cause', `container "${w.name}" cannot start: ${w.state!.waiting!.reason}`,
        waiting.map((c) => `${ref(pod)} status.containerStatuses[name=${c.name}].state.waiting: ${c.state!.waiting!.reason}${c.state!.waiting!.message ? `: ${c.state!.waiting!.message}` : ''}`),
        /Image/.test(w.state!.waiting!.reason!) ? 'check the image name and tag, and the registry credentials (imagePullSecrets)' : 'check the ConfigMaps, Secrets and volumes the container refers to: kubectl describe pod'));
    }
  }
  steps.push(...restartSteps(pod, events, ctx));
  steps.push(webhookStep(pod, ctx));
  const causes = steps.filter((s) => s.status === 'cause');
  const order = state === 'pending' ? PENDING_ORDER : RESTART_ORDER;
  const first = order.map((id) => causes.find((c) => c.id === id)).find(Boolean) ?? causes[0];
  const label = { pending: 'Pending', restarting: 'Restarting', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', unknown: 'Unknown' }[state];
  let verdict: string;
  let outcome: PodDiagnosis['outcome'];
  if (first && (state === 'pending' || state === 'restarting')) {
    verdict = `${label} because ${first.summary}`;
    outcome = 'cause';
  } else if (first) {
    verdict = `${label}, but ${first.summary}`;
    outcome = 'cause';
  } else if (state === 'pending' || state === 'restarting') {
    verdict = `${label}: could not tell why (see the steps)`;
    outcome = 'unknown';
  } else {
    verdict = `${label}: nothing wrong found`;
    outcome = 'ok';
  }
  return { namespace: ns, name, state, verdict, outcome, steps, ...(scheduler ? { scheduler } : {}) };
}
