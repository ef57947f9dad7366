/**
 * The reads of `gpu-admission diagnose`: get and list only, paged, each refusal recorded with the
 * permission it lacked. The target's own reads (the Pod, the workload, the namespace's Pods) are
 * required; the rest (nodes, bound Pods, DaemonSets, classes, quotas, events) degrade to "could not
 * tell" for the steps that need them.
 */
import type { CoreV1Event, KubeConfig, KubernetesObject, V1DaemonSet, V1Node, V1Pod, V1PodSpec, V1PriorityClass, V1ResourceQuota } from '@kubernetes/client-node';
import type { Snapshot, Unreadable } from '../diagnose/types.js';
import type { Target } from '../diagnose/report.js';
import { InputError, UserError } from '../util/errors.js';
import { ClusterCache } from './cache.js';
import { listAll } from './list.js';


/** A read the API server refused: names the permission, so the ClusterRole can be fixed. */
export class ReadRefused extends UserError {
  constructor(readonly u: Unreadable) {
    super(`cannot ${u.verb} ${u.resource}${u.namespace ? ` in namespace ${u.namespace}` : ''}: ${u.message}`);
    this.name = 'ReadRefused';
  }
}

export function describeError(err: unknown, verb: 'get' | 'list', resource: string, namespace?: string): Unreadable {
  const e = err as { code?: number; message?: string };
  const message = e?.code === 403
    ? `forbidden by RBAC: grant verb "${verb}" on resource "${resource}"${namespace ? ` (namespace ${namespace}, or cluster-wide)` : ' (cluster-wide)'} — see docs/diagnose.md`
    : e?.code === 404 ? 'not found' : `${e?.code ? `HTTP ${e.code}: ` : ''}${(e?.message ?? String(err)).split('\n')[0]}`;
  return { verb, resource, ...(namespace ? { namespace } : {}), message };
}

async function api(kc: KubeConfig) {
  const { KubernetesObjectApi } = await import('@kubernetes/client-node');
  return KubernetesObjectApi.makeApiClient(kc);
}

/** A paged list (cluster/list.ts), typed as the caller reads it. */
const listPaged = async <T>(kc: KubeConfig, apiVersion: string, kind: string, namespace?: string, field?: string): Promise<T[]> =>
  (await listAll(kc, apiVersion, kind, namespace, { field })) as unknown as T[];

/** A list that may be refused: undefined and a recorded reason instead of an error. */
async function optional<T>(unreadable: Unreadable[], resource: string, namespace: string | undefined, read: () => Promise<T[]>): Promise<T[] | undefined> {
  try {
    return await read();
  } catch (err) {
    unreadable.push(describeError(err, 'list', resource, namespace));
    return undefined;
  }
}

async function required<T>(verb: 'get' | 'list', resource: string, namespace: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    // Not an answer of the API server (connection refused, TLS, DNS): the command says it cannot reach it.
    if (typeof code !== 'number') throw err;
    const u = describeError(err, verb, resource, namespace);
    if (code === 404) throw new InputError(`${resource.replace(/s$/, '')} not found${namespace ? ` in namespace ${namespace}` : ''}`);
    throw new ReadRefused(u);
  }
}

export interface Cluster {
  snapshot: Snapshot;
  /** Namespaces, PriorityClasses and Nodes for the engine (namespace labels, classes, node facts). */
  cache: ClusterCache;
}

export async function readContext(kc: KubeConfig, namespace: string): Promise<Cluster> {
  const unreadable: Unreadable[] = [];
  const [nodes, boundPods, daemonSets, priorityClasses, quotas, events, namespaces] = await Promise.all([
    optional<V1Node>(unreadable, 'nodes', undefined, () => listPaged(kc, 'v1', 'Node')),
    optional<V1Pod>(unreadable, 'pods', undefined, () => listPaged(kc, 'v1', 'Pod', undefined, 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed')),
    optional<V1DaemonSet>(unreadable, 'daemonsets', undefined, () => listPaged(kc, 'apps/v1', 'DaemonSet')),
    optional<V1PriorityClass>(unreadable, 'priorityclasses', undefined, () => listPaged(kc, 'scheduling.k8s.io/v1', 'PriorityClass')),
    optional<V1ResourceQuota>(unreadable, 'resourcequotas', namespace, () => listPaged(kc, 'v1', 'ResourceQuota', namespace)),
    optional<CoreV1Event>(unreadable, 'events', namespace, () => listPaged(kc, 'v1', 'Event', namespace)),
    optional<KubernetesObject>(unreadable, 'namespaces', undefined, () => listPaged(kc, 'v1', 'Namespace')),
  ]);
  const cache = new ClusterCache();
  for (const n of namespaces ?? []) cache.namespace('add', n as never);
  for (const p of priorityClasses ?? []) cache.priorityClass('add', p as never);
  if (priorityClasses) cache.markSynced('priorityclasses');
  for (const n of nodes ?? []) cache.node('add', n as never);
  if (nodes) cache.markSynced('nodes');
  return {
    cache,
    snapshot: {
      ...(nodes ? { nodes } : {}), ...(boundPods ? { boundPods } : {}), ...(daemonSets ? { daemonSets } : {}),
      ...(priorityClasses ? { priorityClasses } : {}), ...(quotas ? { quotas } : {}), ...(events ? { events } : {}), unreadable,
    },
  };
}

const WORKLOADS: Record<string, { apiVersion: string; kind: string; resource: string }> = {
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments' },
  statefulset: { apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets' },
  job: { apiVersion: 'batch/v1', kind: 'Job', resource: 'jobs' },
  replicaset: { apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicasets' },
};

const ALIASES: Record<string, string> = { deploy: 'deployment', deployments: 'deployment', sts: 'statefulset', statefulsets: 'statefulset', jobs: 'job', rs: 'replicaset', replicasets: 'replicaset', po: 'pod', pods: 'pod' };

/** `pod/x`, `deployment/y`, … -> kind and name (kind lower case, aliases resolved). */
export function parseRef(text: string): { kind: string; name: string } {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) throw new InputError(`"${text}" is not <kind>/<name> (pod/x, deployment/y, statefulset/z, job/j, or <kind>/<name> of any owner)`);
  const raw = text.slice(0, slash).toLowerCase();
  return { kind: ALIASES[raw] ?? raw, name: text.slice(slash + 1) };
}

type Owned = { metadata?: { uid?: string; name?: string; ownerReferences?: Array<{ uid?: string; kind?: string; name?: string; controller?: boolean }>; annotations?: Record<string, string> } };

const ownedBy = (o: Owned, uid: string | undefined, kind: string, name: string): boolean =>
  (o.metadata?.ownerReferences ?? []).some((r) => (uid && r.uid === uid) || (!uid && r.kind?.toLowerCase() === kind && r.name === name));

/** The Pods a target names, and the workload it is (if it is one). */
export async function readTarget(kc: KubeConfig, namespace: string, what: { ref?: string; pending?: boolean }): Promise<{ target: Target; pods: V1Pod[] }> {
  const client = await api(kc);
  if (what.pending) {
    const pods = await required('list', 'pods', namespace, () => listPaged<V1Pod>(kc, 'v1', 'Pod', namespace, 'status.phase=Pending'));
    return { target: { ref: 'pending', namespace }, pods };
  }
  const { kind, name } = parseRef(what.ref as string);
  if (kind === 'pod') {
    const pod = await required('get', 'pods', namespace, () => client.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace } }));
    return { target: { ref: `pod/${name}`, namespace }, pods: [pod as V1Pod] };
  }
  const pods = await required('list', 'pods', namespace, () => listPaged<V1Pod>(kc, 'v1', 'Pod', namespace));
  const known = WORKLOADS[kind];
  if (!known) {
    // Any other owner kind (a CRD's controller, a LeaderWorkerSet, a RayCluster…): its Pods by owner reference, cheaply.
    const mine = pods.filter((p) => ownedBy(p, undefined, kind, name));
    if (mine.length === 0) throw new InputError(`no Pod in namespace ${namespace} is owned by ${kind}/${name}`);
    return { target: { ref: `${kind}/${name}`, namespace, workload: { kind, name, creators: [name], ...(mine[0]?.spec ? { template: mine[0].spec } : {}) } }, pods: mine };
  }
  const obj = await required('get', known.resource, namespace, () => client.read({ apiVersion: known.apiVersion, kind: known.kind, metadata: { name, namespace } })) as KubernetesObject & {
    spec?: { replicas?: number; parallelism?: number; template?: { spec?: V1PodSpec } };
  };
  const uid = obj.metadata?.uid;
  const template = obj.spec?.template?.spec;
  let creators = [name];
  let mine: V1Pod[];
  let desired = kind === 'job' ? obj.spec?.parallelism ?? 1 : obj.spec?.replicas ?? 1;
  if (kind === 'deployment') {
    const sets = await required('list', 'replicasets', namespace, () => listPaged<Owned & { spec?: { replicas?: number } }>(kc, 'apps/v1', 'ReplicaSet', namespace));
    const owned = sets.filter((s) => ownedBy(s, uid, 'deployment', name));
    const revision = (s: Owned): number => Number(s.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const newest = owned.sort((a, b) => revision(b) - revision(a))[0];
    creators = owned.map((s) => s.metadata?.name ?? '');
    mine = newest ? pods.filter((p) => ownedBy(p, newest.metadata?.uid, 'replicaset', newest.metadata?.name ?? '')) : [];
  } else {
    mine = pods.filter((p) => ownedBy(p, uid, kind, name));
  }
  if (kind === 'job') desired = Math.min(desired, Math.max(0, ((obj.spec as { completions?: number })?.completions ?? desired) - Number((obj as { status?: { succeeded?: number } }).status?.succeeded ?? 0)));
  mine = mine.filter((p) => !p.metadata?.deletionTimestamp);
  return { target: { ref: `${kind}/${name}`, namespace, workload: { kind, name, desired, creators, ...(template ? { template } : {}) } }, pods: mine };
}
