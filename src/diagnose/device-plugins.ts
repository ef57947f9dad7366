/**
 * The DaemonSet that should make nodes advertise an accelerator resource.
 *
 * Names as the projects ship them: NVIDIA k8s-device-plugin's static manifest
 * (nvidia-device-plugin.yml: DaemonSet nvidia-device-plugin-daemonset in kube-system) and the GPU
 * Operator's state-device-plugin (nvidia-device-plugin-daemonset in the operator's namespace,
 * gpu-operator by default); ROCm/k8s-device-plugin k8s-ds-amdgpu-dp.yaml
 * (amdgpu-device-plugin-daemonset in kube-system); Intel device plugins (intel-gpu-plugin).
 * Helm releases prefix their own names, so any DaemonSet whose name holds "device-plugin" (or
 * "gpu-plugin") is taken as a candidate too.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';

interface Expected {
  prefix: string;
  names: string[];
  install: string;
}

const EXPECTED: Expected[] = [
  { prefix: 'nvidia.com/', names: ['nvidia-device-plugin-daemonset'], install: 'the NVIDIA GPU Operator (namespace gpu-operator) or the NVIDIA device plugin (kube-system)' },
  { prefix: 'amd.com/', names: ['amdgpu-device-plugin-daemonset'], install: 'the AMD GPU Operator or ROCm/k8s-device-plugin (kube-system)' },
  { prefix: 'gpu.intel.com/', names: ['intel-gpu-plugin'], install: 'the Intel device plugins operator (GpuDevicePlugin)' },
  { prefix: 'habana.ai/', names: ['habanalabs-device-plugin-daemonset'], install: 'the Habana (Intel Gaudi) device plugin' },
  { prefix: 'aws.amazon.com/', names: ['neuron-device-plugin-daemonset'], install: 'the AWS Neuron device plugin' },
];

export function expectedPlugin(resource: string): { names: string[]; install: string } {
  const e = EXPECTED.find((x) => resource.startsWith(x.prefix));
  if (e) return { names: e.names, install: e.install };
  if (resource === 'google.com/tpu') return { names: [], install: 'a GKE TPU node pool (GKE runs the TPU device plugin itself)' };
  return { names: [], install: `the device plugin of the vendor of ${resource}` };
}

/** DaemonSets that look like the resource's device plugin: the expected names first, then name heuristics. */
export function pluginDaemonSets(resource: string, all: V1DaemonSet[]): V1DaemonSet[] {
  const { names } = expectedPlugin(resource);
  const vendor = resource.split('/')[0]?.split('.')[0] ?? '';
  return all.filter((d) => {
    const n = d.metadata?.name ?? '';
    if (names.includes(n)) return true;
    return /device-plugin|gpu-plugin/.test(n) && (vendor === '' || n.includes(vendor) || (vendor === 'amd' && n.includes('amdgpu')));
  });
}
