import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { ContainerPath, PodSpecTarget } from './target.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** KServe components embed a PodSpec and add container-like fields (the model server). */
const KSERVE_COMPONENTS = ['predictor', 'transformer', 'explainer'];
const KSERVE_CONTAINER_FIELDS = ['model', 'huggingface', 'pytorch', 'tensorflow', 'triton', 'onnx', 'sklearn', 'xgboost', 'lightgbm', 'pmml', 'paddle', 'art'];

function kserveTargets(object: Json): PodSpecTarget[] {
  const spec = isObject(object['spec']) ? object['spec'] : {};
  const targets: PodSpecTarget[] = [];
  for (const component of KSERVE_COMPONENTS) {
    const c = spec[component];
    if (!isObject(c)) continue;
    const own = Array.isArray(c['containers']) ? (c['containers'] as V1Container[]) : [];
    const paths: ContainerPath[] = own.map((_, i) => ({ path: `containers[${i}]` }));
    const extra: V1Container[] = [];
    for (const field of KSERVE_CONTAINER_FIELDS) {
      const f = c[field];
      if (!isObject(f)) continue;
      extra.push({ name: typeof f['name'] === 'string' ? f['name'] : 'kserve-container', ...(f as object) } as V1Container);
      paths.push({ path: field });
    }
    targets.push({
      spec: { ...(c as object), containers: [...own, ...extra] } as V1PodSpec,
      pointer: `/spec/${component}`,
      path: `spec.${component}`,
      isTemplate: true,
      virtual: true,
      containerPaths: paths,
    });
  }
  return targets;
}

/**
 * A TrainJob names a runtime (which carries the Pod templates, tolerations and selection) and
 * asks for `resourcesPerNode`: only its accelerator request can be judged here.
 */
function trainJobTargets(object: Json): PodSpecTarget[] {
  const spec = isObject(object['spec']) ? object['spec'] : {};
  const trainer = spec['trainer'];
  if (!isObject(trainer) || !isObject(trainer['resourcesPerNode'])) return [];
  const container = { name: 'node', resources: trainer['resourcesPerNode'] } as V1Container;
  return [{
    spec: { containers: [container] },
    pointer: '/spec/trainer',
    path: 'spec.trainer',
    isTemplate: true,
    virtual: true,
    partial: true,
    containerPaths: [{ path: 'resourcesPerNode', resourcesPath: 'resourcesPerNode' }],
  }];
}

export function virtualTargets(key: string, object: Json): PodSpecTarget[] {
  return key === 'serving.kserve.io/InferenceService' ? kserveTargets(object) : trainJobTargets(object);
}
