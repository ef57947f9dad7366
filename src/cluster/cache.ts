import type { ClaimResolver, ClusterFacts, NodeFacts } from '../engine/types.js';
import type { NamespaceLabelSource } from '../policy/resolve.js';
import type { DeviceClassFacts } from '../workload/claims.js';

export type EventType = 'add' | 'update' | 'delete';

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  /** Allocatable quantities, as the API reports them. */
  allocatable: Record<string, string>;
}

export interface PriorityClassInfo {
  name: string;
  value: number;
  preemptionPolicy?: string;
  globalDefault: boolean;
}

/** Minimal shapes of the watched objects: what the cache reads of them. */
export interface NamespaceObject { metadata?: Meta }
export interface NodeObject { metadata?: Meta; spec?: { taints?: NodeInfo['taints'] }; status?: { allocatable?: Record<string, string> } }
export interface PriorityClassObject { metadata?: Meta; value?: number; preemptionPolicy?: string; globalDefault?: boolean }
export interface ClaimTemplateObject {
  metadata?: Meta;
  spec?: { spec?: { devices?: { requests?: DeviceRequests } } };
}

type DeviceRequests = { deviceClassName?: string; exactly?: { deviceClassName?: string }; firstAvailable?: { deviceClassName?: string }[] }[];
/** A ResourceClaim: its requests sit one level higher than a template's. */
export interface ClaimObject { metadata?: Meta; spec?: { devices?: { requests?: DeviceRequests } } }
export interface DeviceClassObject {
  metadata?: Meta;
  spec?: { extendedResourceName?: string; selectors?: { cel?: { expression?: string } }[] };
}

export type Resource = 'namespaces' | 'nodes' | 'priorityclasses' | 'resourceclaimtemplates' | 'resourceclaims' | 'deviceclasses';

function classesOf(requests: DeviceRequests | undefined): string[] {
  const all = (Array.isArray(requests) ? requests : []).flatMap((r) => [r?.deviceClassName, r?.exactly?.deviceClassName, ...(Array.isArray(r?.firstAvailable) ? r.firstAvailable : []).map((f) => f?.deviceClassName)]);
  return [...new Set(all.filter((c): c is string => typeof c === 'string'))];
}

/** `device.driver == "gpu.nvidia.com"` (either quote) in a DeviceClass selector. */
const DRIVER_CEL = /device\.driver\s*==\s*["']([^"']+)["']/g;

/**
 * What the webhook knows of the cluster, fed by informer events and read on the request path.
 * Pure: no client, no clock; `synced` says which resources have had their initial list.
 */
export class ClusterCache implements NamespaceLabelSource, ClaimResolver, ClusterFacts {
  private readonly claims = new Map<string, string[]>();
  private readonly deviceClassMap = new Map<string, DeviceClassFacts>();
  private readonly namespaces = new Map<string, Record<string, string>>();
  readonly nodeMap = new Map<string, NodeInfo>();
  readonly priorityClasses = new Map<string, PriorityClassInfo>();
  private readonly claimTemplates = new Map<string, string[]>();
  readonly synced = new Set<Resource>();
  private labelsVersion = 0;

  get version(): number {
    return this.labelsVersion;
  }

  /**
   * Changes to anything the engine reads from the cache (labels, nodes, classes, claims, sync
   * state): what a kept answer depends on (the review memo is emptied when it moves). A watch event
   * that leaves the kept facts as they were (a Node's heartbeat, a claim's status) does not count.
   */
  get stateVersion(): number {
    return this.changes;
  }

  private changes = 0;

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    const old = map.get(key);
    if (old === undefined || JSON.stringify(old) !== JSON.stringify(value)) this.changes++;
    map.set(key, value);
  }

  private drop<V>(map: Map<string, V>, key: string): void {
    if (map.delete(key)) this.changes++;
  }

  labels(namespace: string): Record<string, string> | undefined {
    return this.namespaces.get(namespace);
  }

  nodes(): Iterable<NodeFacts> | undefined {
    return this.synced.has('nodes') ? this.nodeMap.values() : undefined;
  }

  knowsNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  /** undefined while PriorityClasses are not synced: absence proves nothing yet. */
  priorityClassExists(name: string): boolean | undefined {
    if (!this.synced.has('priorityclasses')) return undefined;
    return this.priorityClasses.has(name) || name === 'system-cluster-critical' || name === 'system-node-critical';
  }

  /** The class marked globalDefault: the Priority plugin writes its name into Pods that name none. */
  globalDefaultClass(): string | undefined {
    for (const c of this.priorityClasses.values()) if (c.globalDefault) return c.name;
    return undefined;
  }

  claimsListed(kind: 'ResourceClaim' | 'ResourceClaimTemplate'): boolean {
    return this.synced.has(kind === 'ResourceClaimTemplate' ? 'resourceclaimtemplates' : 'resourceclaims');
  }

  deviceClasses(namespace: string, kind: 'ResourceClaim' | 'ResourceClaimTemplate', name: string): string[] | undefined {
    return (kind === 'ResourceClaimTemplate' ? this.claimTemplates : this.claims).get(`${namespace}/${name}`);
  }

  /** undefined until DeviceClasses are synced (or, offline, until one was given). */
  deviceClassList(): readonly DeviceClassFacts[] | undefined {
    return this.synced.has('deviceclasses') || this.deviceClassMap.size > 0 ? [...this.deviceClassMap.values()] : undefined;
  }

  claim(type: EventType, obj: ClaimObject): void {
    const { name, namespace } = obj.metadata ?? {};
    if (!name || !namespace) return;
    const key = `${namespace}/${name}`;
    if (type === 'delete') return this.drop(this.claims, key);
    this.put(this.claims, key, classesOf(obj.spec?.devices?.requests));
  }

  deviceClass(type: EventType, obj: DeviceClassObject): void {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === 'delete') return this.drop(this.deviceClassMap, name);
    const selectors = Array.isArray(obj.spec?.selectors) ? obj.spec.selectors : [];
    const drivers = selectors.flatMap((s) => [...String(s?.cel?.expression ?? '').matchAll(DRIVER_CEL)].map((m) => m[1] as string));
    const ext = obj.spec?.extendedResourceName;
    this.put(this.deviceClassMap, name, { name, drivers: [...new Set(drivers)], ...(typeof ext === 'string' && ext ? { extendedResourceName: ext } : {}) });
  }

  namespace(type: EventType, obj: NamespaceObject): void {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === 'delete') this.drop(this.namespaces, name);
    else this.put(this.namespaces, name, { ...(obj.metadata?.labels ?? {}) });
    this.labelsVersion += 1;
  }

  node(type: EventType, obj: NodeObject): void {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === 'delete') return this.drop(this.nodeMap, name);
    this.put(this.nodeMap, name, {
      name,
      labels: { ...(obj.metadata?.labels ?? {}) },
      taints: Array.isArray(obj.spec?.taints) ? obj.spec.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })) : [],
      allocatable: { ...(obj.status?.allocatable ?? {}) },
    });
  }

  priorityClass(type: EventType, obj: PriorityClassObject): void {
    const name = obj.metadata?.name;
    if (!name) return;
    if (type === 'delete') return this.drop(this.priorityClasses, name);
    this.put(this.priorityClasses, name, { name, value: obj.value ?? 0, preemptionPolicy: obj.preemptionPolicy, globalDefault: obj.globalDefault === true });
  }

  claimTemplate(type: EventType, obj: ClaimTemplateObject): void {
    const { name, namespace } = obj.metadata ?? {};
    if (!name || !namespace) return;
    const key = `${namespace}/${name}`;
    if (type === 'delete') return this.drop(this.claimTemplates, key);
    this.put(this.claimTemplates, key, classesOf(obj.spec?.spec?.devices?.requests));
  }

  markSynced(resource: Resource): void {
    if (!this.synced.has(resource)) this.changes++;
    this.synced.add(resource);
  }
}
