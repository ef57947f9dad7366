import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import type { ContainerPath, PodSpecTarget } from './target.js';
import { isObject } from '../util/json.js';

type Json = Record<string, unknown>;


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

/**
 * Argo Workflows: every entry of templates[] that runs Pods carries `container`, `script` (a
 * container plus source) or `containerSet.containers`, and may add `initContainers` and `sidecars`.
 * Node selection and tolerations are merged from the workflow and the template level (and the
 * controller's defaults), so the specs are partial: only their accelerator requests are judged here.
 */
function argoTargets(object: Json, base: string[]): PodSpecTarget[] {
  let holder: unknown = object;
  for (const seg of base) holder = isObject(holder) ? holder[seg] : undefined;
  const templates = isObject(holder) && Array.isArray(holder['templates']) ? (holder['templates'] as unknown[]) : [];
  const targets: PodSpecTarget[] = [];
  templates.forEach((t, i) => {
    if (!isObject(t)) return;
    const containers: V1Container[] = [];
    const paths: ContainerPath[] = [];
    const add = (c: unknown, path: string, name: string): void => {
      if (!isObject(c)) return;
      containers.push({ name, ...(c as object) } as V1Container);
      paths.push({ path });
    };
    add(t['container'], 'container', 'main');
    add(t['script'], 'script', 'main');
    const set = t['containerSet'];
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    if (isObject(set)) list(set['containers']).forEach((c, j) => add(c, `containerSet.containers[${j}]`, `container-${j}`));
    list(t['initContainers']).forEach((c, j) => add(c, `initContainers[${j}]`, `init-${j}`));
    list(t['sidecars']).forEach((c, j) => add(c, `sidecars[${j}]`, `sidecar-${j}`));
    if (containers.length === 0) return;
    const pointer = `/${[...base, 'templates', String(i)].join('/')}`;
    targets.push({
      spec: { containers },
      pointer,
      path: `${base.join('.')}.templates[${i}]`,
      isTemplate: true,
      virtual: true,
      partial: true,
      containerPaths: paths,
    });
  });
  return targets;
}

/** NIMService: the NIM container's resources, with the Deployment's nodeSelector and tolerations. */
function nimServiceTargets(object: Json): PodSpecTarget[] {
  const spec = isObject(object['spec']) ? object['spec'] : undefined;
  if (!spec) return [];
  const podSpec: Json = { containers: [{ name: 'nim', ...(isObject(spec['resources']) ? { resources: spec['resources'] } : {}) }] };
  for (const field of ['nodeSelector', 'tolerations']) if (spec[field] !== undefined) podSpec[field] = spec[field];
  return [{
    spec: podSpec as unknown as V1PodSpec,
    pointer: '/spec',
    path: 'spec',
    isTemplate: true,
    virtual: true,
    containerPaths: [{ path: 'resources', resourcesPath: 'resources' }],
  }];
}

export function virtualTargets(key: string, object: Json): PodSpecTarget[] {
  switch (key) {
    case 'serving.kserve.io/InferenceService': return kserveTargets(object);
    case 'trainer.kubeflow.org/TrainJob': return trainJobTargets(object);
    case 'argoproj.io/CronWorkflow': return argoTargets(object, ['spec', 'workflowSpec']);
    case 'argoproj.io/Workflow':
    case 'argoproj.io/WorkflowTemplate':
    case 'argoproj.io/ClusterWorkflowTemplate': return argoTargets(object, ['spec']);
    case 'apps.nvidia.com/NIMService': return nimServiceTargets(object);
    default: return [];
  }
}
