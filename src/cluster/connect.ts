import type { Logger } from 'pino';
import type { PolicySet } from '../policy/types.js';
import { ClusterCache } from './cache.js';
import { configSource } from './config-source.js';
import type { ClusterView } from './informers.js';
import { useSlimClient } from './slim-client.js';

export interface ClusterLink {
  cache?: ClusterCache;
  view?: ClusterView;
  mode: 'offline' | 'cluster';
  source: string;
}

/** Connects to the cluster unless told not to or no configuration exists; says which at start. */
export async function connectCluster(opts: { offline: boolean; kubeconfig?: string; logger: Logger }): Promise<ClusterLink> {
  const { logger } = opts;
  if (opts.offline) {
    logger.info({ event: 'cluster', mode: 'offline' }, 'offline (--offline): judging from policy files only');
    return { mode: 'offline', source: '--offline' };
  }
  if (!configSource(opts.kubeconfig)) {
    logger.info({ event: 'cluster', mode: 'offline' }, 'no in-cluster config or kubeconfig found: judging from policy files only');
    return { mode: 'offline', source: 'no configuration' };
  }
  // client-node is loaded only with a cluster to watch, and without its generated API classes
  // and models (slim-client.ts), which the informers do not use.
  const client = useSlimClient();
  logger.debug({ event: 'cluster-client', client }, `Kubernetes client: ${client}`);
  const { findKubeConfig } = await import('./kubeconfig.js');
  const { startClusterView } = await import('./informers.js');
  const found = findKubeConfig(opts.kubeconfig);
  if (!found) return { mode: 'offline', source: 'no configuration' };
  const cache = new ClusterCache();
  const view = await startClusterView(found.kc, cache, logger);
  logger.info({ event: 'cluster', mode: 'cluster', source: found.source, server: found.kc.getCurrentCluster()?.server }, 'watching the cluster');
  return { cache, view, mode: 'cluster', source: found.source };
}

/** Default PriorityClasses that policies name but the cluster does not have (once classes are synced). */
export function missingDefaultClasses(set: PolicySet | undefined, cache: ClusterCache | undefined): string[] {
  if (!set || !cache) return [];
  const names = new Set(set.policies.map((p) => p.priority.defaultClass).filter((c): c is string => c !== undefined));
  return [...names].filter((c) => cache.priorityClassExists(c) === false).sort();
}

/**
 * A namespace the watch has not delivered yet is read once, briefly; failures fall back to the
 * policies. Reads of one namespace are shared while in flight and not repeated for `retryMs`, so
 * an unreachable API server costs at most one bounded read per namespace per period, not one per
 * review.
 */
export function namespaceReader(link: ClusterLink, logger: Logger, timeoutMs = 1000, retryMs = 30_000): ((ns: string) => Promise<void> | undefined) | undefined {
  const { cache, view } = link;
  if (!cache || !view) return undefined;
  const inflight = new Map<string, Promise<void>>();
  const tried = new Map<string, number>();
  // Nothing to wait for (a known namespace, or one read recently): no promise, the review goes on at once.
  return (ns) => {
    if (cache.knowsNamespace(ns)) return undefined;
    const pending = inflight.get(ns);
    if (pending) return pending;
    const last = tried.get(ns);
    if (last !== undefined && Date.now() - last < retryMs) return undefined;
    if (tried.size > 10_000) tried.clear();
    tried.set(ns, Date.now());
    const read = view.readNamespace(ns, timeoutMs).catch((err: unknown) => {
      logger.warn({ event: 'namespace-read-failed', namespace: ns, err: (err as Error).message }, 'namespace not in cache and not readable: judging it without its labels');
    }).finally(() => inflight.delete(ns));
    inflight.set(ns, read);
    return read;
  };
}

/** Nodes per pool (a node belongs to a pool when it carries all the pool's nodeLabels), once nodes are synced. */
export function poolMembership(set: PolicySet | undefined, cache: ClusterCache | undefined): Record<string, number> | undefined {
  const nodes = cache?.nodes();
  if (!set || !nodes) return undefined;
  const counts: Record<string, number> = Object.fromEntries(set.pools.map((p) => [p.name, 0]));
  for (const n of nodes) {
    for (const p of set.pools) {
      if (Object.entries(p.nodeLabels).every(([k, v]) => n.labels[k] === v)) counts[p.name] = (counts[p.name] ?? 0) + 1;
    }
  }
  return counts;
}
