import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { Operation } from 'fast-json-patch';
import type { GpuPool, NamespacePolicy } from '../policy/types.js';
import type { AcceleratorAnalysis, AcceleratorMatcher } from '../workload/accelerators.js';
import type { PoolCandidates } from '../scheduling/pools.js';
import type { Requirement, Selection } from '../scheduling/selectors.js';
import type { PodSpecTarget } from '../workload/target.js';
import type { DeviceClassFacts } from '../workload/claims.js';
import type { PodMetaEdit } from './meta-edit.js';
import type { ObjectEdit } from './object-edit.js';

/** One JSON Patch operation, as the engine produces them and the API server applies them. */
export type PatchOperation = Operation;

/** One problem a rule found: where, what, how to fix it. */
export interface Finding {
  ruleId: string;
  /** Field path as kubectl explain spells it, e.g. `spec.containers[0].resources.limits`. */
  path: string;
  message: string;
  fix: string;
  /** Advisory findings never deny, whatever the mode. */
  advisory?: boolean;
}

/** Device classes of a ResourceClaim or ResourceClaimTemplate, when the cluster view knows them. */
export interface ClaimResolver {
  deviceClasses(namespace: string, kind: 'ResourceClaim' | 'ResourceClaimTemplate', name: string): string[] | undefined;
  /**
   * The view has listed every object of this kind (a live watch or `audit --cluster`), so a name it
   * does not have is one not created yet, rather than one it cannot see.
   */
  claimsListed?(kind: 'ResourceClaim' | 'ResourceClaimTemplate'): boolean;
  /** The cluster's DeviceClasses; undefined when unknown (offline, not synced, DRA not served). */
  deviceClassList?(): readonly DeviceClassFacts[] | undefined;
}

/** Everything the cluster-wide configuration says, fixed for one evaluation. */
export interface EngineConfig {
  pools: GpuPool[];
  accelerators: AcceleratorMatcher;
  claims?: ClaimResolver;
  /** What a live cluster view knows; absent offline. */
  cluster?: ClusterFacts;
}

/** A node as the cluster cache knows it. */
export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  allocatable: Record<string, string>;
}

export interface ClusterFacts {
  /** undefined while unknown (not synced yet). */
  priorityClassExists(name: string): boolean | undefined;
  /** undefined while nodes are not synced. */
  nodes(): Iterable<NodeFacts> | undefined;
  /**
   * The cluster's globalDefault PriorityClass. The Priority admission plugin runs before webhooks
   * and writes its name into every Pod that names no class: that name is not the user's choice.
   */
  globalDefaultClass(): string | undefined;
}

export interface RequestUser {
  username?: string;
  groups?: string[];
}

/** What rules and mutators read: computed once per Pod spec. */
export interface PodAnalysis {
  target: PodSpecTarget;
  namespace: string;
  /** Metadata of the object under review (owner references of a Pod live here). */
  objectMeta?: V1ObjectMeta;
  policy: NamespacePolicy;
  config: EngineConfig;
  acc: AcceleratorAnalysis;
  selection: Selection;
  alternatives: Requirement[][];
  candidates: PoolCandidates;
  /** Scheduling gates present: a queue controller will still add selection and tolerations. */
  gated: boolean;
  /** A DaemonSet's Pod (created by the DaemonSet controller) or a DaemonSet's template. */
  daemonSet: boolean;
  /** A DaemonSet (or its controller-created Pod) the policy names in spec.nodeAgents. */
  nodeAgent: boolean;
  /** Who sent the request, when it came from the API server (absent in audits). */
  userInfo?: RequestUser;
  /** `group/Kind` of the object under review (`apps/DaemonSet`). */
  objectKind?: string;
  /**
   * The PriorityClass the user chose: the Pod's priorityClassName, unless it is the cluster's
   * globalDefault class that the Priority admission plugin wrote before webhooks ran.
   */
  chosenPriorityClass?: string;
  /** Labels of the namespace, when known (live view, or Namespace objects of an audit's input). */
  namespaceLabels?: Record<string, string>;
}

/**
 * What one rule concluded about one Pod spec: it holds, it does not apply (and why), or it fails
 * with findings. Skip and pass are distinct so tests can tell "not looked at" from "looked, fine".
 */
export type RuleResult =
  | { status: 'pass' }
  | { status: 'skip'; reason: string }
  | { status: 'fail'; findings: Finding[] };

export interface Rule {
  id: string;
  summary: string;
  /** The usual fix, in one line, for the rules table of the docs. */
  fix: string;
  /** Advisory rules warn and never deny, whatever the mode. */
  advisory?: boolean;
  check(a: PodAnalysis): RuleResult;
}

/** A change a mutator made, for logs, audit annotations and the audit diff. */
export interface MutationNote {
  mutator: string;
  path: string;
  description: string;
}

export interface MutatorResult {
  notes: MutationNote[];
  warnings: Finding[];
}

export interface Mutator {
  id: string;
  /** What it changes, in one line, for the mutations table of the docs. */
  summary: string;
  /** The policy setting that turns it on. */
  setting: string;
  enabled(policy: NamespacePolicy): boolean;
  /**
   * Changes `spec` (a shallow copy: replace what you change) and the Pod's labels and annotations
   * through `meta`; must be idempotent.
   */
  apply(spec: V1PodSpec, a: PodAnalysis, meta: PodMetaEdit): MutatorResult;
}

/**
 * What workload rules and mutators read: the whole object under review (a Deployment, a
 * PyTorchJob, a Pod), with the analyses of every Pod spec it carries. Computed once per review.
 */
export interface WorkloadAnalysis {
  /** `group/Kind` (`apps/Deployment`, `/Pod`). */
  kind: string;
  operation: 'CREATE' | 'UPDATE';
  object: Record<string, unknown>;
  meta?: V1ObjectMeta;
  namespace: string;
  policy: NamespacePolicy;
  config: EngineConfig;
  /** The analyses of the Pod specs the object carries (those that passed the shape check). */
  pods: PodAnalysis[];
  /** Some Pod spec of it requests accelerators. */
  accelerator: boolean;
  namespaceLabels?: Record<string, string>;
  userInfo?: RequestUser;
}

/** A rule on the whole object (rollout fields, gang admission): the same results as a Rule. */
export interface WorkloadRule {
  id: string;
  summary: string;
  fix: string;
  advisory?: boolean;
  check(w: WorkloadAnalysis): RuleResult;
}

/** A mutator of fields of the workload object itself, never of its Pod templates. */
export interface WorkloadMutator {
  id: string;
  summary: string;
  setting: string;
  enabled(policy: NamespacePolicy): boolean;
  /** Sets fields through `edit`; must be idempotent. */
  apply(edit: ObjectEdit, w: WorkloadAnalysis): MutatorResult;
}
