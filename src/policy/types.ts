import type { V1LabelSelector } from '@kubernetes/client-node';

export const API_VERSION = 'gpu-admission.io/v1alpha1';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface PoolTaint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

/** One GPU node pool of the cluster-wide catalogue. */
export interface GpuPool {
  name: string;
  /** Labels every node of the pool carries; they identify the pool. */
  nodeLabels: Record<string, string>;
  taints: PoolTaint[];
  /** Accelerator resource names the pool's nodes offer (patterns allowed: `nvidia.com/mig-*`). */
  resources: string[];
  maxPerPod?: number;
  /** Highest CUDA version the pool's driver supports (`12.4`), when the catalogue declares it. */
  cuda?: string;
}

export type EnforcementMode = 'enforce' | 'warn' | 'audit';

export interface MutationSwitches {
  /** Also patch Pod templates (Deployments, Jobs, CRDs); off by default to spare GitOps drift. */
  templates: boolean;
  tolerations: boolean;
  defaultPoolNodeSelector: boolean;
  startupProbe: boolean;
  terminationGracePeriod: boolean;
  priorityClass: boolean;
  /** Raise progressDeadlineSeconds, set surge-only rollouts and minReadySeconds on the workload object. */
  rollout: boolean;
  /** Add the node autoscalers' do-not-evict annotations to protected Pods. */
  disruption: boolean;
  /** Set the policy's default gang queue on workloads that are on no gang path. */
  gangQueue: boolean;
  /** Narrow node selection to nodes whose driver supports the CUDA version the workload needs. */
  cudaAffinity: boolean;
  /** Set imagePullPolicy IfNotPresent on pinned images when images.pullPolicy asks for it. */
  imagePullPolicy: boolean;
  /** Copy the listed namespace labels onto the Pods. */
  costLabels: boolean;
}

/** How a finding of an optional check is raised: not at all, as a warning, or by the policy's mode. */
export type CheckLevel = 'off' | 'warn' | 'enforce';

/** The gang-capable paths a namespace may use (rule gang-scheduling). */
export type GangPath = 'kueue' | 'volcano' | 'kai' | 'coscheduling';

export interface RolloutSetting {
  /** Minimum progressDeadlineSeconds of a Deployment: `auto` = the Pods' start-up budget + marginSeconds. */
  progressDeadlineSeconds?: number | 'auto';
  /** Margin added to the start-up budget by `auto` (image pull, scheduling). */
  marginSeconds: number;
  /** Require rolling updates that never take a serving replica down (maxUnavailable: 0). */
  surgeOnly: CheckLevel;
  /** A Deployment with strategy Recreate (every replica down at once). */
  recreate: CheckLevel;
  /** Minimum minReadySeconds. */
  minReadySeconds?: number;
}

export interface DisruptionSetting {
  /** Which accelerator Pods receive the autoscalers' do-not-evict annotations. */
  protect: 'training' | 'all' | 'none';
  /** Audit: a multi-replica accelerator workload without a PodDisruptionBudget in the same input. */
  budgets: CheckLevel;
}

export interface GangSetting {
  mode: 'required' | 'preferred' | 'off';
  /** The paths the namespace may use; empty = any of them. */
  paths: GangPath[];
  /** Kueue LocalQueue the mutation sets on workloads that are on no gang path. */
  defaultQueue?: string;
  /** schedulerName values that are gang-capable (Volcano, KAI-Scheduler, coscheduling builds). */
  schedulerNames: Record<GangPath, string[]>;
}

export interface CudaSetting {
  /** How an unsupported CUDA requirement is raised. */
  check: CheckLevel;
  /** Within one major version, an older driver runs newer minor versions (CUDA minor version compatibility). */
  minorVersionCompatibility: boolean;
}

export interface ImageSetting {
  /** Accelerator containers whose image has no tag or `:latest` (pulled again on every start). */
  unpinned: CheckLevel;
  /** Require this pull policy on accelerator containers whose image is pinned. */
  pullPolicy?: 'IfNotPresent';
}

export interface CostLabelSetting {
  /** Labels every accelerator Pod (or template) must carry. */
  required: string[];
  /** Namespace labels the mutation copies onto accelerator Pods that lack them. */
  fromNamespace: string[];
}

export interface Exemption {
  /** Rule ids (or `*`) this exemption lifts. */
  rules: string[];
  /** Controller kinds (ownerReference with controller: true) whose Pods are exempt. */
  ownerKinds?: string[];
  /** Service accounts (of the Pod's own namespace) whose Pods are exempt. */
  serviceAccounts?: string[];
  /** Requesting users (AdmissionReview userInfo.username) whose requests are exempt. */
  users?: string[];
  /** Requesting groups (userInfo.groups) whose requests are exempt. */
  groups?: string[];
}

/** A NamespacePolicy after defaults have been applied. */
export interface NamespacePolicy {
  name: string;
  source: string;
  namespaces: { names: string[]; selector?: V1LabelSelector };
  isDefault: boolean;
  /** Exempt namespaces are neither validated nor mutated (node agents, operators). */
  exempt: boolean;
  mode: EnforcementMode;
  accelerators: {
    allowed: boolean;
    /** Pool names the namespace may use; empty = every pool. */
    pools: string[];
    /** Accelerator resources the namespace may request; empty = every resource. */
    resources: string[];
    maxPerPod?: number;
    defaultPool?: string;
    /** DRA DeviceClasses that allocate accelerators. */
    deviceClasses: string[];
    /** Without a cluster view to resolve a claim's device class, count resource claims as accelerators. */
    assumeClaimsAreAccelerators: boolean;
  };
  startupProbe: { minBudgetSeconds?: number };
  terminationGracePeriodSeconds?: number;
  priority: {
    defaultClass?: string;
    /** Classes Pods may name; empty = any class that is not `system-*`. */
    allowedClasses: string[];
  };
  requirements: { memoryLimit: boolean; cpuRequest: boolean; readinessProbe: boolean };
  /** GPU device isolation rules (visible-devices, privileged-accelerator, device-hostpath); all on by default. */
  deviceIsolation: { visibleDevices: boolean; privileged: boolean; hostPaths: boolean };
  rollout: RolloutSetting;
  disruption: DisruptionSetting;
  gang: GangSetting;
  cuda: CudaSetting;
  images: ImageSetting;
  costLabels: CostLabelSetting;
  mutations: MutationSwitches;
  exemptions: Exemption[];
  /** DaemonSet names of the namespace that are node agents (may tolerate GPU taints). */
  nodeAgents: string[];
  /** Only on the default policy: who may change the namespace labels policies select on. */
  namespaceLabelAdmins?: { users: string[]; groups: string[] };
  /** Only on the default policy: how cluster-scoped templates are judged (policy/cluster-scope.ts). */
  clusterScope?: ClusterScopeSetting;
}

export interface ClusterScopeSetting {
  mode?: EnforcementMode;
  rules?: string[];
}

/** The one optional AcceleratorConfig document: what counts as an accelerator, cluster-wide. */
export interface AcceleratorConfig {
  name: string;
  /** Added to the built-in vendor list (workload/vendors.ts); globs allowed. */
  resources: string[];
  /** Never accelerators, beside the built-in share/monitoring resources. */
  ignore: string[];
  /** Count unknown resources whose name says gpu / npu / tpu / ... as assumed accelerators. */
  guessByName: boolean;
}

/** Everything loaded from a policy directory. */
export interface PolicySet {
  /** Absent when no AcceleratorConfig document exists: built-in list, heuristic on. */
  accelerators?: AcceleratorConfig;
  pools: GpuPool[];
  poolsByName: Map<string, GpuPool>;
  policies: NamespacePolicy[];
  /** Files the set was read from, for logs and /readyz. */
  files: string[];
}
