/**
 * JSON Schema of the policy documents. `npm run schema` writes it to policies/schema.json so
 * editors with yaml-language-server validate policy files as they are typed.
 */
const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 };
const labelKey = { type: 'string', minLength: 1, maxLength: 317, pattern: '^([a-zA-Z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' };
const labelValue = { type: 'string', maxLength: 63, pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$' };
const resourceName = { type: 'string', minLength: 1, pattern: '^[a-z0-9A-Z.-]+/[a-zA-Z0-9._*-]+$' };
const seconds = { type: 'integer', minimum: 0, maximum: 86400 * 7 };
const ruleId = { type: 'string', pattern: '^(\\*|[a-z0-9-]+)$' };

const metadata = {
  type: 'object',
  required: ['name'],
  properties: { name, labels: { type: 'object' }, annotations: { type: 'object' } },
  additionalProperties: true,
};

const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', propertyNames: labelKey, additionalProperties: labelValue },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: labelKey,
          operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: labelValue },
        },
      },
    },
  },
};

const gpuPoolSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['nodeLabels', 'resources'],
  properties: {
    description: { type: 'string' },
    nodeLabels: {
      type: 'object',
      minProperties: 1,
      propertyNames: labelKey,
      additionalProperties: labelValue,
      description: 'Labels every node of the pool carries and that tell it apart from other nodes.',
    },
    taints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'effect'],
        properties: {
          key: labelKey,
          value: labelValue,
          effect: { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
        },
      },
    },
    resources: { type: 'array', minItems: 1, items: resourceName, description: 'Accelerator resources the nodes offer.' },
    maxPerPod: { type: 'integer', minimum: 1 },
    cuda: { type: 'string', pattern: '^[0-9]+\\.[0-9]+$', description: 'Highest CUDA version the pool\'s driver supports (major.minor, e.g. "12.4"): rule cuda-compatibility.' },
  },
};

const boolSwitch = { type: 'boolean' };
const checkLevel = { enum: ['off', 'warn', 'enforce'] };
const gangPath = { enum: ['kueue', 'volcano', 'kai', 'coscheduling'] };
const schedulerNames = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 } };

const namespacePolicySpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    default: { type: 'boolean', description: 'Governs every namespace no other policy selects.' },
    exempt: { type: 'boolean', description: 'Neither validate nor mutate Pods of these namespaces.' },
    namespaces: {
      type: 'object',
      additionalProperties: false,
      properties: { names: { type: 'array', items: name }, selector: labelSelector },
    },
    mode: { enum: ['enforce', 'warn', 'audit'] },
    accelerators: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowed: { type: 'boolean' },
        pools: { type: 'array', items: name },
        resources: { type: 'array', items: resourceName },
        maxPerPod: { type: 'integer', minimum: 1 },
        defaultPool: name,
        deviceClasses: { type: 'array', items: name, description: 'DRA DeviceClasses that allocate accelerators.' },
        assumeClaimsAreAccelerators: { type: 'boolean', description: 'Without a cluster view, count resource claims as accelerators.' },
      },
    },
    startupProbe: {
      type: 'object',
      additionalProperties: false,
      properties: { minBudgetSeconds: seconds },
    },
    terminationGracePeriodSeconds: seconds,
    priority: {
      type: 'object',
      additionalProperties: false,
      properties: { defaultClass: name, allowedClasses: { type: 'array', items: name } },
    },
    requirements: {
      type: 'object',
      additionalProperties: false,
      properties: { memoryLimit: boolSwitch, cpuRequest: boolSwitch, readinessProbe: boolSwitch },
    },
    deviceIsolation: {
      type: 'object',
      additionalProperties: false,
      description: 'GPU device isolation rules outside exempt namespaces (each default true).',
      properties: {
        visibleDevices: { type: 'boolean', description: 'visible-devices: deny a user-set NVIDIA_VISIBLE_DEVICES (or another vendor\'s runtime-hook variable) other than void/none.' },
        privileged: { type: 'boolean', description: 'privileged-accelerator: deny privileged containers and SYS_ADMIN/ALL capabilities in Pods that can reach accelerators.' },
        hostPaths: { type: 'boolean', description: 'device-hostpath: deny hostPath volumes of device paths (/, /dev, /dev/nvidia*, /dev/dri, ...) in Pods that can reach accelerators.' },
      },
    },
    rollout: {
      type: 'object',
      additionalProperties: false,
      description: 'Rollouts of accelerator Deployments, StatefulSets and LeaderWorkerSets (rules rollout-progress-deadline, rollout-strategy; mutation rollout).',
      properties: {
        progressDeadlineSeconds: { oneOf: [{ const: 'auto' }, seconds], description: 'Minimum Deployment progressDeadlineSeconds; auto = the Pods\' start-up budget + marginSeconds (never below the API default 600).' },
        marginSeconds: { ...seconds, description: 'Added to the start-up budget by auto (default 300).' },
        surgeOnly: { ...checkLevel, description: 'Require maxUnavailable: 0 so serving capacity never drops while new replicas load (default off).' },
        recreate: { ...checkLevel, description: 'A Deployment with strategy Recreate takes every replica down at once (default off).' },
        minReadySeconds: { ...seconds, description: 'Minimum minReadySeconds of accelerator Deployments and StatefulSets (a LeaderWorkerSet has none).' },
      },
    },
    disruption: {
      type: 'object',
      additionalProperties: false,
      description: 'Disruption protection of long-running accelerator Pods (mutation disruption, audit rule disruption-budget).',
      properties: {
        protect: { enum: ['training', 'all', 'none'], description: 'Which accelerator Pods receive the node autoscalers\' do-not-evict annotations (default training).' },
        budgets: { ...checkLevel, description: 'Audit: a multi-replica accelerator workload without a PodDisruptionBudget in the same input (default warn).' },
      },
    },
    gang: {
      type: 'object',
      additionalProperties: false,
      description: 'Gang admission of multi-worker accelerator workloads (rule gang-scheduling, mutation gang-queue).',
      properties: {
        mode: { enum: ['required', 'preferred', 'off'], description: 'required denies, preferred warns (default off).' },
        paths: { type: 'array', items: gangPath, description: 'The gang-capable paths the namespace may use (default: any).' },
        defaultQueue: { ...name, description: 'Kueue LocalQueue the mutation sets (kueue.x-k8s.io/queue-name) on workloads on no gang path.' },
        schedulerNames: {
          type: 'object',
          additionalProperties: false,
          description: 'schedulerName values of the gang-capable schedulers (defaults: volcano, kai-scheduler, scheduler-plugins-scheduler).',
          properties: { volcano: schedulerNames, kai: schedulerNames, coscheduling: schedulerNames },
        },
      },
    },
    cuda: {
      type: 'object',
      additionalProperties: false,
      description: 'CUDA driver compatibility (rule cuda-compatibility, mutation cuda-affinity).',
      properties: {
        check: { ...checkLevel, description: 'How a CUDA version no reachable pool supports is raised (default warn: data-center drivers may run newer CUDA through forward compatibility, which the rule does not model).' },
        minorVersionCompatibility: { type: 'boolean', description: 'An older driver of the same major version is a warning, not a denial (CUDA minor version compatibility; default true).' },
      },
    },
    images: {
      type: 'object',
      additionalProperties: false,
      description: 'Image pulls of accelerator containers (rule image-pull, mutation image-pull-policy).',
      properties: {
        unpinned: { ...checkLevel, description: 'An image with no tag or :latest is pulled again on every container start (default warn).' },
        pullPolicy: { const: 'IfNotPresent', description: 'Require imagePullPolicy IfNotPresent on pinned images.' },
      },
    },
    costLabels: {
      type: 'object',
      additionalProperties: false,
      description: 'Cost attribution labels on accelerator Pods (rule cost-labels, mutation cost-labels).',
      properties: {
        required: { type: 'array', items: labelKey, description: 'Labels every accelerator Pod must carry.' },
        fromNamespace: { type: 'array', items: labelKey, description: 'Namespace labels copied onto accelerator Pods that lack them.' },
      },
    },
    mutations: {
      type: 'object',
      additionalProperties: false,
      properties: {
        templates: { type: 'boolean', description: 'Also patch Pod templates of controllers and CRDs (GitOps tools will see drift).' },
        tolerations: boolSwitch,
        defaultPoolNodeSelector: boolSwitch,
        startupProbe: boolSwitch,
        terminationGracePeriod: boolSwitch,
        priorityClass: boolSwitch,
        rollout: { type: 'boolean', description: 'Set rollout fields (progressDeadlineSeconds, maxUnavailable/maxSurge, minReadySeconds) on the workload object.' },
        disruption: boolSwitch,
        gangQueue: boolSwitch,
        cudaAffinity: boolSwitch,
        imagePullPolicy: boolSwitch,
        costLabels: boolSwitch,
      },
    },
    clusterScope: {
      type: 'object',
      additionalProperties: false,
      description: 'Only on the default policy: how cluster-scoped Pod templates (ClusterTrainingRuntime, ClusterServingRuntime, ...) are judged. They belong to no namespace; their Pods are judged in their own namespace when created.',
      properties: {
        mode: { enum: ['enforce', 'warn', 'audit'] },
        rules: { type: 'array', items: ruleId, description: 'Rules that judge them (default: accelerator-limits, accelerator-quantity, node-selection, pool-selection).' },
      },
    },
    nodeAgents: {
      type: 'array',
      description: 'DaemonSets of the governed namespaces that are node agents (exporters, device plugins): their templates, and the Pods the DaemonSet controller creates for them, may tolerate GPU pool taints (gpu-squatting). Any other DaemonSet is judged like any workload.',
      items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name } },
    },
    namespaceLabelAdmins: {
      type: 'object',
      additionalProperties: false,
      description: 'Only on the default policy: the identities that may add, change or remove the namespace labels any NamespacePolicy selects on (the namespace-labels guard of the validating webhook). Unset: the guard is off.',
      properties: {
        users: { type: 'array', items: { type: 'string', minLength: 1 } },
        groups: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    exemptions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rules'],
        properties: {
          rules: { type: 'array', minItems: 1, items: ruleId },
          ownerKinds: { type: 'array', items: { type: 'string', minLength: 1 } },
          serviceAccounts: { type: 'array', items: name },
          users: { type: 'array', items: { type: 'string', minLength: 1 } },
          groups: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
    },
  },
};

function documentOf(kind: string, spec: object): object {
  return {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    additionalProperties: false,
    properties: {
      apiVersion: { const: 'gpu-admission.io/v1alpha1' },
      kind: { const: kind },
      metadata,
      spec,
    },
  };
}

/** The cluster-wide answer to "what counts as an accelerator", the same for serve and audit. */
const acceleratorConfigSpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    resources: { type: 'array', items: resourceName, description: 'Extended resources that allocate accelerators, added to the built-in vendor list.' },
    ignore: { type: 'array', items: resourceName, description: 'Resources that never count (a share\'s memory or cores, monitoring), beside the built-in ones.' },
    guessByName: { type: 'boolean', description: 'Count unknown resources whose name says gpu, npu, tpu, mlu, dcu, xpu, gcu or accelerator, as assumed accelerators (default true).' },
  },
};

export const gpuPoolSchema = documentOf('GpuPool', gpuPoolSpec);
export const namespacePolicySchema = documentOf('NamespacePolicy', namespacePolicySpec);
export const acceleratorConfigSchema = documentOf('AcceleratorConfig', acceleratorConfigSpec);

/** The editor-facing schema: either kind, chosen by `kind`. */
export const policyFileSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://gpu-admission.io/schemas/v1alpha1/policy.json',
  title: 'gpu-admission policy document (GpuPool, NamespacePolicy or AcceleratorConfig)',
  type: 'object',
  required: ['apiVersion', 'kind'],
  properties: { kind: { enum: ['GpuPool', 'NamespacePolicy', 'AcceleratorConfig'] } },
  if: { properties: { kind: { const: 'GpuPool' } } },
  then: gpuPoolSchema,
  else: {
    if: { properties: { kind: { const: 'AcceleratorConfig' } } },
    then: acceleratorConfigSchema,
    else: namespacePolicySchema,
  },
};
