/**
 * From the command's options, the profile's defaults, the GpuPool catalogue and (when reachable)
 * the cluster, the settings a namespace will be onboarded with. Pure: nothing is read or written.
 */
import type { EnforcementMode, GpuPool, PolicySet } from '../policy/types.js';
import {
  PRIORITY_CLASSES, PRODUCTION_CLASS, PROFILES,
  type PoolPreference, type PriorityClassSpec, type Profile, type ProfileName, type ProfileSetting,
} from './profiles.js';

export interface OnboardOptions {
  namespace: string;
  profile: ProfileName;
  pools?: string[];
  defaultPool?: string;
  maxGpusPerPod?: number;
  gpuQuota?: number;
  startupBudgetSeconds?: number;
  graceSeconds?: number;
  priority?: string;
  priorityValue?: number;
  mode?: EnforcementMode;
  labels?: Record<string, string>;
}

export interface ExistingPriorityClass {
  value: number;
  preemptionPolicy?: string;
}

/** What onboarding saw of the cluster; absent when it runs offline. */
export interface ClusterState {
  priorityClasses: Map<string, ExistingPriorityClass>;
  /** The namespace's live labels; undefined when the namespace does not exist yet. */
  namespaceLabels?: Record<string, string>;
}

export interface Plan {
  namespace: string;
  policyName: string;
  profile: Profile;
  /** Pool names as asked for; unknown names are kept for the checks to report. */
  pools: string[];
  /** Why no pool could be chosen, when none was given and the profile's choice is ambiguous. */
  poolChoiceProblem?: string;
  defaultPool?: string;
  maxPerPod: number;
  gpuQuota: number;
  startupBudgetSeconds: number;
  graceSeconds: number;
  mode: EnforcementMode;
  priority: PriorityClassSpec;
  /** Whether the class exists in the cluster (false when unknown: offline). */
  priorityExists: boolean;
  /** The value of the production class the priority is compared with. */
  productionValue: number;
  /** Labels the Namespace object gets. */
  labels: Record<string, string>;
  /** Concrete accelerator resources of the pools: what the ResourceQuota limits. */
  quotaResources: string[];
  /** Resource patterns (`nvidia.com/mig-*`) of the pools, which no quota can name. */
  patternResources: string[];
  /** Settings that came from the profile rather than from a flag. */
  defaulted: Set<ProfileSetting>;
}

/** The label the Namespace carries to say which policy it was onboarded with. */
export const POLICY_LABEL = 'gpu-admission.io/policy';

const SHARED_RESOURCE = /(^|\/)mig-|\.shared$/;

export function isSharedPool(p: GpuPool): boolean {
  return p.resources.some((r) => SHARED_RESOURCE.test(r));
}

function candidates(pools: GpuPool[], preference: PoolPreference): GpuPool[] {
  return pools.filter((p) => (preference === 'shared' ? isSharedPool(p) : !isSharedPool(p)));
}

/** The profile's pools when --pools is absent: only when the catalogue makes the choice unambiguous. */
function choosePools(profile: Profile, catalogue: GpuPool[]): { pools: string[]; problem?: string } {
  if (profile.poolPreference === 'shared') {
    const shared = candidates(catalogue, 'shared');
    if (shared.length > 0) return { pools: shared.map((p) => p.name) };
  }
  const whole = candidates(catalogue, 'whole');
  if (whole.length === 1) return { pools: [(whole[0] as GpuPool).name] };
  const names = (whole.length > 0 ? whole : catalogue).map((p) => p.name);
  return {
    pools: [],
    problem: names.length === 0
      ? 'the catalogue has no GpuPool'
      : `the ${profile.name} profile prefers ${profile.poolPreference === 'shared' ? 'MIG or shared' : 'whole-GPU'} pools and the catalogue has several (${names.join(', ')})`,
  };
}

function resourcesOf(pools: string[], catalogue: Map<string, GpuPool>): { concrete: string[]; patterns: string[] } {
  const all = [...new Set(pools.flatMap((n) => catalogue.get(n)?.resources ?? []))].sort();
  return { concrete: all.filter((r) => !r.includes('*')), patterns: all.filter((r) => r.includes('*')) };
}

function priorityOf(o: OnboardOptions, profile: Profile, cluster?: ClusterState): { spec: PriorityClassSpec; exists: boolean; production: number } {
  const name = o.priority ?? profile.priorityClass;
  const live = cluster?.priorityClasses.get(name);
  const known = PRIORITY_CLASSES[name];
  const fallback = PRIORITY_CLASSES[profile.priorityClass] as PriorityClassSpec;
  const spec: PriorityClassSpec = {
    name,
    value: live?.value ?? o.priorityValue ?? known?.value ?? fallback.value,
    preemptionPolicy: live?.preemptionPolicy === 'Never' || live?.preemptionPolicy === 'PreemptLowerPriority'
      ? live.preemptionPolicy
      : known?.preemptionPolicy ?? fallback.preemptionPolicy,
    description: known?.description ?? `GPU workloads of namespaces onboarded with the ${profile.name} profile.`,
  };
  const production = cluster?.priorityClasses.get(PRODUCTION_CLASS)?.value ?? (PRIORITY_CLASSES[PRODUCTION_CLASS] as PriorityClassSpec).value;
  return { spec, exists: live !== undefined, production };
}

export function resolvePlan(o: OnboardOptions, set: PolicySet, cluster?: ClusterState): Plan {
  const profile = PROFILES[o.profile];
  const defaulted = new Set<ProfileSetting>();
  const pick = <T>(value: T | undefined, fallback: T, setting: ProfileSetting): T => {
    if (value !== undefined) return value;
    defaulted.add(setting);
    return fallback;
  };
  const chosen = o.pools && o.pools.length > 0 ? { pools: o.pools } : choosePools(profile, set.pools);
  if (!o.pools || o.pools.length === 0) defaulted.add('pools');
  const resources = resourcesOf(chosen.pools, set.poolsByName);
  const priority = priorityOf(o, profile, cluster);
  if (o.priority === undefined) defaulted.add('priority');
  defaulted.add('requirements');
  defaulted.add('limitRange');
  for (const setting of ['rollout', 'disruption', 'gang'] as const) defaulted.add(setting);
  return {
    namespace: o.namespace,
    policyName: o.namespace,
    profile,
    pools: chosen.pools,
    poolChoiceProblem: 'problem' in chosen ? chosen.problem : undefined,
    defaultPool: o.defaultPool ?? chosen.pools[0],
    maxPerPod: pick(o.maxGpusPerPod, profile.maxPerPod, 'maxPerPod'),
    gpuQuota: pick(o.gpuQuota, profile.gpuQuota, 'gpuQuota'),
    startupBudgetSeconds: pick(o.startupBudgetSeconds, profile.startupBudgetSeconds, 'startupBudget'),
    graceSeconds: pick(o.graceSeconds, profile.graceSeconds, 'grace'),
    mode: pick(o.mode, profile.mode, 'mode'),
    priority: priority.spec,
    priorityExists: priority.exists,
    productionValue: priority.production,
    labels: { ...(o.labels ?? {}), [POLICY_LABEL]: o.namespace },
    quotaResources: resources.concrete,
    patternResources: resources.patterns,
    defaulted,
  };
}
