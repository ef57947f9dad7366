import { posix } from 'node:path';
import type { Finding, PodAnalysis, Rule, RuleResult } from '../engine/types.js';
import { acceleratorReach, at, fail, finding, quote, skip } from './util.js';

const ID = 'device-hostpath';

/**
 * Device nodes of accelerators under /dev: NVIDIA (/dev/nvidia0, nvidiactl, nvidia-uvm,
 * nvidia-caps), DRM render nodes (/dev/dri, Intel and AMD GPUs), AMD compute (/dev/kfd), the
 * kernel accel subsystem (/dev/accel, Intel Gaudi and NPUs), AWS Neuron (/dev/neuron*), Habana
 * legacy (/dev/hl*), Huawei Ascend (/dev/davinci*), VFIO passthrough (/dev/vfio).
 */
export const DEVICE_PREFIXES = ['nvidia', 'dri', 'kfd', 'accel', 'neuron', 'hl', 'davinci', 'vfio'];

/**
 * The normalised path (`..`, `.`, repeated and trailing slashes resolved) when it is the root,
 * /dev or an accelerator device under it; undefined otherwise. A relative or ill-typed path is the
 * API server's to reject.
 */
export function devicePath(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || !raw.startsWith('/')) return undefined;
  const p = posix.normalize(raw).replace(/\/+$/, '') || '/';
  if (p === '/' || p === '/dev') return p;
  const m = /^\/dev\/([^/]+)/.exec(p);
  if (!m) return undefined;
  const first = m[1] as string;
  return DEVICE_PREFIXES.some((d) => first.startsWith(d)) ? p : undefined;
}

function check(a: PodAnalysis): RuleResult {
  if (!a.policy.deviceIsolation.hostPaths) return skip('the policy turns device-hostpath off (spec.deviceIsolation.hostPaths)');
  if (a.target.partial) return skip('node selection and tolerations live elsewhere (partial template)');
  const volumes = Array.isArray(a.target.spec.volumes) ? a.target.spec.volumes : [];
  if (!volumes.some((v) => v && typeof v === 'object' && v.hostPath)) return skip('no hostPath volume');
  const reach = acceleratorReach(a);
  if (!reach) return skip('the Pod can reach no accelerator (no request, no GPU pool it may land on)');
  const out: Finding[] = [];
  volumes.forEach((v, i) => {
    if (!v || typeof v !== 'object' || !v.hostPath) return;
    const p = devicePath(v.hostPath.path);
    if (!p) return;
    const what = p === '/' ? 'the root of the node, /dev included' : p === '/dev' ? 'every device of the node' : `accelerator device ${p}`;
    out.push(finding(ID, at(a, `volumes[${i}].hostPath.path`),
      `volume "${v.name ?? i}" mounts hostPath ${quote(v.hostPath.path)}, ${what}, and ${reach}: it reaches GPUs past the device plugin`,
      'remove the hostPath volume and request the accelerators as resources.limits; node agents belong in a namespace of an exempt NamespacePolicy'));
  });
  return fail(out);
}

export const deviceHostpath: Rule = {
  id: ID,
  summary: 'No hostPath volume of /, /dev or an accelerator device (/dev/nvidia*, /dev/dri, /dev/kfd, /dev/accel*, /dev/neuron*, /dev/vfio, ...) in Pods that request accelerators or can land on GPU pools',
  fix: 'Remove the hostPath volume and request the accelerators as resource limits',
  check,
};
