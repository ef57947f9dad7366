import type { V1LabelSelector } from '@kubernetes/client-node';
import type { Exemption, GpuPool, NamespacePolicy, PoolTaint } from './types.js';

const NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * The DRA drivers' own DeviceClasses (each also the driver's name): NVIDIA GPUs and MIG slices
 * (dra-driver-nvidia-gpu), AMD GPUs (AMD GPU operator DRA driver), Intel GPUs
 * (intel-gpu-resource-driver chart), Intel Gaudi.
 */
export const DEFAULT_DEVICE_CLASSES: readonly string[] = ['gpu.nvidia.com', 'mig.nvidia.com', 'gpu.amd.com', 'gpu.intel.com', 'gaudi.intel.com'];

/** Shapes as the schema admits them, before defaults. */
export interface GpuPoolDoc {
  metadata: { name: string };
  spec: { nodeLabels: Record<string, string>; taints?: PoolTaint[]; resources: string[]; maxPerPod?: number; cuda?: string };
}

export interface NamespacePolicyDoc {
  metadata: { name: string };
  spec: {
    default?: boolean;
    exempt?: boolean;
    namespaces?: { names?: string[]; selector?: V1LabelSelector };
    mode?: NamespacePolicy['mode'];
    accelerators?: Partial<NamespacePolicy['accelerators']>;
    startupProbe?: { minBudgetSeconds?: number };
    terminationGracePeriodSeconds?: number;
    priority?: { defaultClass?: string; allowedClasses?: string[] };
    requirements?: Partial<NamespacePolicy['requirements']>;
    deviceIsolation?: Partial<NamespacePolicy['deviceIsolation']>;
    rollout?: Partial<NamespacePolicy['rollout']>;
    disruption?: Partial<NamespacePolicy['disruption']>;
    gang?: Partial<Omit<NamespacePolicy['gang'], 'schedulerNames'>> & { schedulerNames?: Partial<NamespacePolicy['gang']['schedulerNames']> };
    cuda?: Partial<NamespacePolicy['cuda']>;
    images?: Partial<NamespacePolicy['images']>;
    costLabels?: Partial<NamespacePolicy['costLabels']>;
    mutations?: Partial<NamespacePolicy['mutations']>;
    exemptions?: Exemption[];
    nodeAgents?: { name: string }[];
    namespaceLabelAdmins?: { users?: string[]; groups?: string[] };
    clusterScope?: NamespacePolicy['clusterScope'];
  };
}

export function toPool(doc: GpuPoolDoc): GpuPool {
  const { spec } = doc;
  return { name: doc.metadata.name, nodeLabels: spec.nodeLabels, taints: spec.taints ?? [], resources: spec.resources, maxPerPod: spec.maxPerPod, ...(spec.cuda !== undefined ? { cuda: spec.cuda } : {}) };
}

/** Applies the documented defaults: enforce, accelerators allowed, every mutation on. */
export function toPolicy(doc: NamespacePolicyDoc, source: string): NamespacePolicy {
  const s = doc.spec;
  const acc = s.accelerators ?? {};
  const m = s.mutations ?? {};
  return {
    name: doc.metadata.name,
    source,
    namespaces: { names: s.namespaces?.names ?? [], selector: s.namespaces?.selector },
    isDefault: s.default ?? false,
    exempt: s.exempt ?? false,
    mode: s.mode ?? 'enforce',
    accelerators: {
      allowed: acc.allowed ?? true,
      pools: acc.pools ?? [],
      resources: acc.resources ?? [],
      maxPerPod: acc.maxPerPod,
      defaultPool: acc.defaultPool,
      deviceClasses: acc.deviceClasses ?? [...DEFAULT_DEVICE_CLASSES],
      assumeClaimsAreAccelerators: acc.assumeClaimsAreAccelerators ?? true,
    },
    startupProbe: { minBudgetSeconds: s.startupProbe?.minBudgetSeconds },
    terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
    priority: { defaultClass: s.priority?.defaultClass, allowedClasses: s.priority?.allowedClasses ?? [] },
    requirements: { memoryLimit: s.requirements?.memoryLimit ?? false, cpuRequest: s.requirements?.cpuRequest ?? false, readinessProbe: s.requirements?.readinessProbe ?? false },
    deviceIsolation: { visibleDevices: s.deviceIsolation?.visibleDevices ?? true, privileged: s.deviceIsolation?.privileged ?? true, hostPaths: s.deviceIsolation?.hostPaths ?? true },
    rollout: {
      progressDeadlineSeconds: s.rollout?.progressDeadlineSeconds,
      marginSeconds: s.rollout?.marginSeconds ?? 300,
      surgeOnly: s.rollout?.surgeOnly ?? 'off',
      recreate: s.rollout?.recreate ?? 'off',
      minReadySeconds: s.rollout?.minReadySeconds,
    },
    disruption: { protect: s.disruption?.protect ?? 'training', budgets: s.disruption?.budgets ?? 'warn' },
    gang: {
      mode: s.gang?.mode ?? 'off',
      paths: s.gang?.paths ?? [],
      defaultQueue: s.gang?.defaultQueue,
      schedulerNames: {
        kueue: [],
        volcano: s.gang?.schedulerNames?.volcano ?? ['volcano'],
        kai: s.gang?.schedulerNames?.kai ?? ['kai-scheduler'],
        coscheduling: s.gang?.schedulerNames?.coscheduling ?? ['scheduler-plugins-scheduler'],
      },
    },
    cuda: { check: s.cuda?.check ?? 'warn', minorVersionCompatibility: s.cuda?.minorVersionCompatibility ?? true },
    images: { unpinned: s.images?.unpinned ?? 'warn', ...(s.images?.pullPolicy ? { pullPolicy: s.images.pullPolicy } : {}) },
    costLabels: { required: s.costLabels?.required ?? [], fromNamespace: s.costLabels?.fromNamespace ?? [] },
    mutations: {
      templates: m.templates ?? false,
      tolerations: m.tolerations ?? true,
      defaultPoolNodeSelector: m.defaultPoolNodeSelector ?? true,
      startupProbe: m.startupProbe ?? true,
      terminationGracePeriod: m.terminationGracePeriod ?? true,
      priorityClass: m.priorityClass ?? true,
      rollout: m.rollout ?? true,
      disruption: m.disruption ?? true,
      gangQueue: m.gangQueue ?? true,
      cudaAffinity: m.cudaAffinity ?? true,
      imagePullPolicy: m.imagePullPolicy ?? true,
      costLabels: m.costLabels ?? true,
    },
    exemptions: s.exemptions ?? [],
    nodeAgents: (s.nodeAgents ?? []).map((a) => a.name),
    ...(s.namespaceLabelAdmins ? { namespaceLabelAdmins: { users: s.namespaceLabelAdmins.users ?? [], groups: s.namespaceLabelAdmins.groups ?? [] } } : {}),
    ...(s.clusterScope ? { clusterScope: s.clusterScope } : {}),
  };
}

/** Cross-document checks the schema cannot express. */
export function crossCheck(pools: GpuPool[], policies: NamespacePolicy[]): string[] {
  const errors: string[] = [];
  const poolNames = new Set(pools.map((p) => p.name));
  const defaults = policies.filter((p) => p.isDefault);
  if (defaults.length > 1) errors.push(`more than one NamespacePolicy has default: true (${defaults.map((p) => `${p.name} in ${p.source}`).join(', ')})`);
  const claimed = new Map<string, string>();
  for (const p of policies) {
    const where = `NamespacePolicy "${p.name}" (${p.source})`;
    for (const ns of p.namespaces.names) {
      const other = claimed.get(ns);
      if (other) errors.push(`${where}: namespace ${ns} is already governed by NamespacePolicy "${other}"`);
      claimed.set(ns, p.name);
    }
    // Whoever may label a namespace could otherwise exempt it: exemption goes by name only.
    const byLabels = p.namespaces.selector && (Object.keys(p.namespaces.selector.matchLabels ?? {}).some((k) => k !== NAME_LABEL)
      || (p.namespaces.selector.matchExpressions ?? []).some((e) => e.key !== NAME_LABEL));
    // A selector that pins no name (`{}`, or only Exists / NotIn on the name label) matches namespaces
    // created later too: an exempt default in effect.
    const sel = p.namespaces.selector;
    const pinsNames = sel !== undefined && (Object.hasOwn(sel.matchLabels ?? {}, NAME_LABEL)
      || (sel.matchExpressions ?? []).some((e) => e.key === NAME_LABEL && e.operator === 'In'));
    if (p.exempt && (byLabels || p.isDefault || (sel !== undefined && !pinsNames))) {
      errors.push(`${where}: spec.exempt: an exempt policy must name its namespaces (spec.namespaces.names or the immutable ${NAME_LABEL} label), not select them by labels a tenant may set, nor be the default`);
    }
    // Anyone who may create a Pod can write an ownerReference: an owner kind proves nothing alone.
    p.exemptions.forEach((e, i) => {
      if (e.ownerKinds !== undefined && e.users === undefined && e.groups === undefined) {
        errors.push(`${where}: spec.exemptions[${i}].ownerKinds: an ownerReference is written by whoever creates the Pod, so ownerKinds alone exempts any tenant; add users or groups naming the controller's identity (e.g. users: [system:serviceaccount:kube-system:job-controller])`);
      }
    });
    if (p.namespaceLabelAdmins && !p.isDefault) errors.push(`${where}: spec.namespaceLabelAdmins: only the default policy (default: true) may set it`);
    if (p.clusterScope && !p.isDefault) errors.push(`${where}: spec.clusterScope: only the default policy (default: true) may set it`);
    if (!p.isDefault && p.namespaces.names.length === 0 && !p.namespaces.selector) {
      errors.push(`${where}: spec.namespaces: names or selector is required unless default: true`);
    }
    for (const name of p.accelerators.pools) {
      if (!poolNames.has(name)) errors.push(`${where}: spec.accelerators.pools: no GpuPool named "${name}"`);
    }
    const dp = p.accelerators.defaultPool;
    if (dp !== undefined) {
      if (!poolNames.has(dp)) errors.push(`${where}: spec.accelerators.defaultPool: no GpuPool named "${dp}"`);
      else if (p.accelerators.pools.length > 0 && !p.accelerators.pools.includes(dp)) {
        errors.push(`${where}: spec.accelerators.defaultPool: "${dp}" is not in spec.accelerators.pools`);
      }
    }
    const { defaultClass, allowedClasses } = p.priority;
    if (defaultClass?.startsWith('system-')) errors.push(`${where}: spec.priority.defaultClass: system-* classes are reserved for cluster components`);
    if (defaultClass && allowedClasses.length > 0 && !allowedClasses.includes(defaultClass)) {
      errors.push(`${where}: spec.priority.defaultClass: "${defaultClass}" is not in spec.priority.allowedClasses`);
    }
  }
  const seen = new Set<string>();
  for (const p of [...pools.map((x) => ({ kind: 'GpuPool', name: x.name })), ...policies.map((x) => ({ kind: 'NamespacePolicy', name: x.name }))]) {
    const key = `${p.kind}/${p.name}`;
    if (seen.has(key)) errors.push(`${p.kind} "${p.name}" is defined more than once`);
    seen.add(key);
  }
  return errors;
}
