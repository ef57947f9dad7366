import type { V1Toleration } from '@kubernetes/client-node';
import type { PoolTaint } from '../policy/types.js';

/** Kubernetes toleration matching (k8s.io/api/core/v1 Toleration.ToleratesTaint). */
export function tolerates(t: V1Toleration, taint: PoolTaint): boolean {
  if (!t || typeof t !== 'object') return false;
  if (t.effect && t.effect !== taint.effect) return false;
  const op = t.operator || 'Equal'; // the API accepts operator "" as Equal
  if (!t.key) return op === 'Exists';
  if (t.key !== taint.key) return false;
  if (op === 'Exists') return true;
  return op === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}

/** Taints that keep Pods off a node: NoSchedule and NoExecute (PreferNoSchedule only discourages). */
export function repelling(taints: PoolTaint[]): PoolTaint[] {
  return taints.filter((t) => t.effect !== 'PreferNoSchedule');
}

export function untolerated(tolerations: V1Toleration[] | undefined, taints: PoolTaint[]): PoolTaint[] {
  const list = Array.isArray(tolerations) ? tolerations : [];
  return repelling(taints).filter((taint) => !list.some((t) => tolerates(t, taint)));
}

export function tolerationFor(taint: PoolTaint): V1Toleration {
  return taint.value === undefined || taint.value === ''
    ? { key: taint.key, operator: 'Exists', effect: taint.effect }
    : { key: taint.key, operator: 'Equal', value: taint.value, effect: taint.effect };
}

export function describeTaint(t: PoolTaint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}
