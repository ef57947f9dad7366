/**
 * The one table of workload kinds: every kind whose objects carry Pod specs. The Pod spec locator,
 * the kinds `audit --cluster` lists, the rules of the shipped webhook configuration and the kinds
 * table of the docs are all derived from it (and tested against it).
 */

/**
 * Where a kind keeps its Pod templates: JSON-pointer-like patterns in which `*` stands for every
 * array item or map value. A pattern names a PodTemplateSpec (`metadata` + `spec`), or a PodSpec
 * itself when `podSpec` is set. `virtual` kinds assemble Pod specs from container-like fields
 * (see virtual-specs.ts). `embedded` points at a whole object of another kind of the table (a Katib
 * trialSpec is a Job, a PyTorchJob, ...), whose Pod specs are found as that kind's.
 */
export type PodSpecLocation = { patterns: readonly string[]; podSpec?: boolean } | { virtual: true } | { embedded: string };

/** One default an operator writes into the Pods it creates, and where its source says so. */
export interface FillDefault {
  /** What the Pods receive, for messages (`an exec probe on the raylet health endpoint`). */
  what: string;
  /** The operator's own source or documentation that says so. */
  source: string;
  /** For liveness: seconds the injected liveness/startup probes give a container to start. */
  budgetSeconds?: number;
}

/**
 * What an operator or its defaulting webhook adds to the Pods it creates from a template, when the
 * template leaves it out. A requirement such an operator fills is not a denial on the template:
 * the Pods are judged again when they are created.
 */
export interface OperatorFills {
  operator: string;
  /** Which containers of a Pod spec receive the defaults: the first one, or those with these names. */
  containers: 'first' | 'all' | { names: readonly string[] };
  /** Only the Pod specs found at these patterns (default: every Pod spec of the kind). */
  patterns?: readonly string[];
  readinessProbe?: FillDefault;
  livenessProbe?: FillDefault;
  memoryLimit?: FillDefault;
  cpuRequest?: FillDefault;
}

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
  /** What its operator adds to the Pods it creates (see OperatorFills). */
  fills?: OperatorFills;
  /** The operations the shipped webhook configurations send for it. */
  operations: readonly ('CREATE' | 'UPDATE')[];
  /**
   * What its Pods do: `training` (run to completion, hours of state in memory: batch and training
   * jobs, workflows) or `serving` (long-running replicas behind a Service). Absent when the kind
   * alone does not say (a bare Pod, a PodTemplate, a DaemonSet, a RayCluster).
   */
  role?: WorkloadRole;
}

export type WorkloadRole = 'training' | 'serving';

/**
 * Kinds judged on CREATE only. The Argo controller writes a running Workflow's progress into the
 * object itself (no status subresource), many times a minute; with a fail-closed validating webhook
 * an outage would stall every running workflow, and the templates of a submitted Workflow do not
 * change anyway (a resubmission is a new object).
 */
const CREATE_ONLY = new Set(['argoproj.io/Workflow']);

const TEMPLATE = ['/spec/template'];
const replicaSpecs = (field: string): PodSpecLocation => ({ patterns: [`/spec/${field}/*/template`] });
const rayCluster = (base: string): string[] => [`${base}/headGroupSpec/template`, `${base}/workerGroupSpecs/*/template`];
const TRAINING_RUNTIME: PodSpecLocation = { patterns: ['/spec/template/spec/replicatedJobs/*/template/spec/template'] };
const VIRTUAL: PodSpecLocation = { virtual: true };

type Row = [group: string, kind: string, versions: string[], plural: string, project: string, podSpecs: PodSpecLocation, scope?: 'Cluster', fills?: OperatorFills];

/**
 * KubeRay's BuildPod injects a liveness and a readiness probe into the Ray container (containers[0],
 * utils.RayContainerIndex) of head and worker Pods when the template has none, unless the operator
 * runs with ENABLE_PROBES_INJECTION=false (default true). Liveness: initialDelay 30 s + 120 x 5 s.
 * Source: ray-project/kuberay ray-operator/controllers/ray/common/pod.go (BuildPod,
 * initLivenessAndReadinessProbe, getEnableProbesInjection) and utils/constant.go (DefaultLivenessProbe*).
 * The RayJob submitter Pod is not a Ray container and receives nothing.
 */
const KUBERAY_SOURCE = 'ray-project/kuberay ray-operator/controllers/ray/common/pod.go (BuildPod, ENABLE_PROBES_INJECTION default true)';
const kuberay = (patterns: string[]): OperatorFills => ({
  operator: 'KubeRay',
  containers: 'first',
  patterns,
  readinessProbe: { what: 'a readiness probe (raylet/GCS health)', source: KUBERAY_SOURCE },
  livenessProbe: { what: 'a liveness probe (30 s + 120 x 5 s)', source: KUBERAY_SOURCE, budgetSeconds: 30 + 120 * 5 },
});

/**
 * KServe's InferenceService defaulter (setResourceRequirementDefaults, called by every predictor,
 * transformer and explainer implementation's Default on containers[0] or the model container) adds
 * the cpu/memory requests and limits of the `resource` section of the inferenceservice-config
 * ConfigMap where the container has none; the chart ships cpu 1 / memory 2Gi. Source:
 * kserve/kserve pkg/apis/serving/v1beta1/inference_service_defaults.go, predictor_custom.go.
 */
const KSERVE_SOURCE = 'kserve/kserve pkg/apis/serving/v1beta1/inference_service_defaults.go (setResourceRequirementDefaults)';
const KSERVE_ISVC: OperatorFills = {
  operator: 'KServe',
  containers: 'first',
  memoryLimit: { what: 'the memory limit of inferenceservice-config (chart default 2Gi)', source: KSERVE_SOURCE },
  cpuRequest: { what: 'the cpu request of inferenceservice-config (chart default 1)', source: KSERVE_SOURCE },
};

/**
 * The LLMInferenceService controller merges the well-known LLMInferenceServiceConfig
 * kserve-config-llm-template into spec.template: its container `main` carries startup (10 s +
 * 60 x 10 s), liveness and readiness probes on /health. Source: kserve/kserve
 * config/llmisvcconfig/config-llm-template.yaml.
 */
const LLMISVC_SOURCE = 'kserve/kserve config/llmisvcconfig/config-llm-template.yaml';
const KSERVE_LLMISVC: OperatorFills = {
  operator: 'KServe',
  containers: { names: ['main'] },
  patterns: ['/spec/template'],
  readinessProbe: { what: 'a readiness probe on /health (kserve-config-llm-template)', source: LLMISVC_SOURCE },
  livenessProbe: { what: 'startup and liveness probes on /health (10 s + 60 x 10 s)', source: LLMISVC_SOURCE, budgetSeconds: 10 + 60 * 10 },
};

/**
 * The NIM operator gives the NIM container default readiness, liveness and startup probes
 * (startup: 40 s + 180 x 10 s) unless spec.*Probe sets or disables them. Source:
 * NVIDIA/k8s-nim-operator api/apps/v1alpha1/nimservice_types.go (GetDefault*Probe, IsProbeEnabled).
 */
const NIM_SOURCE = 'NVIDIA/k8s-nim-operator api/apps/v1alpha1/nimservice_types.go (GetDefaultStartupProbe)';
const NIM: OperatorFills = {
  operator: 'NIM operator',
  containers: 'all',
  readinessProbe: { what: 'a readiness probe on /v1/health/ready', source: NIM_SOURCE },
  livenessProbe: { what: 'a startup probe of 40 s + 180 x 10 s before liveness', source: NIM_SOURCE, budgetSeconds: 40 + 180 * 10 },
};

/** KServe ServingRuntimePodSpec is inline in spec (containers, nodeSelector, affinity, tolerations, volumes), as is workerSpec. */
const SERVING_RUNTIME: PodSpecLocation = { patterns: ['/spec', '/spec/workerSpec'], podSpec: true };

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
  ['ray.io', 'RayCluster', ['v1'], 'rayclusters', 'KubeRay', { patterns: rayCluster('/spec') }, undefined, kuberay(rayCluster('/spec'))],
  ['ray.io', 'RayJob', ['v1'], 'rayjobs', 'KubeRay', { patterns: [...rayCluster('/spec/rayClusterSpec'), '/spec/submitterPodTemplate'] }, undefined, kuberay(rayCluster('/spec/rayClusterSpec'))],
  ['ray.io', 'RayService', ['v1'], 'rayservices', 'KubeRay', { patterns: rayCluster('/spec/rayClusterConfig') }, undefined, kuberay(rayCluster('/spec/rayClusterConfig'))],
  ['leaderworkerset.x-k8s.io', 'LeaderWorkerSet', ['v1'], 'leaderworkersets', 'LeaderWorkerSet', { patterns: ['/spec/leaderWorkerTemplate/leaderTemplate', '/spec/leaderWorkerTemplate/workerTemplate'] }],
  ['jobset.x-k8s.io', 'JobSet', ['v1alpha2'], 'jobsets', 'JobSet', { patterns: ['/spec/replicatedJobs/*/template/spec/template'] }],
  ['batch.volcano.sh', 'Job', ['v1alpha1'], 'jobs', 'Volcano', { patterns: ['/spec/tasks/*/template'] }],
  ['serving.kserve.io', 'InferenceService', ['v1beta1'], 'inferenceservices', 'KServe', VIRTUAL, undefined, KSERVE_ISVC],
  ['serving.kserve.io', 'LLMInferenceService', ['v1alpha1'], 'llminferenceservices', 'KServe', { patterns: ['/spec/template', '/spec/worker', '/spec/prefill/template', '/spec/prefill/worker'], podSpec: true }, undefined, KSERVE_LLMISVC],
  ['serving.kserve.io', 'ServingRuntime', ['v1alpha1'], 'servingruntimes', 'KServe', SERVING_RUNTIME],
  ['serving.kserve.io', 'ClusterServingRuntime', ['v1alpha1'], 'clusterservingruntimes', 'KServe', SERVING_RUNTIME, 'Cluster'],
  // Argo templates[] carry container / script / containerSet.containers; node selection is merged
  // from the workflow and the template level, so the specs are partial.
  ['argoproj.io', 'Workflow', ['v1alpha1'], 'workflows', 'Argo Workflows', VIRTUAL],
  ['argoproj.io', 'WorkflowTemplate', ['v1alpha1'], 'workflowtemplates', 'Argo Workflows', VIRTUAL],
  ['argoproj.io', 'ClusterWorkflowTemplate', ['v1alpha1'], 'clusterworkflowtemplates', 'Argo Workflows', VIRTUAL, 'Cluster'],
  ['argoproj.io', 'CronWorkflow', ['v1alpha1'], 'cronworkflows', 'Argo Workflows', VIRTUAL],
  // Katib: trialTemplate.trialSpec is an embedded Job, PyTorchJob, ... (trialTemplate.configMap
  // references are not read). Unknown embedded kinds are reported by the structural search.
  ['kubeflow.org', 'Experiment', ['v1beta1'], 'experiments', 'Kubeflow Katib', { embedded: '/spec/trialTemplate/trialSpec' }],
  // NIMService: one container from spec.resources, with spec.nodeSelector and spec.tolerations.
  ['apps.nvidia.com', 'NIMService', ['v1alpha1'], 'nimservices', 'NVIDIA NIM Operator', VIRTUAL, undefined, NIM],
];

/**
 * The role of each kind's Pods (WorkloadKind.role). A RayCluster has none of its own: one created
 * by a RayJob is training (roleOfOwner reads the label KubeRay puts on it), one created by a
 * RayService is serving, a bare one is interactive. Katib Experiments run training trials.
 */
const ROLES: Record<string, WorkloadRole> = {
  'batch/Job': 'training', 'batch/CronJob': 'training',
  'kubeflow.org/PyTorchJob': 'training', 'kubeflow.org/TFJob': 'training', 'kubeflow.org/MPIJob': 'training',
  'kubeflow.org/XGBoostJob': 'training', 'kubeflow.org/PaddleJob': 'training', 'kubeflow.org/JAXJob': 'training',
  'kubeflow.org/Experiment': 'training',
  'trainer.kubeflow.org/TrainJob': 'training', 'trainer.kubeflow.org/TrainingRuntime': 'training', 'trainer.kubeflow.org/ClusterTrainingRuntime': 'training',
  'ray.io/RayJob': 'training', 'jobset.x-k8s.io/JobSet': 'training', 'batch.volcano.sh/Job': 'training',
  'argoproj.io/Workflow': 'training', 'argoproj.io/WorkflowTemplate': 'training', 'argoproj.io/ClusterWorkflowTemplate': 'training', 'argoproj.io/CronWorkflow': 'training',
  '/ReplicationController': 'serving', 'apps/Deployment': 'serving', 'apps/ReplicaSet': 'serving', 'apps/StatefulSet': 'serving',
  'leaderworkerset.x-k8s.io/LeaderWorkerSet': 'serving', 'ray.io/RayService': 'serving',
  'serving.kserve.io/InferenceService': 'serving', 'serving.kserve.io/LLMInferenceService': 'serving',
  'serving.kserve.io/ServingRuntime': 'serving', 'serving.kserve.io/ClusterServingRuntime': 'serving',
  'apps.nvidia.com/NIMService': 'serving',
};

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ROWS.map(([group, kind, versions, plural, project, podSpecs, scope, fills]) => ({
  group, kind, versions, plural, project, podSpecs, scope: scope ?? 'Namespaced', ...(fills ? { fills } : {}),
  ...(ROLES[`${group}/${kind}`] ? { role: ROLES[`${group}/${kind}`] } : {}),
  operations: CREATE_ONLY.has(`${group}/${kind}`) ? ['CREATE'] : ['CREATE', 'UPDATE'],
}));

/** `group/Kind`, the core group empty: `/Pod`, `apps/Deployment`. */
export const kindKey = (gk: { group: string; kind: string }): string => `${gk.group}/${gk.kind}`;

const BY_KEY = new Map(WORKLOAD_KINDS.map((k) => [kindKey(k), k]));

/**
 * Kinds whose Pods come from a map of replica specs (the Kubeflow jobs: `spec.pytorchReplicaSpecs`,
 * ...), and the field: read off the table's Pod template patterns.
 */
export const REPLICA_SPECS: Readonly<Record<string, string>> = Object.fromEntries(WORKLOAD_KINDS.flatMap((k) => {
  const m = 'patterns' in k.podSpecs && k.podSpecs.patterns.length === 1 ? /^\/spec\/(\w+ReplicaSpecs)\/\*\/template$/.exec(k.podSpecs.patterns[0] as string) : null;
  return m ? [[kindKey(k), m[1] as string]] : [];
}));

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

/** Owner references as the API spells them; fields are read with their types checked. */
export interface OwnerRef {
  apiVersion?: unknown;
  kind?: unknown;
  name?: unknown;
  controller?: unknown;
}

/**
 * The controller's reference (`controller: true`) among an object's ownerReferences, read
 * defensively: a custom resource's template, or a file an audit reads, may carry anything here.
 */
export function controllerRefOf(owners: unknown): OwnerRef | undefined {
  return (Array.isArray(owners) ? owners : []).find((o): o is OwnerRef => o !== null && typeof o === 'object' && (o as OwnerRef).controller === true);
}

/**
 * The role of a Pod from its controller's ownerReference (apiVersion + kind): a Job's Pod is
 * training (so are the Pods of a JobSet's or a TrainJob's Jobs, and a RayJob's submitter), a
 * ReplicaSet's or a StatefulSet's (and so a Deployment's or a LeaderWorkerSet's) is serving. A
 * RayCluster's Pod is training when KubeRay marks it as created by a RayJob: the label
 * `ray.io/originated-from-crd: RayJob` it sets on the RayCluster and its Pods (ray-project/kuberay
 * ray-operator/controllers/ray/utils/constant.go RayOriginatedFromCRDLabelKey; common/pod.go reads
 * it from the Pod's labels), and serving when created by a RayService.
 */
export function roleOfOwner(owners: unknown, podLabels?: Record<string, string>): WorkloadRole | undefined {
  const owner = controllerRefOf(owners);
  if (!owner || typeof owner.apiVersion !== 'string' || typeof owner.kind !== 'string') return undefined;
  const gk = { group: groupOf(owner.apiVersion), kind: owner.kind };
  if (kindKey(gk) === 'ray.io/RayCluster') {
    const from = podLabels !== null && typeof podLabels === 'object' ? podLabels['ray.io/originated-from-crd'] : undefined;
    return from === 'RayJob' ? 'training' : from === 'RayService' ? 'serving' : undefined;
  }
  return workloadKind(gk)?.role;
}
