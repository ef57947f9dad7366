import type { V1Container } from '@kubernetes/client-node';
import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { containerRefs } from '../workload/accelerators.js';
import { at, fail, finding, quote, skip } from './util.js';

const ID = 'visible-devices';

interface DeviceVariable {
  name: string;
  vendor: string;
  /** Values that expose no device. */
  harmless: readonly string[];
}

/**
 * Environment variables a vendor's container runtime hook reads to decide which devices to put
 * into the container. A Pod that sets one chooses its devices itself, past the device plugin:
 * the kubelet appends the Pod's env after the device plugin's Allocate envs
 * (kubernetes pkg/kubelet/kubelet_pods.go, GenerateRunContainerOptions), so the Pod's value wins,
 * and `all` exposes every device of the node (Bottlerocket PR #3718, NVIDIA/k8s-device-plugin
 * DEVICE_LIST_STRATEGY). Variables that only filter devices already in the container
 * (CUDA_VISIBLE_DEVICES, HIP_/ROCR_VISIBLE_DEVICES, NEURON_RT_VISIBLE_CORES) grant nothing and are
 * not listed.
 */
export const DEVICE_VARIABLES: readonly DeviceVariable[] = [
  // NVIDIA container toolkit (nvidia-container-runtime README, NVIDIA_VISIBLE_DEVICES): a list of
  // indices / UUIDs, or `all`; `none` exposes no GPU (driver libraries only); `void`, empty or
  // unset behave as runc.
  { name: 'NVIDIA_VISIBLE_DEVICES', vendor: 'NVIDIA container toolkit', harmless: ['', 'void', 'none'] },
  // AMD Container Toolkit (amd-container-runtime, instinct.docs.amd.com container-runtime docs):
  // device indices, ranges or `all`.
  { name: 'AMD_VISIBLE_DEVICES', vendor: 'AMD container runtime', harmless: [''] },
  // Intel Gaudi (HabanaAI/habana-container-runtime README): when set in the OCI spec, the prestart
  // hook gives the container the devices it names.
  { name: 'HABANA_VISIBLE_DEVICES', vendor: 'Habana container runtime', harmless: [''] },
  // AWS Neuron OCI hook (Neuron docs, "Tutorial Docker Neuron OCI Hook Setup"): exposes the
  // devices named, `ALL` for every device.
  { name: 'AWS_NEURON_VISIBLE_DEVICES', vendor: 'AWS Neuron OCI hook', harmless: [''] },
];

const byName = new Map(DEVICE_VARIABLES.map((v) => [v.name, v]));

function harmlessText(v: DeviceVariable): string {
  const named = v.harmless.filter((h) => h !== '');
  return named.length > 0 ? `remove it (or set ${named.map((h) => `"${h}"`).join(' / ')})` : 'remove it';
}

const FIX_TAIL = 'request the devices as resources.limits (the device plugin then chooses them)';

/** envFrom sources whose keys, with the prefix, could name a device variable the env does not set. */
function uncheckedSources(c: V1Container, explicit: Set<string>): string[] {
  const sources = Array.isArray(c.envFrom) ? c.envFrom : [];
  const open = DEVICE_VARIABLES.filter((v) => !explicit.has(v.name));
  const out: string[] = [];
  sources.forEach((s, i) => {
    if (!s || typeof s !== 'object') return;
    const prefix = typeof s.prefix === 'string' ? s.prefix : '';
    if (!open.some((v) => v.name.startsWith(prefix))) return;
    const ref = s.configMapRef ? `ConfigMap ${s.configMapRef.name ?? ''}` : s.secretRef ? `Secret ${s.secretRef.name ?? ''}` : undefined;
    if (ref) out.push(`envFrom[${i}] (${ref.trim()})`);
  });
  return out;
}

/**
 * KAI-Scheduler's GPU sharing: for a Pod that requests a fraction (gpu-fraction / gpu-memory
 * annotations), KAI's binder webhook adds NVIDIA_VISIBLE_DEVICES from a ConfigMap key it owns,
 * `VISIBLE_DEVICES` (`RUNAI_VISIBLE_DEVICES` in older releases), and writes the reserved GPU into
 * it before binding (NVIDIA/KAI-Scheduler pkg/binder/common AddVisibleDevicesEnvVars,
 * SetNvidiaVisibleDevices). Mutating webhooks run before validating ones, so this is what we see.
 */
export const KAI_KEYS = new Set(['VISIBLE_DEVICES', 'RUNAI_VISIBLE_DEVICES']);

function kaiSharing(a: PodAnalysis, valueFrom: unknown): boolean {
  if (a.acc.fractions.length === 0 || !valueFrom || typeof valueFrom !== 'object') return false;
  const ref = (valueFrom as { configMapKeyRef?: { key?: unknown } }).configMapKeyRef;
  return typeof ref?.key === 'string' && KAI_KEYS.has(ref.key);
}

function check(a: PodAnalysis): RuleResult {
  if (!a.policy.deviceIsolation.visibleDevices) return skip('the policy turns visible-devices off (spec.deviceIsolation.visibleDevices)');
  const out: Finding[] = [];
  for (const ref of containerRefs(a.target.spec, a.target.containerPaths)) {
    const c = ref.container;
    const name = c.name ?? ref.path;
    const env = Array.isArray(c.env) ? c.env : [];
    const explicit = new Set<string>();
    let kai = false;
    env.forEach((e, i) => {
      if (!e || typeof e !== 'object' || typeof e.name !== 'string') return;
      const v = byName.get(e.name);
      if (!v) return;
      explicit.add(e.name);
      const path = at(a, `${ref.path}.env[${i}]`);
      if (v.name === 'NVIDIA_VISIBLE_DEVICES' && kaiSharing(a, e.valueFrom)) {
        out.push({ ruleId: ID, path, advisory: true,
          message: `container "${name}" takes ${v.name} from ConfigMap ${String(e.valueFrom?.configMapKeyRef?.name ?? '')}, as KAI-Scheduler's GPU sharing sets it for the fraction the Pod requests; its value could not be checked`,
          fix: 'nothing to do if KAI-Scheduler added it; only KAI-Scheduler should be able to write that ConfigMap (RBAC)' });
        kai = true;
        return;
      }
      if (e.valueFrom !== undefined && e.valueFrom !== null) {
        out.push(finding(ID, path,
          `container "${name}" sets ${v.name} from valueFrom, which cannot be checked; the ${v.vendor} gives a container the devices this variable names, past the device plugin`,
          `${harmlessText(v)}; ${FIX_TAIL}`));
        return;
      }
      const value = typeof e.value === 'string' ? e.value : e.value === undefined || e.value === null ? '' : String(e.value);
      if (v.harmless.includes(value)) return;
      out.push(finding(ID, path,
        `container "${name}" sets ${v.name}=${quote(value)}: the ${v.vendor} would give it ${value.toLowerCase() === 'all' ? 'every device of the node' : 'the devices it names'}, whatever it requests`,
        `${harmlessText(v)}; ${FIX_TAIL}`));
    });
    // KAI adds its own envFrom beside it; NVIDIA_VISIBLE_DEVICES is set in env, which envFrom cannot override.
    if (!a.policy.accelerators.allowed || kai) continue;
    const unchecked = uncheckedSources(c, explicit);
    if (unchecked.length > 0) {
      const names = DEVICE_VARIABLES.filter((v) => !explicit.has(v.name)).map((v) => v.name).join(', ');
      out.push({ ruleId: ID, path: at(a, `${ref.path}.envFrom`), advisory: true,
        message: `container "${name}" takes its environment from ${unchecked.join(', ')}; whether that sets ${names} could not be checked`,
        fix: `make sure the source sets none of them, or set ${DEVICE_VARIABLES[0]?.name}="void" in env (env overrides envFrom)` });
    }
  }
  return fail(out);
}

export const visibleDevices: Rule = {
  id: ID,
  summary: 'No container may choose its own devices with NVIDIA_VISIBLE_DEVICES (or AMD_, HABANA_, AWS_NEURON_VISIBLE_DEVICES)',
  fix: 'Remove the variable (or set NVIDIA_VISIBLE_DEVICES to void / none) and request the devices as resource limits',
  check,
};
