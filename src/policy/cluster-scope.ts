import { DEFAULT_DEVICE_CLASSES, toPolicy } from './normalize.js';
import type { EnforcementMode, NamespacePolicy, PolicySet } from './types.js';

/**
 * Cluster-scoped Pod templates (ClusterTrainingRuntime, ClusterServingRuntime,
 * ClusterWorkflowTemplate) belong to no namespace: no namespace's policy can govern them, and the
 * Pods made from them are judged in their own namespace when they are created. They are judged for
 * internal consistency only: accelerator limits, per-Pod quantity against the catalogue, and node
 * selection that can hold and reaches a pool offering the resource.
 */
export const CLUSTER_SCOPE_RULES: readonly string[] = ['accelerator-limits', 'accelerator-quantity', 'node-selection', 'pool-selection'];

/**
 * Warn by default: cluster-scoped templates are installed by platform admins, mostly with an
 * operator's chart, where one denial fails the whole install; their Pods are still enforced.
 */
export const CLUSTER_SCOPE_MODE: EnforcementMode = 'warn';

export const CLUSTER_SCOPE_POLICY = 'cluster-scope';

/** The defaults of the settings a cluster-scoped template is not judged on (their rules are lifted). */
const SETTINGS_OFF = (() => {
  const { rollout, disruption, gang, cuda, images, costLabels, mutations } = toPolicy({ metadata: { name: CLUSTER_SCOPE_POLICY }, spec: {} }, 'built in');
  return { rollout, disruption: { ...disruption, protect: 'none' as const }, gang, cuda, images, costLabels, mutations };
})();

/** The policy that judges cluster-scoped templates, from the default policy's `clusterScope` setting. */
export function clusterScopePolicy(set: PolicySet, ruleIds: readonly string[]): NamespacePolicy {
  const def = set.policies.find((p) => p.isDefault);
  const setting = def?.clusterScope ?? {};
  const rules = new Set(setting.rules ?? CLUSTER_SCOPE_RULES);
  const lifted = ruleIds.filter((id) => !rules.has(id));
  return {
    name: CLUSTER_SCOPE_POLICY,
    source: def ? `${def.source} (spec.clusterScope of ${def.name})` : 'built in',
    namespaces: { names: [] },
    isDefault: false,
    exempt: false,
    mode: setting.mode ?? CLUSTER_SCOPE_MODE,
    accelerators: {
      allowed: true, pools: [], resources: [],
      deviceClasses: def?.accelerators.deviceClasses ?? [...DEFAULT_DEVICE_CLASSES],
      assumeClaimsAreAccelerators: def?.accelerators.assumeClaimsAreAccelerators ?? true,
    },
    startupProbe: {},
    priority: { allowedClasses: [] },
    requirements: { memoryLimit: false, cpuRequest: false, readinessProbe: false },
    deviceIsolation: def?.deviceIsolation ?? { visibleDevices: true, privileged: true, hostPaths: true },
    ...SETTINGS_OFF,
    mutations: Object.fromEntries(Object.keys(SETTINGS_OFF.mutations).map((k) => [k, false])) as unknown as NamespacePolicy['mutations'],
    exemptions: lifted.length > 0 ? [{ rules: lifted }] : [],
    nodeAgents: [],
  };
}
