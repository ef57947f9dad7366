/**
 * Gang admission: a workload whose accelerator Pods must all run at once (a multi-worker training
 * job, a multi-host serving group) goes through a scheduler or queue that admits the group as a
 * unit. The default scheduler places Pods one by one: four of eight workers start and hold their
 * GPUs while the other four wait for capacity that those four keep busy.
 *
 * The names of the gang-capable paths (sources in the comments below):
 * - Kueue: label `kueue.x-k8s.io/queue-name` on the workload (kubernetes-sigs/kueue pkg/constants
 *   QueueLabel); Pods created gated by Kueue (`kueue.x-k8s.io/admission`, `kueue.x-k8s.io/topology`,
 *   `kueue.x-k8s.io/elastic-job` scheduling gates) are Kueue's. Kueue's LocalQueueDefaulting
 *   (beta, on by default since v0.12) labels workloads of a namespace that has a LocalQueue named
 *   `default`: an offline check cannot see that LocalQueue, so it is not assumed.
 * - Volcano: `spec.schedulerName: volcano`; the Kubeflow training operator (--gang-scheduler-name)
 *   creates the PodGroup of its jobs; a Volcano Job (batch.volcano.sh) is a gang by itself
 *   (https://kubeflow.org/docs/components/trainer/legacy-v1/user-guides/job-scheduling).
 * - KAI-Scheduler: `spec.schedulerName: kai-scheduler` and the label `kai.scheduler/queue` on the
 *   workload (renamed from runai/queue in v0.6.0, NVIDIA/KAI-Scheduler CHANGELOG.md); its
 *   PodGrouper creates the PodGroup per top owner.
 * - Coscheduling (kubernetes-sigs/scheduler-plugins): the Pod label `scheduling.x-k8s.io/pod-group`
 *   (before v0.25.7 `pod-group.scheduling.sigs.k8s.io`) and the scheduler profile's schedulerName
 *   (chart: scheduler-plugins-scheduler); the training operator adds the label to its jobs' Pods.
 *
 * Pod counts: Kubeflow replicaSpecs `replicas` (default 1); JobSet Σ replicas × min(parallelism,
 * completions) (Kueue jobset_controller.go podsCount); TrainJob `spec.trainer.numNodes`; KubeRay
 * worker groups replicas (or minReplicas) × numOfHosts (raycluster_types.go); LeaderWorkerSet
 * `leaderWorkerTemplate.size` Pods per group; an Indexed Job min(parallelism, completions).
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Finding, PodAnalysis, RuleResult, WorkloadAnalysis, WorkloadRule } from '../engine/types.js';
import type { GangPath, NamespacePolicy } from '../policy/types.js';
import { controllerOwner, fail, finding, pass, skip } from './util.js';
import { isObject, wholeNumber } from '../util/json.js';
import { REPLICA_SPECS } from '../workload/kinds.js';

export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
export const KAI_QUEUE_LABEL = 'kai.scheduler/queue';
export const POD_GROUP_LABELS = ['scheduling.x-k8s.io/pod-group', 'pod-group.scheduling.sigs.k8s.io'] as const;
const KUEUE_GATE_PREFIX = 'kueue.x-k8s.io/';
export const ALL_GANG_PATHS: readonly GangPath[] = ['kueue', 'volcano', 'kai', 'coscheduling'];

type Json = Record<string, unknown>;
/** A non-negative integer field, or the default when absent or ill-typed (the API server's schema refuses those). */
const count = (v: unknown, dflt: number): number => wholeNumber(v) ?? dflt;

/** Kubeflow job kinds and the field of their replica specs (from the kind table). */
const KUBEFLOW = REPLICA_SPECS;

const RAY_BASE: Record<string, string> = {
  'ray.io/RayCluster': 'spec',
  'ray.io/RayJob': 'spec/rayClusterSpec',
  'ray.io/RayService': 'spec/rayClusterConfig',
};

/** The Pods of a workload that must start together. */
export interface Gang {
  /** How many Pods (of one group, for a LeaderWorkerSet). */
  count: number;
  /** The field the count comes from, for messages. */
  path: string;
  /** How it was counted (`Master 1 + Worker 2`). */
  detail: string;
  /** The accelerator Pod specs of the gang: the ones whose schedulerName and labels decide. */
  pods: PodAnalysis[];
  /** A Kubeflow training-operator kind: the operator creates the PodGroup (Volcano, coscheduling). */
  operatorGroups: boolean;
}

const accelerators = (w: WorkloadAnalysis): PodAnalysis[] => w.pods.filter((a) => a.acc.isAcceleratorPod);
const spec = (w: WorkloadAnalysis): Json => (isObject(w.object['spec']) ? w.object['spec'] : {});

/** The gang of a workload, or why it has none. */
export function gangOf(w: WorkloadAnalysis): Gang | string {
  const kubeflow = KUBEFLOW[w.kind];
  if (kubeflow) {
    const specs = spec(w)[kubeflow];
    if (!isObject(specs)) return `spec.${kubeflow} is missing`;
    const parts = Object.entries(specs).map(([type, rs]) => [type, count(isObject(rs) ? rs['replicas'] : undefined, 1)] as const);
    return { count: parts.reduce((s, [, n]) => s + n, 0), path: `spec.${kubeflow}`, detail: parts.map(([t, n]) => `${t} ${n}`).join(' + '), pods: accelerators(w), operatorGroups: true };
  }
  const ray = RAY_BASE[w.kind];
  if (ray) return rayGang(w, ray);
  switch (w.kind) {
    case 'batch/Job': {
      const s = spec(w);
      if (s['completionMode'] !== 'Indexed') return 'not an Indexed Job: its Pods are interchangeable and need not start together';
      const parallelism = count(s['parallelism'], 1);
      const n = Math.min(parallelism, count(s['completions'], parallelism));
      return { count: n, path: 'spec.parallelism', detail: `Indexed, parallelism ${parallelism}${s['completions'] !== undefined ? `, completions ${String(s['completions'])}` : ''}`, pods: accelerators(w), operatorGroups: false };
    }
    case 'jobset.x-k8s.io/JobSet': {
      const jobs = spec(w)['replicatedJobs'];
      if (!Array.isArray(jobs)) return 'spec.replicatedJobs is missing';
      const parts = jobs.map((rj: unknown, i) => {
        const r = isObject(rj) ? rj : {};
        const js = isObject(r['template']) && isObject(r['template']['spec']) ? r['template']['spec'] : {};
        const parallelism = count(js['parallelism'], 1);
        const perJob = Math.min(parallelism, count(js['completions'], parallelism));
        return [typeof r['name'] === 'string' ? r['name'] : `[${i}]`, count(r['replicas'], 1) * perJob] as const;
      });
      return { count: parts.reduce((s, [, n]) => s + n, 0), path: 'spec.replicatedJobs', detail: parts.map(([t, n]) => `${t} ${n}`).join(' + '), pods: accelerators(w), operatorGroups: false };
    }
    case 'trainer.kubeflow.org/TrainJob': {
      const trainer = spec(w)['trainer'];
      const n = isObject(trainer) ? trainer['numNodes'] : undefined;
      if (typeof n !== 'number') return 'spec.trainer.numNodes is not set: the runtime decides the node count and carries the Pod templates';
      return { count: count(n, 1), path: 'spec.trainer.numNodes', detail: `numNodes ${n}`, pods: accelerators(w), operatorGroups: false };
    }
    case 'leaderworkerset.x-k8s.io/LeaderWorkerSet': {
      const lwt = spec(w)['leaderWorkerTemplate'];
      const size = count(isObject(lwt) ? lwt['size'] : undefined, 1);
      return { count: size, path: 'spec.leaderWorkerTemplate.size', detail: `size ${size} per group, leader included`, pods: accelerators(w), operatorGroups: false };
    }
    case 'batch.volcano.sh/Job': {
      // A Volcano Job is its own PodGroup (minAvailable): on the Volcano path by kind.
      const tasks = spec(w)['tasks'];
      const parts = (Array.isArray(tasks) ? tasks : []).map((t: unknown, i) => {
        const r = isObject(t) ? t : {};
        return [typeof r['name'] === 'string' ? r['name'] : `[${i}]`, count(r['replicas'], 1)] as const;
      });
      return { count: parts.reduce((s, [, n]) => s + n, 0), path: 'spec.tasks', detail: parts.map(([t, n]) => `${t} ${n}`).join(' + '), pods: accelerators(w), operatorGroups: false };
    }
    default:
      return `${w.kind.replace(/^\//, '')} does not run Pods that must start together`;
  }
}

/** KubeRay: the accelerator Pods only (a CPU head with one GPU worker is not a gang of GPUs). */
function rayGang(w: WorkloadAnalysis, base: string): Gang | string {
  let cluster: unknown = w.object;
  for (const k of base.split('/')) cluster = isObject(cluster) ? cluster[k] : undefined;
  if (!isObject(cluster)) return `${base.replaceAll('/', '.')} is missing (the RayJob uses an existing cluster)`;
  const ptr = `/${base}`;
  const at = (pointer: string): PodAnalysis | undefined => w.pods.find((a) => a.target.pointer === pointer);
  const parts: string[] = [];
  const pods: PodAnalysis[] = [];
  let n = 0;
  const head = at(`${ptr}/headGroupSpec/template/spec`);
  if (head?.acc.isAcceleratorPod) {
    n += 1;
    parts.push('head 1');
    pods.push(head);
  }
  const groups = Array.isArray(cluster['workerGroupSpecs']) ? cluster['workerGroupSpecs'] : [];
  groups.forEach((g: unknown, i) => {
    const a = at(`${ptr}/workerGroupSpecs/${i}/template/spec`);
    if (!isObject(g) || !a?.acc.isAcceleratorPod) return;
    const replicas = Math.max(count(g['replicas'], 0), count(g['minReplicas'], 0));
    const hosts = count(g['numOfHosts'], 1);
    n += replicas * hosts;
    parts.push(`${typeof g['groupName'] === 'string' ? g['groupName'] : `workerGroupSpecs[${i}]`} ${replicas}${hosts !== 1 ? ` x ${hosts} hosts` : ''}`);
    pods.push(a);
  });
  return { count: n, path: `${base.replaceAll('/', '.')}.workerGroupSpecs`, detail: parts.join(' + ') || 'no accelerator group', pods, operatorGroups: false };
}

const labelOf = (meta: V1ObjectMeta | undefined, key: string): string | undefined => {
  const v = meta?.labels?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

const kueueGated = (a: PodAnalysis): boolean =>
  Array.isArray(a.target.spec.schedulingGates) && a.target.spec.schedulingGates.some((g) => typeof g?.name === 'string' && g.name.startsWith(KUEUE_GATE_PREFIX));

const schedulerIn = (a: PodAnalysis, names: readonly string[]): boolean =>
  typeof a.target.spec.schedulerName === 'string' && names.includes(a.target.spec.schedulerName);

/** The gang paths the workload is on, whether or not the policy lists them. */
export function pathsOf(w: WorkloadAnalysis, gang: Gang): GangPath[] {
  const names = w.policy.gang.schedulerNames;
  const pods = gang.pods;
  const every = (f: (a: PodAnalysis) => boolean): boolean => pods.length > 0 && pods.every(f);
  const out: GangPath[] = [];
  if (labelOf(w.meta, KUEUE_QUEUE_LABEL) !== undefined || every(kueueGated)) out.push('kueue');
  if (w.kind === 'batch.volcano.sh/Job' || every((a) => schedulerIn(a, names.volcano))) out.push('volcano');
  if (labelOf(w.meta, KAI_QUEUE_LABEL) !== undefined && every((a) => schedulerIn(a, names.kai))) out.push('kai');
  if (every((a) => schedulerIn(a, names.coscheduling) && (gang.operatorGroups || POD_GROUP_LABELS.some((k) => labelOf(a.target.metadata, k) !== undefined)))) out.push('coscheduling');
  return out;
}

export function allowedPaths(policy: NamespacePolicy): readonly GangPath[] {
  return policy.gang.paths.length > 0 ? policy.gang.paths : ALL_GANG_PATHS;
}

const PATH_NAMES: Record<GangPath, string> = { kueue: 'Kueue', volcano: 'Volcano', kai: 'KAI-Scheduler', coscheduling: 'the coscheduling plugin' };

/** How to put the workload on each path the policy allows. */
function fixFor(w: WorkloadAnalysis, gang: Gang, allowed: readonly GangPath[]): string {
  const names = w.policy.gang.schedulerNames;
  const queue = w.policy.gang.defaultQueue;
  const out: string[] = [];
  for (const p of allowed) {
    if (p === 'kueue') {
      out.push(`add the label ${KUEUE_QUEUE_LABEL}: ${queue ?? '<LocalQueue>'} to metadata.labels (Kueue admits the whole workload at once${queue ? '' : '; Kueue fills in a LocalQueue named "default" by itself only when the namespace has one and LocalQueueDefaulting is on, which this check cannot see'})`);
    } else if (p === 'volcano' && names.volcano[0]) {
      out.push(`set spec.schedulerName: ${names.volcano[0]} on every accelerator Pod template${gang.operatorGroups ? ' (the training or MPI operator creates the PodGroup when its gang scheduler is Volcano)' : ''}`);
    } else if (p === 'kai' && names.kai[0]) {
      out.push(`set spec.schedulerName: ${names.kai[0]} on every accelerator Pod template and the label ${KAI_QUEUE_LABEL}: <queue> on metadata.labels`);
    } else if (p === 'coscheduling' && names.coscheduling[0]) {
      out.push(gang.operatorGroups
        ? `set spec.schedulerName: ${names.coscheduling[0]} on every accelerator Pod template (the training or MPI operator adds the ${POD_GROUP_LABELS[0]} label when its gang scheduler is scheduler-plugins)`
        : `set spec.schedulerName: ${names.coscheduling[0]} and the label ${POD_GROUP_LABELS[0]}: <PodGroup> (a PodGroup with minMember ${gang.count}) on every accelerator Pod template`);
    }
  }
  return out.join('; or ') || 'use a gang-capable path the namespace policy lists in gang.paths';
}

/** Why the rule does not judge the workload, or its gang and the paths it is on. */
export function judge(w: WorkloadAnalysis): { gang: Gang; on: GangPath[]; allowed: readonly GangPath[] } | string {
  if (w.kind === '/Pod') return 'a Pod is judged through its workload: which group a bare Pod belongs to is not knowable at admission';
  if (!w.accelerator) return 'no Pod spec requests accelerators';
  const owner = controllerOwner(w.meta);
  if (owner) return `created by its controller ${owner}, which is judged itself`;
  const gang = gangOf(w);
  if (typeof gang === 'string') return gang;
  if (gang.count <= 1) return `${gang.path}: ${gang.detail}, no more than one Pod must start at a time`;
  return { gang, on: pathsOf(w, gang), allowed: allowedPaths(w.policy) };
}

export const gangScheduling: WorkloadRule = {
  id: 'gang-scheduling',
  summary: 'Multi-Pod accelerator workloads whose Pods must run together go through a gang-capable path (Kueue, Volcano, KAI-Scheduler, coscheduling)',
  fix: 'Add the Kueue queue-name label, or the gang scheduler\'s schedulerName (and its queue or pod-group label)',
  check(w: WorkloadAnalysis): RuleResult {
    const g = w.policy.gang;
    if (g.mode === 'off') return skip('gang admission is off (gang.mode)');
    const j = judge(w);
    if (typeof j === 'string') return skip(j);
    const { gang, on, allowed } = j;
    if (on.some((p) => allowed.includes(p))) return pass();
    const kind = w.kind.split('/')[1] ?? w.kind;
    const where = on.length > 0
      ? `is on ${on.map((p) => PATH_NAMES[p]).join(', ')}, which gang.paths of NamespacePolicy ${w.policy.name} does not list (${allowed.join(', ')})`
      : 'is on no gang-capable path';
    const message = `${kind}${w.meta?.name ? ` ${w.meta.name}` : ''} runs ${gang.count} Pods with accelerators that must run together (${gang.path}: ${gang.detail}) and ${where}: `
      + `the default scheduler places them one by one, so some can hold their accelerators while the others wait (gang.mode ${g.mode} of NamespacePolicy ${w.policy.name})`;
    const path = allowed.includes('kueue') || allowed.includes('kai') ? 'metadata.labels' : `${gang.pods[0]?.target.path ?? 'spec'}.schedulerName`;
    const f: Finding = finding('gang-scheduling', path, message, fixFor(w, gang, allowed));
    return fail([g.mode === 'preferred' ? { ...f, advisory: true } : f]);
  },
};
