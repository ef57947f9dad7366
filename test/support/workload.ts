/**
 * Workload-level tests: whole objects (Deployments, StatefulSets, LeaderWorkerSets) run through the
 * real engine (engineFor), and the WorkloadAnalysis the engine builds for them.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import type { Engine, EngineRequest } from '../../src/engine/engine.js';
import { engineFor } from '../../src/engine/build.js';
import type { WorkloadAnalysis } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { cpuContainer, podSpec, policySet } from './fixtures.js';

type Json = Record<string, unknown>;

export const KINDS = {
  Deployment: { group: 'apps', kind: 'Deployment', apiVersion: 'apps/v1' },
  StatefulSet: { group: 'apps', kind: 'StatefulSet', apiVersion: 'apps/v1' },
  LeaderWorkerSet: { group: 'leaderworkerset.x-k8s.io', kind: 'LeaderWorkerSet', apiVersion: 'leaderworkerset.x-k8s.io/v1' },
  Job: { group: 'batch', kind: 'Job', apiVersion: 'batch/v1' },
} as const;

export type KindName = keyof typeof KINDS;

/** Selection and toleration of the l4 pool of the fixtures: a template no Pod spec rule objects to. */
export const ON_L4: Partial<V1PodSpec> = {
  nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' },
  tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
};

const template = (gpu: boolean, spec?: V1PodSpec): Json => ({
  metadata: { labels: { app: 'llm' } },
  spec: spec ?? (gpu ? podSpec(ON_L4) : { containers: [cpuContainer()] }),
});

/** A workload of `kind` whose Pod template requests a GPU (or not), with `spec` merged into its spec. */
export function workload(kind: KindName, spec: Json = {}, opts: { gpu?: boolean; pod?: V1PodSpec } = {}): Json {
  const gpu = opts.gpu ?? true;
  const k = KINDS[kind];
  const base: Json = kind === 'LeaderWorkerSet'
    ? { replicas: 2, leaderWorkerTemplate: { size: 2, workerTemplate: template(gpu, opts.pod) } }
    : { replicas: 4, selector: { matchLabels: { app: 'llm' } }, template: template(gpu, opts.pod) };
  return { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'llm', namespace: 'team' }, spec: { ...base, ...spec } };
}

export function engineOf(pol: NamespacePolicy): Engine {
  return engineFor(policySet([pol]));
}

export function request(object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: Json): EngineRequest {
  const kind = KINDS[object['kind'] as KindName];
  return { kind: { group: kind.group, kind: kind.kind }, operation, namespace: 'team', name: 'llm', object, ...(oldObject ? { oldObject } : {}) };
}

/** The WorkloadAnalysis the engine builds for the object (the one its workload rules receive). */
export function workloadAnalysis(pol: NamespacePolicy, object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE'): WorkloadAnalysis {
  const e = engineOf(pol) as unknown as { prepare(req: EngineRequest): { workload?: WorkloadAnalysis } };
  const w = e.prepare(request(object, operation)).workload;
  if (!w) throw new Error('the engine built no workload analysis');
  return w;
}

/** /mutate, the patch applied as the API server applies it, and the mutated object. */
export function mutated(pol: NamespacePolicy, object: Json, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: Json) {
  const v = engineOf(pol).mutate(request(object, operation, oldObject));
  return { verdict: v, object: applyLikeApiServer(object, v.patch) };
}
