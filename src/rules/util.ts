import type { Finding, PodAnalysis, RuleResult } from '../engine/types.js';
import type { GpuPool } from '../policy/types.js';
import { describeTaint, repelling, untolerated } from '../scheduling/tolerations.js';
import { controllerRefOf } from '../workload/kinds.js';

export function at(a: PodAnalysis, relative: string): string {
  return `${a.target.path}.${relative}`;
}

export function finding(ruleId: string, path: string, message: string, fix: string): Finding {
  return { ruleId, path, message, fix };
}

export function quote(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v);
}

export function poolList(pools: GpuPool[]): string {
  return pools.map((p) => p.name).join(', ') || 'none';
}

export function describePool(p: GpuPool): string {
  const labels = Object.entries(p.nodeLabels).map(([k, v]) => `${k}=${v}`).join(',');
  const taints = repelling(p.taints).map(describeTaint).join(',');
  return `${p.name} (${labels}${taints ? `; taints ${taints}` : ''})`;
}

const PASS: RuleResult = Object.freeze({ status: 'pass' });

export function pass(): RuleResult {
  return PASS;
}

export function skip(reason: string): RuleResult {
  return { status: 'skip', reason };
}

/** Fails with the findings, or passes when there are none. */
export function fail(findings: Finding[]): RuleResult {
  return findings.length > 0 ? { status: 'fail', findings } : PASS;
}

/**
 * Whether the Pod can reach accelerator devices: it requests one (or a claim that may allocate
 * one), is bound by spec.nodeName to a GPU pool node, or may land on a GPU pool (its selection
 * may match the pool and it tolerates every taint that keeps other Pods off). Returns a reason
 * for the message, or undefined when it cannot reach a GPU node.
 */
export function acceleratorReach(a: PodAnalysis): string | undefined {
  if (a.acc.isAcceleratorPod) return 'the Pod requests an accelerator';
  if (a.acc.unclassified.length > 0) return 'a resource claim of the Pod may allocate an accelerator';
  if (a.selection.nodeName) {
    // spec.nodeName skips the scheduler: taints do not keep the Pod off. Without a cluster view of
    // the node, every pool the selection allows is an upper bound.
    const pools = a.candidates.selected;
    return pools.length > 0 ? `spec.nodeName may bind it to a node of GPU pool ${poolList(pools)}` : undefined;
  }
  const tolerations = Array.isArray(a.target.spec.tolerations) ? a.target.spec.tolerations : [];
  const pools = a.candidates.selected.filter((p) => untolerated(tolerations, p.taints).length === 0);
  return pools.length > 0 ? `the Pod can land on GPU pool ${poolList(pools)}` : undefined;
}

/**
 * `Kind name` of the controller (an ownerReference with controller: true) that manages a workload
 * object, read defensively (ownerReferences of the wrong type are ignored).
 */
export function controllerOwner(meta: { ownerReferences?: unknown } | undefined): string | undefined {
  const ref = controllerRefOf(meta?.ownerReferences);
  return ref ? `${String(ref.kind)} ${String(ref.name)}` : undefined;
}
