import {
  CoreV1Api, type KubeConfig, makeInformer, ResourceV1Api, SchedulingV1Api,
  type Informer, type KubernetesListObject, type KubernetesObject, type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterCache, EventType, Resource } from './cache.js';

type Handler = (type: EventType, obj: never) => void;

export interface ClusterView {
  stop(): Promise<void>;
  /** A fresh read of one namespace, bounded in time, for namespaces the watch has not delivered yet. */
  readNamespace(name: string, timeoutMs: number): Promise<void>;
}

/**
 * Starts list+watch informers that feed the cache. Nothing here runs on the request path except
 * readNamespace, used only for a namespace the cache has never seen.
 */
export async function startClusterView(kc: KubeConfig, cache: ClusterCache, logger: Logger): Promise<ClusterView> {
  const core = kc.makeApiClient(CoreV1Api);
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  const resource = kc.makeApiClient(ResourceV1Api);
  const informers: Informer<KubernetesObject>[] = [];

  let stopped = false;
  const watchOne = <T extends KubernetesObject>(name: Resource, path: string, list: () => Promise<KubernetesListObject<T>>, handle: Handler): void => {
    // Synced once the initial LIST is in the cache, even when the watch that follows never answers.
    const listed = async (): Promise<KubernetesListObject<T>> => {
      const result = await list();
      setImmediate(() => markSynced());
      return result;
    };
    const markSynced = (): void => {
      if (cache.synced.has(name)) return;
      cache.markSynced(name);
      logger.info({ event: 'cluster-synced', resource: name, objects: informer.list().length }, `watching ${name}`);
    };
    const informer = makeInformer<T>(kc, path, listed) as Informer<T> & ObjectCache<T>;
    let failedSinceStart = false;
    informer.on('add', (o) => handle('add', o as never));
    informer.on('update', (o) => handle('update', o as never));
    informer.on('delete', (o) => handle('delete', o as never));
    // The informer stops on errors; restart it after a pause. The cache keeps serving meanwhile.
    informer.on('error', (err: unknown) => {
      failedSinceStart = true;
      if (stopped) return; // stop() aborts the watches: not a failure
      logger.warn({ event: 'cluster-watch-error', resource: name, err: (err as Error)?.message ?? String(err) }, `watch of ${name} failed; retrying, reviews use the cache`);
      if (!stopped) setTimeout(() => void run(), 5000).unref();
    });
    // start() resolves once the initial list is in the cache and the watch is open.
    const run = async (): Promise<void> => {
      failedSinceStart = false;
      await informer.start().catch((err: unknown) => {
        failedSinceStart = true;
        logger.warn({ event: 'cluster-watch-error', resource: name, err: (err as Error).message }, `could not list ${name}`);
      });
      if (!failedSinceStart) markSynced();
    };
    informers.push(informer as unknown as Informer<KubernetesObject>);
    void run();
  };

  watchOne('namespaces', '/api/v1/namespaces', () => core.listNamespace(), (t, o) => cache.namespace(t, o));
  watchOne('nodes', '/api/v1/nodes', () => core.listNode(), (t, o) => cache.node(t, o));
  watchOne('priorityclasses', '/apis/scheduling.k8s.io/v1/priorityclasses', () => scheduling.listPriorityClass(), (t, o) => cache.priorityClass(t, o));
  if (await servesDra(resource)) {
    watchOne('resourceclaimtemplates', '/apis/resource.k8s.io/v1/resourceclaimtemplates', () => resource.listResourceClaimTemplateForAllNamespaces(), (t, o) => cache.claimTemplate(t, o));
    // Pods that name a claim directly (resourceClaimName) are judged by the claim's device classes.
    watchOne('resourceclaims', '/apis/resource.k8s.io/v1/resourceclaims', () => resource.listResourceClaimForAllNamespaces(), (t, o) => cache.claim(t, o));
    // Which classes allocate accelerators, and which extended resources they serve (KEP-5004).
    watchOne('deviceclasses', '/apis/resource.k8s.io/v1/deviceclasses', () => resource.listDeviceClass(), (t, o) => cache.deviceClass(t, o));
  } else {
    logger.info({ event: 'cluster-no-dra' }, 'resource.k8s.io/v1 is not served: resource claims are judged by policy (assumeClaimsAreAccelerators)');
  }

  return {
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
    async readNamespace(name, timeoutMs) {
      const read = core.readNamespace({ name }).then((ns) => cache.namespace('add', ns as never));
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref());
      await Promise.race([read, timer]);
    },
  };
}

/** Whether the API server serves resource.k8s.io/v1 (discovery), without failing when it does not. */
async function servesDra(api: ResourceV1Api): Promise<boolean> {
  try {
    await Promise.race([api.getAPIResources(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref())]);
    return true;
  } catch {
    return false;
  }
}
