import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { PodSpecTarget } from '../engine/types.js';

export interface GroupKind {
  group: string;
  kind: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Pod specs an object carries, with their JSON pointers. Only core Pods for now. */
export function findPodSpecs(gk: GroupKind, object: unknown): PodSpecTarget[] {
  if (!isObject(object)) return [];
  if (gk.group === '' && gk.kind === 'Pod' && isObject(object['spec'])) {
    return [{
      spec: object['spec'] as unknown as V1PodSpec,
      pointer: '/spec',
      path: 'spec',
      metadata: isObject(object['metadata']) ? (object['metadata'] as V1ObjectMeta) : undefined,
      isTemplate: false,
    }];
  }
  return [];
}

export function handlesKind(gk: GroupKind): boolean {
  return gk.group === '' && gk.kind === 'Pod';
}
