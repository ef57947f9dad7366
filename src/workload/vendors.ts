/**
 * What counts as an accelerator, as data: the extended resources device plugins advertise for
 * accelerators, the resources that only qualify a share of one (memory, cores: never an
 * allocation of a device), and the Pod annotations GPU-sharing schedulers read. Each entry names
 * where its names were checked.
 */

export interface VendorResources {
  vendor: string;
  /** Resource names; `*` globs allowed. */
  names: readonly string[];
  source: string;
}

export const ACCELERATOR_VENDORS: readonly VendorResources[] = [
  { vendor: 'NVIDIA', names: ['nvidia.com/gpu', 'nvidia.com/gpu.shared', 'nvidia.com/mig-*'],
    source: 'NVIDIA k8s-device-plugin: nvidia.com/gpu, MIG mixed strategy nvidia.com/mig-<g>g.<mem>gb, time-slicing/MPS renameByDefault nvidia.com/gpu.shared' },
  { vendor: 'AMD', names: ['amd.com/gpu', 'amd.com/*_nps*'],
    source: 'ROCm/k8s-device-plugin resource_naming_strategy: single amd.com/gpu; mixed names partitions by mode (amd.com/cpx_nps4, amd.com/spx_nps1)' },
  { vendor: 'Intel GPU', names: ['gpu.intel.com/i915', 'gpu.intel.com/xe'],
    source: 'intel-device-plugins-for-kubernetes GPU plugin (the *_monitoring resources are not allocations)' },
  { vendor: 'Google TPU', names: ['google.com/tpu'], source: 'GKE TPU node pools' },
  { vendor: 'AWS Neuron', names: ['aws.amazon.com/neuron', 'aws.amazon.com/neuroncore', 'aws.amazon.com/neurondevice'],
    source: 'AWS Neuron device plugin' },
  { vendor: 'Habana Gaudi', names: ['habana.ai/gaudi'], source: 'Habana device plugin' },
  { vendor: 'Huawei Ascend', names: ['huawei.com/Ascend*'],
    source: 'Ascend mind-cluster ascend-device-plugin (huawei.com/Ascend910, Ascend310, Ascend310P); HAMi ascend-device-plugin (huawei.com/Ascend910B3, ...)' },
  { vendor: 'Cambricon', names: ['cambricon.com/mlu', 'cambricon.com/mlu*', 'cambricon.com/vmlu'],
    source: 'Cambricon device plugin (cambricon.com/mlu, mlu370 with device types, mlu.share, mlu.mim-*); HAMi cambricon.com/vmlu' },
  { vendor: 'Hygon', names: ['hygon.com/dcu', 'hygon.com/dcunum', 'hygon.com/hcunum'],
    source: 'HAMi docs/hygon-dcu-support.md (hygon.com/dcunum) and charts/hami/values.yaml (hygon.com/hcunum)' },
  { vendor: 'MetaX', names: ['metax-tech.com/gpu', 'metax-tech.com/sgpu'], source: 'MetaX GPU operator; HAMi metax-tech.com/sgpu' },
  { vendor: 'Iluvatar', names: ['iluvatar.ai/gpu', 'iluvatar.ai/vgpu', 'iluvatar.ai/*-vgpu'],
    source: 'Iluvatar device plugin (iluvatar.ai/gpu); HAMi iluvatar.ai/vgpu and per-model iluvatar.ai/<model>-vgpu' },
  { vendor: 'Enflame', names: ['enflame.com/gcu', 'enflame.com/vgcu', 'enflame.com/drs-gcu', 'enflame.com/shared-gcu'],
    source: 'Enflame device plugin (enflame.com/gcu); HAMi enflame.com/vgcu, enflame.com/drs-gcu' },
  { vendor: 'Moore Threads', names: ['mthreads.com/vgpu'], source: 'HAMi mthreads.com/vgpu' },
  { vendor: 'Kunlunxin', names: ['kunlunxin.com/xpu', 'kunlunxin.com/vxpu'], source: 'HAMi charts/hami/values.yaml' },
  { vendor: 'Biren', names: ['birentech.com/gpu'], source: 'HAMi charts/hami/values.yaml' },
  { vendor: 'Vastai', names: ['vastaitech.com/va'], source: 'HAMi charts/hami/values.yaml' },
  { vendor: 'FuriosaAI', names: ['furiosa.ai/rngd', 'furiosa.ai/rngd-*', 'beta.furiosa.ai/npu'], source: 'Furiosa device plugin resource strategies' },
  { vendor: 'Volcano vGPU', names: ['volcano.sh/vgpu-number'], source: 'Volcano GPU virtualization (volcano-vgpu-device-plugin)' },
];

/**
 * Resources that qualify a share of a device (its memory, its cores, a priority) or only monitor
 * it: they come beside the allocation and are never one. They win over the globs above and over
 * the name heuristic, not over a name listed exactly.
 */
export const NOT_ACCELERATORS: readonly VendorResources[] = [
  { vendor: 'NVIDIA (HAMi)', names: ['nvidia.com/gpumem', 'nvidia.com/gpumem-percentage', 'nvidia.com/gpucores', 'nvidia.com/priority'],
    source: 'HAMi charts/hami/values.yaml resourceMem, resourceMemPercentage, resourceCores, resourcePriority' },
  { vendor: 'Intel GPU', names: ['gpu.intel.com/*_monitoring', 'gpu.intel.com/millicores', 'gpu.intel.com/memory.max', 'gpu.intel.com/tiles'],
    source: 'intel-device-plugins-for-kubernetes GPU plugin: monitoring resources, GPU Aware Scheduling fractional resources' },
  { vendor: 'Huawei Ascend (HAMi)', names: ['huawei.com/Ascend*-memory', 'huawei.com/Ascend*-core'], source: 'HAMi ascend-device-configmap resourceMemoryName, resourceCoreName' },
  { vendor: 'Cambricon (HAMi)', names: ['cambricon.com/*.smlu.vmemory', 'cambricon.com/*.smlu.vcore'], source: 'HAMi mluResourceMem, mluResourceCores' },
  { vendor: 'Hygon (HAMi)', names: ['hygon.com/dcumem', 'hygon.com/dcucores', 'hygon.com/hcumem', 'hygon.com/hcucores'], source: 'HAMi docs/hygon-dcu-support.md, values.yaml' },
  { vendor: 'MetaX (HAMi)', names: ['metax-tech.com/vcore', 'metax-tech.com/vmemory'], source: 'HAMi examples/metax/sgpu' },
  { vendor: 'Iluvatar (HAMi)', names: ['iluvatar.ai/vcuda-memory', 'iluvatar.ai/vcuda-core', 'iluvatar.ai/*-memory', 'iluvatar.ai/*-core', 'iluvatar.ai/*.vCore'],
    source: 'HAMi iluvatar device: IluvatarResourceMemory, IluvatarResourceCores and per-model templates' },
  { vendor: 'Enflame (HAMi)', names: ['enflame.com/gcu-memory', 'enflame.com/gcu-core', 'enflame.com/vgcu-percentage'], source: 'HAMi values.yaml enflameResourceNameGCUMemory/GCUCore, vgcu-percentage' },
  { vendor: 'Moore Threads (HAMi)', names: ['mthreads.com/sgpu-memory', 'mthreads.com/sgpu-core'], source: 'HAMi mthreads device' },
  { vendor: 'Kunlunxin (HAMi)', names: ['kunlunxin.com/vxpu-memory'], source: 'HAMi values.yaml kunlunResourceVMemoryName' },
  { vendor: 'Biren', names: ['birentech.com/vcuda-core', 'birentech.com/vcuda-memory'], source: 'HAMi biren examples' },
  { vendor: 'Volcano vGPU', names: ['volcano.sh/vgpu-memory', 'volcano.sh/vgpu-cores'], source: 'Volcano GPU virtualization' },
];

export const KNOWN_ACCELERATOR_RESOURCES: readonly string[] = ACCELERATOR_VENDORS.flatMap((v) => v.names);
export const NON_ACCELERATOR_RESOURCES: readonly string[] = NOT_ACCELERATORS.flatMap((v) => v.names);

/** Words of a resource name that say "a device": gpu, vgpu, npu, tpu, mlu, dcu, xpu, gcu, accelerator. */
export const DEVICE_WORD = /^v?(gpu|npu|tpu|mlu|dcu|xpu|gcu|accelerator)s?[0-9]*$/i;
/** Words that say "a share of one": its memory, cores, a percentage, monitoring. */
export const SHARE_WORD = /^(v?mem(ory)?|v?cores?|millicores|percentage|monitoring|priority|count|max)$/i;

/**
 * The heuristic for vendors nobody listed: the name part of `domain/name` has a device word and
 * no share word (`example.com/npu` yes; `example.com/gpu-memory`, `nvidia.com/gpumem` no).
 * Kubernetes' own names (`*.kubernetes.io/`, `hugepages-*`) never count.
 */
export function looksLikeAccelerator(resource: string): boolean {
  const slash = resource.indexOf('/');
  if (slash <= 0) return false;
  const domain = resource.slice(0, slash);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io') || domain.endsWith('.k8s.io')) return false;
  const words = resource.slice(slash + 1).split(/[-._]/);
  return words.some((w) => DEVICE_WORD.test(w)) && !words.some((w) => SHARE_WORD.test(w));
}

export interface FractionAnnotation {
  key: string;
  /** The resource the share is taken from. */
  resource: string;
  source: string;
}

/**
 * Pod annotations that request a share of a GPU without any extended resource: the scheduler
 * that reads them places the Pod on a GPU node.
 */
export const FRACTION_ANNOTATIONS: readonly FractionAnnotation[] = [
  { key: 'gpu-fraction', resource: 'nvidia.com/gpu', source: 'KAI-Scheduler docs/gpu-sharing (annotation gpu-fraction: "0.5")' },
  { key: 'gpu-memory', resource: 'nvidia.com/gpu', source: 'KAI-Scheduler docs/gpu-sharing (annotation gpu-memory: "2000", MiB)' },
];
