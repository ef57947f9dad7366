/**
 * gang-scheduling: multi-Pod accelerator workloads must be on a gang-capable path the policy
 * lists. Allow / deny rows go through the real Engine; skip rows also check the rule's reason on
 * the workload analysis the engine would build.
 */
import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/engine/analyse.js';
import type { EngineRequest } from '../../src/engine/engine.js';
import type { WorkloadAnalysis } from '../../src/engine/types.js';
import type { NamespacePolicyDoc } from '../../src/policy/normalize.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { gangScheduling } from '../../src/rules/gang-scheduling.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { config, cpuContainer, engine, gpuContainer, policy } from '../support/fixtures.js';
import { expectPass, expectSkip } from './helpers.js';

type Json = Record<string, unknown>;
type Gang = NonNullable<NamespacePolicyDoc['spec']>['gang'];

const gangPolicy = (gang: Gang = { mode: 'required' }, extra: NamespacePolicyDoc['spec'] = {}): NamespacePolicy => policy({ ...extra, gang });
const KUEUE = { 'kueue.x-k8s.io/queue-name': 'team-queue' };

interface TemplateOpts { scheduler?: string; labels?: Record<string, string>; gates?: string[]; container?: V1Container }
const template = (o: TemplateOpts = {}): Json => ({
  ...(o.labels ? { metadata: { labels: o.labels } } : {}),
  spec: {
    ...(o.scheduler ? { schedulerName: o.scheduler } : {}),
    ...(o.gates ? { schedulingGates: o.gates.map((name) => ({ name })) } : {}),
    containers: [o.container ?? gpuContainer()],
  },
});
const cpuTemplate = (o: TemplateOpts = {}): Json => template({ ...o, container: cpuContainer() });

const obj = (apiVersion: string, kind: string, spec: Json, labels?: Record<string, string>, meta: Json = {}): Json =>
  ({ apiVersion, kind, metadata: { name: 'job', namespace: 'team', ...(labels ? { labels } : {}), ...meta }, spec });

const pytorch = (workers: number, t: TemplateOpts = {}, labels?: Record<string, string>): Json => obj('kubeflow.org/v1', 'PyTorchJob', {
  pytorchReplicaSpecs: { Master: { replicas: 1, template: template(t) }, Worker: { replicas: workers, template: template(t) } },
}, labels);
const replicaJob = (kind: string, field: string, types: Record<string, number | undefined>, t: TemplateOpts = {}, labels?: Record<string, string>): Json => obj(`kubeflow.org/${kind === 'MPIJob' ? 'v2beta1' : 'v1'}`, kind, {
  [field]: Object.fromEntries(Object.entries(types).map(([k, n]) => [k, { ...(n === undefined ? {} : { replicas: n }), template: template(t) }])),
}, labels);
const indexedJob = (parallelism: number, completionMode = 'Indexed', t: TemplateOpts = {}, labels?: Record<string, string>, completions = parallelism): Json =>
  obj('batch/v1', 'Job', { completionMode, parallelism, completions, template: template(t) }, labels);
const jobSet = (rjs: { replicas?: number; parallelism?: number; completions?: number }[], t: TemplateOpts = {}, labels?: Record<string, string>): Json => obj('jobset.x-k8s.io/v1alpha2', 'JobSet', {
  replicatedJobs: rjs.map((r, i) => ({ name: `rj${i}`, ...(r.replicas !== undefined ? { replicas: r.replicas } : {}), template: { spec: { ...(r.parallelism !== undefined ? { parallelism: r.parallelism } : {}), ...(r.completions !== undefined ? { completions: r.completions } : {}), template: template(t) } } })),
}, labels);
const trainJob = (numNodes: number | undefined, labels?: Record<string, string>): Json => obj('trainer.kubeflow.org/v1alpha1', 'TrainJob', {
  runtimeRef: { name: 'torch-distributed' }, trainer: { ...(numNodes !== undefined ? { numNodes } : {}), image: 'ghcr.io/example/trainer:1.0', resourcesPerNode: { limits: { 'nvidia.com/gpu': '8' } } },
}, labels);
const rayCluster = (workers: { replicas?: number; minReplicas?: number; numOfHosts?: number; gpu?: boolean }[], gpuHead = false, t: TemplateOpts = {}, labels?: Record<string, string>): Json => obj('ray.io/v1', 'RayCluster', rayClusterSpec(workers, gpuHead, t), labels);
const rayClusterSpec = (workers: { replicas?: number; minReplicas?: number; numOfHosts?: number; gpu?: boolean }[], gpuHead = false, t: TemplateOpts = {}): Json => ({
  headGroupSpec: { template: gpuHead ? template(t) : cpuTemplate(t) },
  workerGroupSpecs: workers.map((w, i) => ({ groupName: `g${i}`, ...(w.replicas !== undefined ? { replicas: w.replicas } : {}), ...(w.minReplicas !== undefined ? { minReplicas: w.minReplicas } : {}), ...(w.numOfHosts !== undefined ? { numOfHosts: w.numOfHosts } : {}), template: w.gpu === false ? cpuTemplate(t) : template(t) })),
});
const lws = (size: number, t: TemplateOpts = {}, labels?: Record<string, string>): Json => obj('leaderworkerset.x-k8s.io/v1', 'LeaderWorkerSet', {
  replicas: 2, leaderWorkerTemplate: { size, workerTemplate: template(t) },
}, labels);
const volcanoJob = (): Json => obj('batch.volcano.sh/v1alpha1', 'Job', { minAvailable: 2, schedulerName: 'volcano', tasks: [{ name: 'worker', replicas: 2, template: template() }] });

const kindOf = (o: Json): { group: string; kind: string } => {
  const av = String(o['apiVersion']);
  return { group: av.includes('/') ? av.split('/')[0] as string : '', kind: String(o['kind']) };
};
const request = (o: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: Json): EngineRequest =>
  ({ kind: kindOf(o), operation, namespace: 'team', name: 'job', object: o, ...(oldObject ? { oldObject } : {}) });

const gangFindings = (o: Json, pol: NamespacePolicy = gangPolicy()) => {
  const v = engine([pol]).validate(request(o));
  return { denials: v.denials.filter((f) => f.ruleId === 'gang-scheduling'), warnings: v.warnings.filter((f) => f.ruleId === 'gang-scheduling') };
};

/** The workload analysis the engine builds (engine.ts prepare), for the rule's skip reasons. */
function workloadOf(o: Json, pol: NamespacePolicy = gangPolicy()): WorkloadAnalysis {
  const gk = kindOf(o);
  const meta = (o as { metadata?: WorkloadAnalysis['meta'] }).metadata;
  const pods = findPodSpecs(gk, o).map((target) => analyse({ target, namespace: 'team', objectMeta: meta, policy: pol, config: config(), objectKind: `${gk.group}/${gk.kind}` }));
  return { kind: `${gk.group}/${gk.kind}`, operation: 'CREATE', object: o, meta, namespace: 'team', policy: pol, config: config(), pods, accelerator: pods.some((a) => a.acc.isAcceleratorPod) };
}

const rayJob = (labels?: Record<string, string>): Json => obj('ray.io/v1', 'RayJob', { entrypoint: 'python train.py', rayClusterSpec: rayClusterSpec([{ replicas: 2 }]) }, labels);
const rayService = (labels?: Record<string, string>): Json => obj('ray.io/v1', 'RayService', { rayClusterConfig: rayClusterSpec([{ replicas: 1, numOfHosts: 2 }]) }, labels);

// Every gang kind, off every path: denied under gang.mode required.
const DENIED: [string, () => Json, string, string][] = [
  ['a PyTorchJob with a master and 2 workers', () => pytorch(2), 'spec.pytorchReplicaSpecs', 'Master 1 + Worker 2'],
  ['a TFJob with 2 workers', () => replicaJob('TFJob', 'tfReplicaSpecs', { Worker: 2 }), 'spec.tfReplicaSpecs', 'Worker 2'],
  ['an MPIJob (launcher + 2 workers)', () => replicaJob('MPIJob', 'mpiReplicaSpecs', { Launcher: 1, Worker: 2 }), 'spec.mpiReplicaSpecs', 'Launcher 1 + Worker 2'],
  ['an XGBoostJob', () => replicaJob('XGBoostJob', 'xgbReplicaSpecs', { Master: 1, Worker: 1 }), 'spec.xgbReplicaSpecs', 'Master 1 + Worker 1'],
  ['a PaddleJob, replicas defaulted to 1 each', () => replicaJob('PaddleJob', 'paddleReplicaSpecs', { Master: undefined, Worker: undefined }), 'spec.paddleReplicaSpecs', 'Master 1 + Worker 1'],
  ['a JAXJob', () => replicaJob('JAXJob', 'jaxReplicaSpecs', { Worker: 4 }), 'spec.jaxReplicaSpecs', 'Worker 4'],
  ['a TrainJob with numNodes 2', () => trainJob(2), 'spec.trainer.numNodes', 'numNodes 2'],
  ['a JobSet of 2 x min(parallelism 4, completions 4)', () => jobSet([{ replicas: 2, parallelism: 4, completions: 4 }]), 'spec.replicatedJobs', 'rj0 8'],
  ['a JobSet where completions 1 < parallelism but 2 replicas', () => jobSet([{ replicas: 2, parallelism: 4, completions: 1 }]), 'spec.replicatedJobs', 'rj0 2'],
  ['a RayCluster with a GPU worker group of 2', () => rayCluster([{ replicas: 2 }]), 'spec.workerGroupSpecs', 'g0 2'],
  ['a RayCluster with minReplicas 2 (replicas 0)', () => rayCluster([{ replicas: 0, minReplicas: 2 }]), 'spec.workerGroupSpecs', 'g0 2'],
  ['a RayCluster with a GPU head and one GPU worker', () => rayCluster([{ replicas: 1 }], true), 'spec.workerGroupSpecs', 'head 1 + g0 1'],
  ['a RayJob cluster spec', () => rayJob(), 'spec.rayClusterSpec.workerGroupSpecs', 'g0 2'],
  ['a RayService multi-host group', () => rayService(), 'spec.rayClusterConfig.workerGroupSpecs', 'g0 1 x 2 hosts'],
  ['a LeaderWorkerSet of size 4', () => lws(4), 'spec.leaderWorkerTemplate.size', 'size 4'],
  ['an Indexed Job with parallelism 4', () => indexedJob(4), 'spec.parallelism', 'Indexed, parallelism 4'],
];

describe('gang-scheduling', () => {
  it.each(DENIED)('denies %s on no gang path (required)', (_n, make, path, detail) => {
    const { denials } = gangFindings(make());
    expect(denials).toHaveLength(1);
    const f = denials[0];
    expect(f?.path).toBe('metadata.labels');
    expect(f?.message).toContain(`(${path}: ${detail}`);
    expect(f?.message).toContain('is on no gang-capable path');
    expect(f?.message).toContain('gang.mode required of NamespacePolicy team-policy');
    expect(f?.fix).toContain('add the label kueue.x-k8s.io/queue-name: <LocalQueue> to metadata.labels');
    expect(f?.fix).toContain('LocalQueueDefaulting');
    expect(f?.fix).toContain('spec.schedulerName: volcano');
  });

  it.each(DENIED)('allows %s with the Kueue queue-name label', (_n, make) => {
    const o = make();
    (o['metadata'] as Json)['labels'] = { ...KUEUE };
    expect(gangFindings(o).denials).toEqual([]);
  });

  it('warns instead of denying under gang.mode preferred', () => {
    const r = gangFindings(pytorch(2), gangPolicy({ mode: 'preferred' }));
    expect(r.denials).toEqual([]);
    expect(r.warnings.map((f) => [f.path, f.advisory])).toEqual([['metadata.labels', true]]);
  });

  it('names the policy\'s default queue and only the paths the policy lists', () => {
    const [f] = gangFindings(pytorch(2), gangPolicy({ mode: 'required', paths: ['kueue'], defaultQueue: 'gpu-batch' })).denials;
    expect(f?.fix).toBe('add the label kueue.x-k8s.io/queue-name: gpu-batch to metadata.labels (Kueue admits the whole workload at once)');
    const [v] = gangFindings(pytorch(2), gangPolicy({ mode: 'required', paths: ['volcano', 'coscheduling'] })).denials;
    expect(v?.path).toBe('spec.pytorchReplicaSpecs.Master.template.spec.schedulerName');
    expect(v?.fix).toContain('set spec.schedulerName: volcano on every accelerator Pod template (the training or MPI operator creates the PodGroup');
    expect(v?.fix).toContain('; or set spec.schedulerName: scheduler-plugins-scheduler on every accelerator Pod template (the training or MPI operator adds the scheduling.x-k8s.io/pod-group label');
    expect(v?.fix).not.toContain('kueue');
  });

  describe('paths', () => {
    it.each<[string, () => Json, Gang?]>([
      ['Kueue: queue-name label on the workload', () => pytorch(2, {}, KUEUE)],
      ['Kueue: every accelerator template gated by Kueue (admission gate)', () => indexedJob(4, 'Indexed', { gates: ['kueue.x-k8s.io/admission'] })],
      ['Kueue: the topology gate', () => lws(4, { gates: ['kueue.x-k8s.io/topology'] })],
      ['Volcano: schedulerName volcano on a PyTorchJob (the operator creates the PodGroup)', () => pytorch(2, { scheduler: 'volcano' })],
      ['Volcano: schedulerName volcano on a JobSet', () => jobSet([{ replicas: 2 }], { scheduler: 'volcano' })],
      ['Volcano: a batch.volcano.sh Job is a gang by itself', volcanoJob],
      ['Volcano: a schedulerName the policy names', () => pytorch(2, { scheduler: 'volcano-gpu' }), { mode: 'required', schedulerNames: { volcano: ['volcano-gpu'] } }],
      ['KAI-Scheduler: schedulerName and queue label', () => pytorch(2, { scheduler: 'kai-scheduler' }, { 'kai.scheduler/queue': 'team-a' })],
      ['KAI-Scheduler on a RayCluster', () => rayCluster([{ replicas: 2 }], false, { scheduler: 'kai-scheduler' }, { 'kai.scheduler/queue': 'team-a' })],
      ['coscheduling: pod-group label and schedulerName', () => jobSet([{ replicas: 2 }], { scheduler: 'scheduler-plugins-scheduler', labels: { 'scheduling.x-k8s.io/pod-group': 'pg' } })],
      ['coscheduling: the legacy pod-group label', () => lws(2, { scheduler: 'scheduler-plugins-scheduler', labels: { 'pod-group.scheduling.sigs.k8s.io': 'pg' } })],
      ['coscheduling: a Kubeflow job (the operator adds the label)', () => pytorch(2, { scheduler: 'scheduler-plugins-scheduler' })],
      ['any path when gang.paths lists it', () => pytorch(2, { scheduler: 'volcano' }), { mode: 'required', paths: ['volcano'] }],
    ])('allows %s', (_n, make, gang) => {
      expect(gangFindings(make(), gangPolicy(gang)).denials).toEqual([]);
      expectPass(gangScheduling.check(workloadOf(make(), gangPolicy(gang))));
    });

    it.each<[string, () => Json, string, Gang?]>([
      ['KAI schedulerName without the queue label', () => pytorch(2, { scheduler: 'kai-scheduler' }), 'is on no gang-capable path'],
      ['a kai queue label without the KAI schedulerName', () => pytorch(2, {}, { 'kai.scheduler/queue': 'a' }), 'is on no gang-capable path'],
      ['coscheduling schedulerName on a JobSet without the pod-group label', () => jobSet([{ replicas: 2 }], { scheduler: 'scheduler-plugins-scheduler' }), 'is on no gang-capable path'],
      ['a pod-group label with the default scheduler', () => jobSet([{ replicas: 2 }], { labels: { 'scheduling.x-k8s.io/pod-group': 'pg' } }), 'is on no gang-capable path'],
      ['an empty queue-name label', () => pytorch(2, {}, { 'kueue.x-k8s.io/queue-name': '' }), 'is on no gang-capable path'],
      ['a scheduling gate of another controller', () => indexedJob(4, 'Indexed', { gates: ['example.com/wait'] }), 'is on no gang-capable path'],
      ['Volcano where the policy lists only Kueue', () => pytorch(2, { scheduler: 'volcano' }), 'is on Volcano, which gang.paths of NamespacePolicy team-policy does not list (kueue)', { mode: 'required', paths: ['kueue'] }],
      ['a Volcano Job where the policy lists only Kueue', volcanoJob, 'is on Volcano, which gang.paths', { mode: 'required', paths: ['kueue'] }],
      ['a Kueue label where the policy lists only KAI', () => pytorch(2, {}, KUEUE), 'is on Kueue, which gang.paths', { mode: 'required', paths: ['kai'] }],
    ])('denies %s', (_n, make, message, gang) => {
      const { denials } = gangFindings(make(), gangPolicy(gang));
      expect(denials).toHaveLength(1);
      expect(denials[0]?.message).toContain(message);
    });
  });

  describe('skips', () => {
    // Each skip row with its twin that fails: the guard is what keeps it out.
    it.each<[string, () => Json, () => Json, string, Gang?]>([
      ['gang.mode off (the default)', () => pytorch(2), () => pytorch(2), 'gang admission is off', { mode: 'off' }],
      ['a single-worker PyTorchJob', () => replicaJob('PyTorchJob', 'pytorchReplicaSpecs', { Master: 1 }), () => replicaJob('PyTorchJob', 'pytorchReplicaSpecs', { Master: 1, Worker: 1 }), 'no more than one Pod'],
      ['a CPU-only PyTorchJob', () => replicaJob('PyTorchJob', 'pytorchReplicaSpecs', { Worker: 4 }, { container: cpuContainer() }), () => replicaJob('PyTorchJob', 'pytorchReplicaSpecs', { Worker: 4 }), 'no Pod spec requests accelerators'],
      ['a NonIndexed Job', () => indexedJob(4, 'NonIndexed'), () => indexedJob(4), 'not an Indexed Job'],
      ['an Indexed Job with parallelism 1', () => indexedJob(1), () => indexedJob(2), 'no more than one Pod'],
      ['an Indexed Job with completions 1', () => indexedJob(4, 'Indexed', {}, undefined, 1), () => indexedJob(4, 'Indexed', {}, undefined, 2), 'no more than one Pod'],
      ['a JobSet of one Pod', () => jobSet([{ replicas: 1 }]), () => jobSet([{ replicas: 2 }]), 'no more than one Pod'],
      ['a TrainJob with numNodes 1', () => trainJob(1), () => trainJob(2), 'no more than one Pod'],
      ['a TrainJob whose runtime decides numNodes', () => trainJob(undefined), () => trainJob(2), 'the runtime decides'],
      ['a RayCluster whose GPU group has 1 replica (CPU head)', () => rayCluster([{ replicas: 1 }]), () => rayCluster([{ replicas: 1 }], true), 'no more than one Pod'],
      ['a RayCluster whose many workers are CPU only', () => rayCluster([{ replicas: 1 }, { replicas: 8, gpu: false }]), () => rayCluster([{ replicas: 2 }, { replicas: 8, gpu: false }]), 'no more than one Pod'],
      ['a LeaderWorkerSet of size 1', () => lws(1), () => lws(2), 'no more than one Pod'],
      ['a Deployment (replicas are interchangeable)', () => obj('apps/v1', 'Deployment', { replicas: 4, template: template() }), () => indexedJob(4), 'does not run Pods that must start together'],
      ['a bare Pod (judged through its workload)', () => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team' }, spec: { containers: [gpuContainer()] } }), () => indexedJob(2), 'a Pod is judged through its workload'],
      ['a Job its JobSet created (the JobSet is judged)', () => obj('batch/v1', 'Job', { completionMode: 'Indexed', parallelism: 4, completions: 4, template: template() }, undefined, { ownerReferences: [{ apiVersion: 'jobset.x-k8s.io/v1alpha2', kind: 'JobSet', name: 'js', uid: 'u', controller: true }] }), () => indexedJob(4), 'created by its controller JobSet js'],
    ])('skips %s', (_n, skipped, twin, reason, gang) => {
      const pol = gangPolicy(gang);
      expectSkip(gangScheduling.check(workloadOf(skipped(), pol)), reason);
      expect(gangFindings(skipped(), pol).denials).toEqual([]);
      expect(gangFindings(twin(), gang?.mode === 'off' ? gangPolicy() : pol).denials).toHaveLength(1);
    });
  });

  it('an UPDATE counts only a finding the old object did not have', () => {
    const e = engine([gangPolicy()]);
    const old = pytorch(2);
    const scaled = pytorch(4);
    expect(e.validate(request(scaled, 'UPDATE', old)).denials.filter((f) => f.ruleId === 'gang-scheduling')).toHaveLength(1);
    // The same finding as before (nothing about the gang changed): not counted again.
    const relabelled = pytorch(2, {}, { team: 'a' });
    expect(e.validate(request(relabelled, 'UPDATE', old)).denials.filter((f) => f.ruleId === 'gang-scheduling')).toEqual([]);
  });

  it('a namespace exemption of the rule lifts it', () => {
    const pol = gangPolicy({ mode: 'required' }, { exemptions: [{ rules: ['gang-scheduling'] }] });
    expect(gangFindings(pytorch(2), pol).denials).toEqual([]);
  });
});
