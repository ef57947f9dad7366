import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { PodSpecTarget } from '../engine/types.js';
import { escapeToken, pointerToPath } from '../util/pointer.js';
import { virtualTargets } from './virtual-specs.js';

export interface GroupKind {
  group: string;
  kind: string;
}

type Json = Record<string, unknown>;

/**
 * Where a kind keeps its Pod templates: JSON-pointer-like patterns in which `*` stands for every
 * array item or map value. A pattern names a PodTemplateSpec (`metadata` + `spec`), or a PodSpec
 * itself when `podSpec` is set.
 */
interface Locator {
  patterns: string[];
  podSpec?: boolean;
}

const TEMPLATE = ['/spec/template'];
const replicaSpecs = (field: string): Locator => ({ patterns: [`/spec/${field}/*/template`] });
const rayCluster = (base: string): string[] => [`${base}/headGroupSpec/template`, `${base}/workerGroupSpecs/*/template`];
const TRAINING_RUNTIME: Locator = { patterns: ['/spec/template/spec/replicatedJobs/*/template/spec/template'] };

const LOCATORS: Record<string, Locator> = {
  '/Pod': { patterns: [''] },
  '/PodTemplate': { patterns: ['/template'] },
  '/ReplicationController': { patterns: TEMPLATE },
  'apps/Deployment': { patterns: TEMPLATE },
  'apps/StatefulSet': { patterns: TEMPLATE },
  'apps/DaemonSet': { patterns: TEMPLATE },
  'apps/ReplicaSet': { patterns: TEMPLATE },
  'batch/Job': { patterns: TEMPLATE },
  'batch/CronJob': { patterns: ['/spec/jobTemplate/spec/template'] },
  'kubeflow.org/PyTorchJob': replicaSpecs('pytorchReplicaSpecs'),
  'kubeflow.org/TFJob': replicaSpecs('tfReplicaSpecs'),
  'kubeflow.org/MPIJob': replicaSpecs('mpiReplicaSpecs'),
  'kubeflow.org/XGBoostJob': replicaSpecs('xgbReplicaSpecs'),
  'kubeflow.org/PaddleJob': replicaSpecs('paddleReplicaSpecs'),
  'kubeflow.org/JAXJob': replicaSpecs('jaxReplicaSpecs'),
  'trainer.kubeflow.org/TrainingRuntime': TRAINING_RUNTIME,
  'trainer.kubeflow.org/ClusterTrainingRuntime': TRAINING_RUNTIME,
  'ray.io/RayCluster': { patterns: rayCluster('/spec') },
  'ray.io/RayJob': { patterns: [...rayCluster('/spec/rayClusterSpec'), '/spec/submitterPodTemplate'] },
  'ray.io/RayService': { patterns: rayCluster('/spec/rayClusterConfig') },
  'leaderworkerset.x-k8s.io/LeaderWorkerSet': { patterns: ['/spec/leaderWorkerTemplate/leaderTemplate', '/spec/leaderWorkerTemplate/workerTemplate'] },
  'jobset.x-k8s.io/JobSet': { patterns: ['/spec/replicatedJobs/*/template/spec/template'] },
  'batch.volcano.sh/Job': { patterns: ['/spec/tasks/*/template'] },
  'serving.kserve.io/LLMInferenceService': { patterns: ['/spec/template', '/spec/worker', '/spec/prefill/template', '/spec/prefill/worker'], podSpec: true },
};

/** Kinds whose Pod specs are assembled from container-like fields (see virtual-specs.ts). */
const VIRTUAL_KINDS = new Set(['serving.kserve.io/InferenceService', 'trainer.kubeflow.org/TrainJob']);

const keyOf = (gk: GroupKind): string => `${gk.group}/${gk.kind}`;

export function handlesKind(gk: GroupKind): boolean {
  const key = keyOf(gk);
  return key in LOCATORS || VIRTUAL_KINDS.has(key);
}

/** Every kind with Pod specs, as `group/Kind` (core group empty), for docs and webhook rules. */
export function supportedKinds(): string[] {
  return [...Object.keys(LOCATORS), ...VIRTUAL_KINDS];
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

interface Found {
  value: unknown;
  pointer: string;
}

function expand(root: unknown, pattern: string): Found[] {
  let found: Found[] = [{ value: root, pointer: '' }];
  for (const seg of pattern.split('/').slice(1)) {
    const next: Found[] = [];
    for (const f of found) {
      if (seg === '*') {
        if (Array.isArray(f.value)) f.value.forEach((v, i) => next.push({ value: v, pointer: `${f.pointer}/${i}` }));
        else if (isObject(f.value)) for (const [k, v] of Object.entries(f.value)) next.push({ value: v, pointer: `${f.pointer}/${escapeToken(k)}` });
      } else if (isObject(f.value) && Object.hasOwn(f.value, seg)) {
        next.push({ value: f.value[seg], pointer: `${f.pointer}/${seg}` });
      }
    }
    found = next;
  }
  return found;
}

/** The Pod specs an object carries, with their JSON pointers and message paths. */
export function findPodSpecs(gk: GroupKind, object: unknown): PodSpecTarget[] {
  if (!isObject(object)) return [];
  const key = keyOf(gk);
  if (VIRTUAL_KINDS.has(key)) return virtualTargets(key, object);
  const locator = LOCATORS[key];
  if (!locator) return [];
  const targets: PodSpecTarget[] = [];
  for (const pattern of locator.patterns) {
    for (const f of expand(object, pattern)) {
      if (!isObject(f.value)) continue;
      const holder = locator.podSpec ? { spec: f.value } : f.value;
      if (!isObject(holder['spec'])) continue;
      const pointer = locator.podSpec ? f.pointer : `${f.pointer}/spec`;
      targets.push({
        spec: holder['spec'] as unknown as V1PodSpec,
        pointer,
        path: pointerToPath(pointer),
        metadata: isObject(holder['metadata']) ? (holder['metadata'] as V1ObjectMeta) : undefined,
        isTemplate: key !== '/Pod',
      });
    }
  }
  return targets;
}
