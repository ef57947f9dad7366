import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { NamespacePolicy } from '../policy/types.js';
import { candidatePools } from '../scheduling/pools.js';
import { alternatives, selectionOf } from '../scheduling/selectors.js';
import { analyseAccelerators } from '../workload/accelerators.js';
import { draAccelerators } from '../workload/claims.js';
import type { EngineConfig, PodAnalysis, RequestUser } from './types.js';
import type { PodSpecTarget } from '../workload/target.js';
import { controllerRefOf, type OwnerRef } from '../workload/kinds.js';

export interface AnalysisInput {
  target: PodSpecTarget;
  namespace: string;
  objectMeta?: V1ObjectMeta;
  policy: NamespacePolicy;
  config: EngineConfig;
  /** Kind of the object under review (`apps/DaemonSet`), for templates. */
  objectKind?: string;
  userInfo?: RequestUser;
  /** Labels of the namespace, when known. */
  namespaceLabels?: Record<string, string>;
  /**
   * An analysis of the same target before mutation: its selection is reused when the mutators left
   * nodeSelector, affinity and nodeName alone (copy-on-write keeps the same objects).
   */
  prior?: PodAnalysis;
}

/**
 * Who creates DaemonSet Pods. An ownerReference alone is not proof: any tenant can write one, so
 * on the webhook path the request must also come from the DaemonSet controller.
 */
export const DAEMONSET_CONTROLLERS: ReadonlySet<string> = new Set([
  'system:serviceaccount:kube-system:daemon-set-controller',
  'system:kube-controller-manager',
]);

function isDaemonSetWorkload(input: AnalysisInput): boolean {
  if (input.target.isTemplate) return input.objectKind === 'apps/DaemonSet';
  if (ownerKindOf(input) !== 'DaemonSet') return false;
  return input.userInfo?.username === undefined || DAEMONSET_CONTROLLERS.has(input.userInfo.username);
}

const controllerRef = (meta: V1ObjectMeta | undefined): OwnerRef | undefined => controllerRefOf(meta?.ownerReferences);

function controllerKind(meta: V1ObjectMeta | undefined): string | undefined {
  const kind = controllerRef(meta)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

/**
 * A node agent the policy names (spec.nodeAgents): the DaemonSet of that name, or a Pod the
 * DaemonSet controller creates for it. Being a DaemonSet is not enough: any tenant may create one.
 */
function isNamedNodeAgent(input: AnalysisInput, daemonSet: boolean): boolean {
  const agents = input.policy.nodeAgents;
  if (!daemonSet || agents.length === 0) return false;
  const meta = input.target.isTemplate ? input.objectMeta : input.objectMeta ?? input.target.metadata;
  const name = input.target.isTemplate ? meta?.name : controllerRef(meta)?.name;
  return typeof name === 'string' && agents.includes(name);
}

export function ownerKindOf(input: Pick<AnalysisInput, 'objectMeta' | 'target'>): string | undefined {
  return controllerKind(input.target.isTemplate ? input.objectMeta : input.objectMeta ?? input.target.metadata);
}

function chosenPriorityClass(name: unknown, config: EngineConfig): string | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  return name === config.cluster?.globalDefaultClass() && !name.startsWith('system-') ? undefined : name;
}

const SELECTION_FIELDS = ['nodeSelector', 'affinity', 'nodeName'] as const;

export function analyse(withPrior: AnalysisInput): PodAnalysis {
  const { prior, ...input } = withPrior;
  const { target, policy, config } = input;
  const dra = draAccelerators(policy.accelerators.deviceClasses, config.claims?.deviceClassList?.(), (r) => config.accelerators.matches(r));
  const acc = analyseAccelerators(target.spec, config.accelerators, {
    containerPaths: target.containerPaths,
    annotations: target.metadata?.annotations,
    metadataPath: target.path.replace(/spec$/, 'metadata'),
    draExtended: dra.extended,
    claims: {
      deviceClasses: dra.classes,
      assume: policy.accelerators.assumeClaimsAreAccelerators,
      resolve: config.claims ? (kind, name) => config.claims?.deviceClasses(input.namespace, kind, name) : undefined,
      listed: (kind) => config.claims?.claimsListed?.(kind) ?? false,
    },
  });
  const same = prior?.target.path === target.path && SELECTION_FIELDS.every((k) => prior.target.spec[k] === target.spec[k]);
  const selection = same ? prior.selection : selectionOf(target.spec, target.path);
  const alts = same ? prior.alternatives : alternatives(selection, target.spec);
  const gates = target.spec.schedulingGates;
  const daemonSet = isDaemonSetWorkload(input);
  return {
    ...input,
    acc,
    selection,
    alternatives: alts,
    candidates: candidatePools({ alts, nodeName: selection.nodeName?.name, nodes: config.cluster?.nodes() }, acc.resources, config.pools, policy),
    gated: Array.isArray(gates) && gates.length > 0,
    daemonSet,
    nodeAgent: isNamedNodeAgent(input, daemonSet),
    chosenPriorityClass: chosenPriorityClass(target.spec.priorityClassName, config),
  };
}
