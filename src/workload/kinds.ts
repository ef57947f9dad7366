/**
 * The one table of workload kinds: every kind whose objects carry Pod specs. The Pod spec locator,
 * the kinds `audit --cluster` lists, the rules of the shipped webhook configuration and the kinds
 * table of the docs are all derived from it (and tested against it).
 */

/**
 * Where a kind keeps its Pod templates: JSON-pointer-like patterns in which `*` stands for every
 * array item or map value. A pattern names a PodTemplateSpec (`metadata` + `spec`), or a PodSpec
 * itself when `podSpec` is set. `virtual` kinds assemble Pod specs from container-like fields
 * (see virtual-specs.ts).
 */
export type PodSpecLocation = { patterns: readonly string[]; podSpec?: boolean } | { virtual: true };

export interface WorkloadKind {
  group: string;
  kind: string;
  /** Served versions, the one `audit --cluster` reads first. */
  versions: readonly string[];
  /** Resource name in the API (`pytorchjobs`). */
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  /** The project or API the kind comes from, for the docs. */
  project: string;
  podSpecs: PodSpecLocation;
}

const TEMPLATE = ['/spec/template'];
const replicaSpecs = (field: string): PodSpecLocation => ({ patterns: [`/spec/${field}/*/template`] });
const rayCluster = (base: string): string[] => [`${base}/headGroupSpec/template`, `${base}/workerGroupSpecs/*/template`];
const TRAINING_RUNTIME: PodSpecLocation = { patterns: ['/spec/template/spec/replicatedJobs/*/template/spec/template'] };
const VIRTUAL: PodSpecLocation = { virtual: true };

type Row = [group: string, kind: string, versions: string[], plural: string, project: string, podSpecs: PodSpecLocation, scope?: 'Cluster'];

const ROWS: Row[] = [
  ['', 'Pod', ['v1'], 'pods', 'Kubernetes', { patterns: [''] }],
  ['', 'PodTemplate', ['v1'], 'podtemplates', 'Kubernetes', { patterns: ['/template'] }],
  ['', 'ReplicationController', ['v1'], 'replicationcontrollers', 'Kubernetes', { patterns: TEMPLATE }],
  ['apps', 'Deployment', ['v1'], 'deployments', 'Kubernetes', { patterns: TEMPLATE }],
  ['apps', 'StatefulSet', ['v1'], 'statefulsets', 'Kubernetes', { patterns: TEMPLATE }],
  ['apps', 'DaemonSet', ['v1'], 'daemonsets', 'Kubernetes', { patterns: TEMPLATE }],
  ['apps', 'ReplicaSet', ['v1'], 'replicasets', 'Kubernetes', { patterns: TEMPLATE }],
  ['batch', 'Job', ['v1'], 'jobs', 'Kubernetes', { patterns: TEMPLATE }],
  ['batch', 'CronJob', ['v1'], 'cronjobs', 'Kubernetes', { patterns: ['/spec/jobTemplate/spec/template'] }],
  ['kubeflow.org', 'PyTorchJob', ['v1'], 'pytorchjobs', 'Kubeflow Training Operator', replicaSpecs('pytorchReplicaSpecs')],
  ['kubeflow.org', 'TFJob', ['v1'], 'tfjobs', 'Kubeflow Training Operator', replicaSpecs('tfReplicaSpecs')],
  ['kubeflow.org', 'MPIJob', ['v2beta1', 'v1'], 'mpijobs', 'Kubeflow MPI Operator', replicaSpecs('mpiReplicaSpecs')],
  ['kubeflow.org', 'XGBoostJob', ['v1'], 'xgboostjobs', 'Kubeflow Training Operator', replicaSpecs('xgbReplicaSpecs')],
  ['kubeflow.org', 'PaddleJob', ['v1'], 'paddlejobs', 'Kubeflow Training Operator', replicaSpecs('paddleReplicaSpecs')],
  ['kubeflow.org', 'JAXJob', ['v1'], 'jaxjobs', 'Kubeflow Training Operator', replicaSpecs('jaxReplicaSpecs')],
  ['trainer.kubeflow.org', 'TrainJob', ['v1alpha1'], 'trainjobs', 'Kubeflow Trainer', VIRTUAL],
  ['trainer.kubeflow.org', 'TrainingRuntime', ['v1alpha1'], 'trainingruntimes', 'Kubeflow Trainer', TRAINING_RUNTIME],
  ['trainer.kubeflow.org', 'ClusterTrainingRuntime', ['v1alpha1'], 'clustertrainingruntimes', 'Kubeflow Trainer', TRAINING_RUNTIME, 'Cluster'],
  ['ray.io', 'RayCluster', ['v1'], 'rayclusters', 'KubeRay', { patterns: rayCluster('/spec') }],
  ['ray.io', 'RayJob', ['v1'], 'rayjobs', 'KubeRay', { patterns: [...rayCluster('/spec/rayClusterSpec'), '/spec/submitterPodTemplate'] }],
  ['ray.io', 'RayService', ['v1'], 'rayservices', 'KubeRay', { patterns: rayCluster('/spec/rayClusterConfig') }],
  ['leaderworkerset.x-k8s.io', 'LeaderWorkerSet', ['v1'], 'leaderworkersets', 'LeaderWorkerSet', { patterns: ['/spec/leaderWorkerTemplate/leaderTemplate', '/spec/leaderWorkerTemplate/workerTemplate'] }],
  ['jobset.x-k8s.io', 'JobSet', ['v1alpha2'], 'jobsets', 'JobSet', { patterns: ['/spec/replicatedJobs/*/template/spec/template'] }],
  ['batch.volcano.sh', 'Job', ['v1alpha1'], 'jobs', 'Volcano', { patterns: ['/spec/tasks/*/template'] }],
  ['serving.kserve.io', 'InferenceService', ['v1beta1'], 'inferenceservices', 'KServe', VIRTUAL],
  ['serving.kserve.io', 'LLMInferenceService', ['v1alpha1'], 'llminferenceservices', 'KServe', { patterns: ['/spec/template', '/spec/worker', '/spec/prefill/template', '/spec/prefill/worker'], podSpec: true }],
];

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ROWS.map(([group, kind, versions, plural, project, podSpecs, scope]) => ({
  group, kind, versions, plural, project, podSpecs, scope: scope ?? 'Namespaced',
}));

/** `group/Kind`, the core group empty: `/Pod`, `apps/Deployment`. */
export const kindKey = (gk: { group: string; kind: string }): string => `${gk.group}/${gk.kind}`;

const BY_KEY = new Map(WORKLOAD_KINDS.map((k) => [kindKey(k), k]));

export function workloadKind(gk: { group: string; kind: string }): WorkloadKind | undefined {
  return BY_KEY.get(kindKey(gk));
}

/** `apps/v1`, `v1`: the apiVersion a kind is read at. */
export function apiVersionOf(k: WorkloadKind, version = k.versions[0] as string): string {
  return k.group ? `${k.group}/${version}` : version;
}

/** The API group of an apiVersion (`apps/v1` -> `apps`, `v1` -> the core group ''). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
}
