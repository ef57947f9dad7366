/**
 * The cluster side of onboarding: what exists (PriorityClasses, the namespace's labels) and
 * server-side apply of the generated objects, owned by the field manager gpu-admission.
 * @kubernetes/client-node is loaded here, lazily: it must never load on the webhook's serve path.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { GeneratedDoc } from './generate.js';
import type { ClusterState, ExistingPriorityClass } from './plan.js';

export const FIELD_MANAGER = 'gpu-admission';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged' | 'would create' | 'would apply' | 'skipped';

export interface ApplyResult {
  kind: string;
  name: string;
  namespace?: string;
  outcome: ApplyOutcome;
  note?: string;
}

function notFound(err: unknown): boolean {
  return (err as { code?: number } | undefined)?.code === 404;
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  resourceVersion?: string;
}

export async function readClusterState(kc: KubeConfig, namespace: string): Promise<ClusterState> {
  const { KubernetesObjectApi } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const priorityClasses = new Map<string, ExistingPriorityClass>();
  const list = await api.list('scheduling.k8s.io/v1', 'PriorityClass');
  for (const item of list.items as (KubernetesObject & { value?: number; preemptionPolicy?: string })[]) {
    if (item.metadata?.name) priorityClasses.set(item.metadata.name, { value: item.value ?? 0, preemptionPolicy: item.preemptionPolicy });
  }
  try {
    const ns = await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    return { priorityClasses, namespaceLabels: { ...((ns.metadata as Meta | undefined)?.labels ?? {}) } };
  } catch (err) {
    if (notFound(err)) return { priorityClasses };
    throw err;
  }
}

async function resourceVersion(read: () => Promise<KubernetesObject>): Promise<string | undefined> {
  try {
    return (await read()).metadata?.resourceVersion ?? '';
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

export interface ApplyOptions {
  dryRun: boolean;
  /** Whether the namespace existed before: a dry run cannot send objects into a namespace it did not create. */
  namespaceExists: boolean;
}

/** Applies the cluster objects (not the policy, which is a file) in order; stops at the first failure. */
export async function applyDocuments(kc: KubeConfig, docs: GeneratedDoc[], o: ApplyOptions): Promise<ApplyResult[]> {
  const { KubernetesObjectApi, PatchStrategy } = await import('@kubernetes/client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const results: ApplyResult[] = [];
  for (const d of docs.filter((x) => x.role !== 'policy')) {
    const obj = d.object as unknown as KubernetesObject;
    const meta = (obj.metadata ?? {}) as Meta;
    const base = { kind: obj.kind ?? '', name: meta.name ?? '', namespace: meta.namespace };
    if (o.dryRun && meta.namespace && !o.namespaceExists) {
      results.push({ ...base, outcome: 'skipped', note: `namespace ${meta.namespace} does not exist yet and a dry run creates nothing: not sent` });
      continue;
    }
    const key = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: meta.name ?? '', namespace: meta.namespace } };
    let before: string | undefined;
    let after: KubernetesObject;
    try {
      before = await resourceVersion(() => api.read(key));
      after = await api.patch(obj, undefined, o.dryRun ? 'All' : undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new ApplyError(`${formatApplyResult({ ...base, outcome: 'skipped' }).replace(/ skipped$/, '')}: ${apiMessage(err)}`, results);
    }
    const outcome: ApplyOutcome = o.dryRun
      ? (before === undefined ? 'would create' : 'would apply')
      : before === undefined ? 'created' : before === after.metadata?.resourceVersion ? 'unchanged' : 'configured';
    results.push({ ...base, outcome });
  }
  return results;
}

/** A failed apply, with what was applied before it. */
export class ApplyError extends Error {
  constructor(message: string, readonly results: ApplyResult[]) {
    super(message);
    this.name = 'ApplyError';
  }
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (err as Error).message;
}

export function formatApplyResult(r: ApplyResult): string {
  const what = `${r.kind.toLowerCase()}/${r.name}${r.namespace ? ` (namespace ${r.namespace})` : ''}`;
  return `${what} ${r.outcome}${r.note ? `: ${r.note}` : ''}`;
}
