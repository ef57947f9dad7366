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
