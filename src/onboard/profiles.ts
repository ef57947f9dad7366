/**
 * Onboarding profiles: the defaults `gpu-admission onboard` gives a namespace, each with the reason
 * it has that value. The reasons are printed into the generated policy file, so a reviewer sees why.
 */
import type { CheckLevel, DisruptionSetting, EnforcementMode, GangSetting } from '../policy/types.js';

export const PROFILE_NAMES = ['inference', 'training', 'batch', 'notebook'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export type PreemptionPolicy = 'PreemptLowerPriority' | 'Never';

/** A PriorityClass onboarding may create when the cluster lacks it. */
export interface PriorityClassSpec {
  name: string;
  value: number;
  preemptionPolicy: PreemptionPolicy;
  description: string;
}

/**
 * The class of production model serving. No onboarded namespace may get a class above it: that
 * would let a team preempt production inference.
 */
export const PRODUCTION_CLASS = 'inference-critical';

/** The catalogue of classes the profiles refer to, highest first. */
export const PRIORITY_CLASSES: Readonly<Record<string, PriorityClassSpec>> = {
  'inference-critical': {
    name: 'inference-critical', value: 1_000_000, preemptionPolicy: 'PreemptLowerPriority',
    description: 'Production model serving: may preempt training, batch and notebook Pods to get GPUs.',
  },
  'training-preemptible': {
    name: 'training-preemptible', value: 10_000, preemptionPolicy: 'Never',
    description: 'Training: preempted by serving (it checkpoints within its grace period); waits for free GPUs instead of evicting peers.',
  },
  'batch-inference': {
    name: 'batch-inference', value: 1_000, preemptionPolicy: 'Never',
    description: 'Batch inference: fills idle GPUs; restartable per batch, so it yields to serving and training.',
  },
  'notebook-interactive': {
    name: 'notebook-interactive', value: 100, preemptionPolicy: 'Never',
    description: 'Notebooks: lowest GPU priority; an idle notebook is the first to give its GPU back.',
  },
};

export type PoolPreference = 'whole' | 'shared';

/** Container defaults a LimitRange gives, for profiles whose workloads are often created without resources. */
export interface ContainerDefaults {
  defaultRequest: Record<string, string>;
}

/**
 * Workload-level settings a profile turns on (written into the policy; absent = the defaults of
 * src/policy/normalize.ts: rollout checks off, disruption protection of training Pods, gang off).
 */
export interface ProfileWorkload {
  rollout?: { progressDeadlineSeconds: 'auto' | number; surgeOnly: CheckLevel; recreate: CheckLevel };
  disruption?: Pick<DisruptionSetting, 'protect'>;
  gang?: Pick<GangSetting, 'mode'>;
}

export interface Profile {
  name: ProfileName;
  summary: string;
  mode: EnforcementMode;
  /** Which pools of the catalogue the profile picks when --pools is not given (only when unambiguous). */
  poolPreference: PoolPreference;
  maxPerPod: number;
  /** Accelerators the namespace may hold at once, per resource (ResourceQuota requests.<resource>). */
  gpuQuota: number;
  startupBudgetSeconds: number;
  graceSeconds: number;
  priorityClass: string;
  requirements: { memoryLimit: boolean; cpuRequest: boolean; readinessProbe: boolean };
  /** A ResourceQuota scoped to the priority class: the namespace's permit to use a preempting class. */
  priorityQuota: boolean;
  limitRange?: ContainerDefaults;
  workload: ProfileWorkload;
  /** Why each default is what it is, keyed by setting. */
  why: Readonly<Record<ProfileSetting, string>>;
}

export type ProfileSetting = 'mode' | 'pools' | 'maxPerPod' | 'gpuQuota' | 'startupBudget' | 'grace' | 'priority' | 'requirements' | 'limitRange' | 'rollout' | 'disruption' | 'gang';

const DEFAULT_DISRUPTION = 'accelerator Pods of training workloads get the autoscalers\' do-not-evict annotations; this namespace runs none';
const DEFAULT_GANG = 'its workloads are single-Pod or tolerate partial starts';

const NEW_NAMESPACE_MODE = 'a new namespace has no running workloads to migrate, so rules are enforced from the first Pod (use --mode warn for a namespace that already runs workloads)';

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  inference: {
    name: 'inference',
    summary: 'real-time model serving',
    mode: 'enforce', poolPreference: 'whole', maxPerPod: 8, gpuQuota: 16,
    startupBudgetSeconds: 900, graceSeconds: 120, priorityClass: 'inference-critical',
    requirements: { memoryLimit: true, cpuRequest: true, readinessProbe: true }, priorityQuota: true,
    workload: { rollout: { progressDeadlineSeconds: 'auto', surgeOnly: 'enforce', recreate: 'warn' } },
    why: {
      mode: NEW_NAMESPACE_MODE,
      pools: 'model servers use whole GPUs: tensor parallelism and predictable latency need dedicated devices',
      maxPerPod: 'one node of 8 GPUs, enough for tensor-parallel serving of a large model',
      gpuQuota: 'room for a few replicas with headroom for a rolling update; size it to the team\'s share',
      startupBudget: 'downloading weights and loading them onto the GPU takes minutes; a liveness probe must not kill the server meanwhile',
      grace: 'readiness turns false first, then in-flight requests (long generations) get two minutes to finish',
      priority: 'serving is production: it may preempt training, batch and notebooks, and nothing onboarded may preempt it',
      requirements: 'a model server without a memory limit is OOM-killed unpredictably, one without a CPU request is throttled under load, and one without a readiness probe takes traffic before its weights are loaded',
      limitRange: 'none: the policy requires explicit memory limits and CPU requests, and LimitRange defaults would satisfy that silently',
      rollout: 'a rollout must not be marked failed while a new replica still loads its model (progressDeadlineSeconds auto: start-up budget + margin), must not drop serving capacity while it does (surge only: maxUnavailable 0), and Recreate takes every replica down at once (warned)',
      disruption: 'serving replicas are not pinned to their nodes (a PodDisruptionBudget protects them, see audit rule disruption-budget)',
      gang: DEFAULT_GANG,
    },
  },
  training: {
    name: 'training',
    summary: 'training and fine-tuning Jobs',
    mode: 'enforce', poolPreference: 'whole', maxPerPod: 8, gpuQuota: 32,
    startupBudgetSeconds: 600, graceSeconds: 600, priorityClass: 'training-preemptible',
    requirements: { memoryLimit: true, cpuRequest: false, readinessProbe: false }, priorityQuota: false,
    workload: { disruption: { protect: 'training' }, gang: { mode: 'preferred' } },
    why: {
      mode: NEW_NAMESPACE_MODE,
      pools: 'distributed training wants whole GPUs with NVLink; MIG slices are too small',
      maxPerPod: 'one Pod per node with all 8 GPUs, as PyTorchJob, JobSet and Kueue workloads are laid out',
      gpuQuota: 'a few multi-node Jobs at once; size it to the team\'s share',
      startupBudget: 'image pull, dataset mount and NCCL initialisation before the first step',
      grace: 'on preemption or eviction the job writes a checkpoint of a large model: ten minutes',
      priority: 'preemptible: serving may evict it (it checkpoints), and it waits in the queue rather than evicting other teams\' jobs',
      requirements: 'a training process without a memory limit can take the node\'s memory from its neighbours; Job workloads carry no readiness probes, so none is expected',
      limitRange: 'none: the policy requires explicit memory limits',
      rollout: 'Jobs run to completion: they do not roll out',
      disruption: 'one eviction by a node autoscaler consolidating nodes destroys hours of a multi-worker run: its accelerator Pods get Karpenter\'s do-not-disrupt and Cluster Autoscaler\'s safe-to-evict "false"',
      gang: 'eight workers of which four start hold their GPUs while the rest wait; a gang path (Kueue, Volcano, KAI-Scheduler, coscheduling) admits them together. Warned, not denied, until the namespace\'s path is set up (then gang.mode required)',
    },
  },
  batch: {
    name: 'batch',
    summary: 'batch (offline) inference',
    mode: 'enforce', poolPreference: 'whole', maxPerPod: 4, gpuQuota: 16,
    startupBudgetSeconds: 600, graceSeconds: 300, priorityClass: 'batch-inference',
    requirements: { memoryLimit: true, cpuRequest: false, readinessProbe: false }, priorityQuota: false,
    workload: {},
    why: {
      mode: NEW_NAMESPACE_MODE,
      pools: 'throughput jobs use whole GPUs; cheaper pools are a good choice here (--pools)',
      maxPerPod: 'a batch worker rarely needs more than 4 GPUs; more, smaller workers use capacity better',
      gpuQuota: 'batch work expands to fill what it gets: the quota is what keeps it from starving others',
      startupBudget: 'model load before the first batch',
      grace: 'finish the current batch and flush its results',
      priority: 'fills idle GPUs and never preempts: serving and training come first',
      requirements: 'a memory limit keeps a runaway worker from taking the node\'s memory',
      limitRange: 'none: the policy requires explicit memory limits',
      rollout: 'batch jobs do not serve traffic during a rollout',
      disruption: 'batch Jobs are training-role workloads, so their accelerator Pods are protected from consolidation; restartable work may set safe-to-evict "true" itself',
      gang: DEFAULT_GANG,
    },
  },
  notebook: {
    name: 'notebook',
    summary: 'interactive notebooks',
    mode: 'enforce', poolPreference: 'shared', maxPerPod: 1, gpuQuota: 4,
    startupBudgetSeconds: 300, graceSeconds: 60, priorityClass: 'notebook-interactive',
    requirements: { memoryLimit: false, cpuRequest: false, readinessProbe: false }, priorityQuota: false,
    limitRange: { defaultRequest: { cpu: '500m', memory: '2Gi' } },
    workload: {},
    why: {
      mode: NEW_NAMESPACE_MODE,
      pools: 'a notebook is idle most of the time: MIG slices or shared GPUs are preferred when the catalogue has them',
      maxPerPod: 'one device (or one MIG slice) per notebook: experiments that need more belong in a training Job',
      gpuQuota: 'a handful of concurrent notebooks per namespace',
      startupBudget: 'notebook images are large; five minutes to pull and start',
      grace: 'enough for the kernel to save; notebooks autosave',
      priority: 'lowest: notebooks give way to every other GPU workload',
      requirements: 'none: notebook UIs often create Pods without resources, the LimitRange gives them defaults instead',
      limitRange: 'notebook servers created without resources get a CPU and memory request instead of running BestEffort and being evicted first; no default limit, which would break a container that requests more than it',
      rollout: 'a notebook is one Pod, usually a StatefulSet of one',
      disruption: DEFAULT_DISRUPTION,
      gang: DEFAULT_GANG,
    },
  },
};

export function isProfileName(v: string): v is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(v);
}
