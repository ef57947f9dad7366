import http from 'node:http';
import https from 'node:https';
import type { Informer, KubeConfig, KubernetesListObject, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
// dist/informer.js rather than the package index, which would load every generated API (slim-client.ts).
import { makeInformer } from '@kubernetes/client-node/dist/informer.js';
import type { Logger } from 'pino';
import type { ClusterCache, EventType, Resource } from './cache.js';
import { PAGE_SIZE } from './list.js';

type Handler = (type: EventType, obj: never) => void;

export interface ClusterView {
  stop(): Promise<void>;
  /** A fresh read of one namespace, bounded in time, for namespaces the watch has not delivered yet. */
  readNamespace(name: string, timeoutMs: number): Promise<void>;
}

/** An API server answer other than 2xx: `code`/`statusCode` as client-node's errors carry them. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly statusCode: number;
  constructor(status: number, path: string, detail: string) {
    const reason = http.STATUS_CODES[status];
    super(`GET ${path}: HTTP ${status}${reason ? ` ${reason}` : ''}${detail ? `: ${detail}` : ''}`);
    this.name = 'KubeApiError';
    this.code = status;
    this.statusCode = status;
  }
}

/** The message of a Status body, else the start of the body as text. */
function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown } | null;
    if (typeof body?.message === 'string' && body.message) return body.message;
  } catch { /* not JSON */ }
  return text.trim().slice(0, 300);
}

/**
 * GET of an API path as parsed JSON, authenticated as the kubeconfig says (KubeConfig's public
 * applyToHTTPSOptions: certificates, token, exec and auth-provider plugins, proxy agent), all
 * within `timeoutMs`.
 */
export async function getJson(kc: KubeConfig, path: string, timeoutMs: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  let req: http.ClientRequest | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`GET ${path}: no answer within ${timeoutMs} ms`);
      req?.destroy(err);
      reject(err);
    }, timeoutMs);
    timer.unref();
  });
  const get = async (): Promise<unknown> => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    // As client-node's Watch builds its URLs: the server may carry a path prefix.
    const url = new URL(cluster.server + path);
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
    await kc.applyToHTTPSOptions(opts);
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      req = transport.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new KubeApiError(status, path, detailOf(text)));
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new Error(`GET ${path}: the answer is not JSON (${(err as Error).message})`));
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  };
  try {
    return await Promise.race([get(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A LIST of an API path, in pages of `pageSize`, as one list (the first page's resourceVersion), as
 * plain JSON (list.ts's listAll lists by kind, through the generated client the CLI commands load).
 */
export async function listPath<T extends KubernetesObject>(kc: KubeConfig, path: string, opts: { pageSize?: number; timeoutMs?: number } = {}): Promise<KubernetesListObject<T>> {
  const { pageSize = PAGE_SIZE, timeoutMs = 60_000 } = opts;
  const items: T[] = [];
  let first: KubernetesListObject<T> | undefined;
  let cont: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (cont) query.set('continue', cont);
    const page = (await getJson(kc, `${path}?${query}`, timeoutMs)) as KubernetesListObject<T>;
    first ??= page;
    if (Array.isArray(page?.items)) items.push(...page.items);
    cont = page?.metadata?._continue ?? (page?.metadata as { continue?: string } | undefined)?.continue;
  } while (cont);
  return { ...first, metadata: { resourceVersion: first?.metadata?.resourceVersion }, items };
}

/**
 * Starts list+watch informers that feed the cache. Nothing here runs on the request path except
 * readNamespace, used only for a namespace the cache has never seen. Lists, reads and watches
 * deliver the API server's JSON as it is: the cache reads fields by their JSON names.
 */
export async function startClusterView(kc: KubeConfig, cache: ClusterCache, logger: Logger): Promise<ClusterView> {
  const informers: Informer<KubernetesObject>[] = [];

  let stopped = false;
  const watchOne = (name: Resource, path: string, handle: Handler): void => {
    // Synced once the initial LIST is in the cache, even when the watch that follows never answers.
    const listed = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const result = await listPath(kc, path);
      setImmediate(() => markSynced());
      return result;
    };
    const markSynced = (): void => {
      if (cache.synced.has(name)) return;
      cache.markSynced(name);
      logger.info({ event: 'cluster-synced', resource: name, objects: informer.list().length }, `watching ${name}`);
    };
    const informer = makeInformer(kc, path, listed) as Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
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
    informers.push(informer);
    void run();
  };

  watchOne('namespaces', '/api/v1/namespaces', (t, o) => cache.namespace(t, o));
  watchOne('nodes', '/api/v1/nodes', (t, o) => cache.node(t, o));
  watchOne('priorityclasses', '/apis/scheduling.k8s.io/v1/priorityclasses', (t, o) => cache.priorityClass(t, o));
  if (await servesDra(kc)) {
    watchOne('resourceclaimtemplates', '/apis/resource.k8s.io/v1/resourceclaimtemplates', (t, o) => cache.claimTemplate(t, o));
    // Pods that name a claim directly (resourceClaimName) are judged by the claim's device classes.
    watchOne('resourceclaims', '/apis/resource.k8s.io/v1/resourceclaims', (t, o) => cache.claim(t, o));
    // Which classes allocate accelerators, and which extended resources they serve (KEP-5004).
    watchOne('deviceclasses', '/apis/resource.k8s.io/v1/deviceclasses', (t, o) => cache.deviceClass(t, o));
  } else {
    logger.info({ event: 'cluster-no-dra' }, 'resource.k8s.io/v1 is not served: resource claims are judged by policy (assumeClaimsAreAccelerators)');
  }

  return {
    async stop() {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop().catch(() => undefined)));
    },
    async readNamespace(name, timeoutMs) {
      const ns = await getJson(kc, `/api/v1/namespaces/${encodeURIComponent(name)}`, timeoutMs);
      cache.namespace('add', ns as never);
    },
  };
}

/** Whether the API server serves resource.k8s.io/v1 (discovery answers 2xx), without failing when it does not. */
export async function servesDra(kc: KubeConfig, timeoutMs = 3000): Promise<boolean> {
  try {
    await getJson(kc, '/apis/resource.k8s.io/v1', timeoutMs);
    return true;
  } catch {
    return false;
  }
}
