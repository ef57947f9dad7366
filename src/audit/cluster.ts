import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ClusterCache } from '../cluster/cache.js';
import { listAll } from '../cluster/list.js';
import { UserError } from '../util/errors.js';
import { apiVersionOf, WORKLOAD_KINDS } from '../workload/kinds.js';
import type { SourceObject } from './input.js';


function notServed(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e?.code === 404 || /Unrecognized API version and kind|could not find the requested resource|not found/i.test(e?.message ?? '');
}

export interface ClusterInput {
  objects: SourceObject[];
  cache: ClusterCache;
  /** Kinds the cluster does not serve (CRDs not installed). */
  absent: string[];
  /** PodDisruptionBudgets could be listed (the disruption-budget check needs them). */
  budgetsListed: boolean;
}

/** Lists (paged) every object with Pod specs, plus the context the engine reads: namespaces, claim templates, classes, disruption budgets. */
export async function readCluster(kc: KubeConfig, namespace: string | undefined, logger: Logger): Promise<ClusterInput> {
  const cache = new ClusterCache();
  for (const n of await listAll(kc, 'v1', 'Namespace')) cache.namespace('add', n as never);
  for (const p of await listAll(kc, 'scheduling.k8s.io/v1', 'PriorityClass').catch(() => [])) cache.priorityClass('add', p as never);
  cache.markSynced('priorityclasses');
  // Bound Pods (spec.nodeName) are judged against their node, as the webhook does with its view.
  const nodes = await listAll(kc, 'v1', 'Node').catch(() => undefined);
  for (const n of nodes ?? []) cache.node('add', n as never);
  if (nodes) cache.markSynced('nodes');
  const templates = await listAll(kc, 'resource.k8s.io/v1', 'ResourceClaimTemplate', namespace).catch(() => undefined);
  for (const t of templates ?? []) cache.claimTemplate('add', t as never);
  if (templates) cache.markSynced('resourceclaimtemplates');
  const claims = await listAll(kc, 'resource.k8s.io/v1', 'ResourceClaim', namespace).catch(() => undefined);
  for (const c of claims ?? []) cache.claim('add', c as never);
  if (claims) cache.markSynced('resourceclaims');
  const classes = await listAll(kc, 'resource.k8s.io/v1', 'DeviceClass').catch(() => undefined);
  for (const c of classes ?? []) cache.deviceClass('add', c as never);
  if (classes) cache.markSynced('deviceclasses');
  const objects: SourceObject[] = [];
  const absent: string[] = [];
  // PodDisruptionBudgets: context for the audit-only disruption-budget check (src/audit/budgets.ts).
  // Not listable (RBAC): the check is left out rather than flag every workload.
  // policy/v1 from Kubernetes 1.21; older servers serve policy/v1beta1 only.
  const budgets = await listAll(kc, 'policy/v1', 'PodDisruptionBudget', namespace).catch((err: unknown) => {
    if (!notServed(err)) throw err;
    return listAll(kc, 'policy/v1beta1', 'PodDisruptionBudget', namespace);
  }).catch((err: unknown) => {
    logger.warn({ event: 'audit-pdb-list-failed', err: (err as Error).message }, 'cannot list PodDisruptionBudgets: the disruption-budget check is left out');
    return undefined;
  });
  for (const b of budgets ?? []) {
    const m = b.metadata ?? {};
    objects.push({ file: `cluster:${m.namespace ?? ''}/PodDisruptionBudget/${m.name ?? ''}`, line: 1, index: 1, object: JSON.parse(JSON.stringify(b)) as Record<string, unknown> });
  }
  // Every kind of the kind table; CRDs the cluster does not serve are skipped.
  for (const k of WORKLOAD_KINDS) {
    const apiVersion = apiVersionOf(k);
    const kind = k.kind;
    try {
      const items = await listAll(kc, apiVersion, kind, k.scope === 'Cluster' ? undefined : namespace);
      for (const item of items) {
        const m = item.metadata ?? {};
        objects.push({ file: `cluster:${m.namespace ?? ''}/${kind}/${m.name ?? ''}`, line: 1, index: 1, object: JSON.parse(JSON.stringify(item)) as Record<string, unknown> });
      }
    } catch (err) {
      if (!notServed(err)) throw err;
      absent.push(`${apiVersion}/${kind}`);
      logger.debug({ event: 'audit-kind-absent', apiVersion, kind }, `${kind} is not served`);
    }
  }
  return { objects, cache, absent, budgetsListed: budgets !== undefined };
}

export class MissingCrdError extends UserError {
  constructor() {
    super('the PolicyReport CRD (wgpolicyk8s.io/v1alpha2) is not installed: kubectl apply -f manifests/policyreport-crd.yaml');
    this.name = 'MissingCrdError';
  }
}

/** Creates or updates one PolicyReport per namespace by server-side apply, owned by field manager gpu-admission. */
export async function writeReports(kc: KubeConfig, reports: object[]): Promise<number> {
  const { KubernetesObjectApi, PatchStrategy } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  let written = 0;
  for (const report of reports) {
    try {
      await api.patch(report as KubernetesObject, undefined, undefined, 'gpu-admission', true, PatchStrategy.ServerSideApply);
      written += 1;
    } catch (err) {
      if (notServed(err)) throw new MissingCrdError();
      throw err;
    }
  }
  return written;
}
