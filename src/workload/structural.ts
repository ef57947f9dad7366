import type { V1PodSpec } from '@kubernetes/client-node';
import { escapeToken, pointerToPath } from '../util/pointer.js';
import type { ContainerPath } from './target.js';
import { isObject } from '../util/json.js';

type Json = Record<string, unknown>;


/** A place in an object of an unknown kind that looks like a Pod spec: a `containers` array of objects. */
export interface PodShape {
  spec: V1PodSpec;
  pointer: string;
  path: string;
  /** Set for a bare `resources` block outside any container (e.g. `deploymentConfig.resources`). */
  containerPaths?: ContainerPath[];
}

/** Bounds of the walk: far above any real custom resource, low enough for a hostile 3 MiB body. */
export const STRUCTURAL_LIMITS = { depth: 24, nodes: 50_000, shapes: 256 } as const;

const isContainerList = (v: unknown): v is Json[] => Array.isArray(v) && v.length > 0 && v.every(isObject);
const isResources = (v: unknown): v is Json => isObject(v) && (isObject(v['limits']) || isObject(v['requests']));

/**
 * Every object (`metadata` and `status` aside) holding a `containers` array of objects, with its
 * `initContainers`: the Pod-shaped parts of a kind the kind table does not know (a Katib
 * Experiment's trialTemplate, any CRD). A `resources` block with limits or requests outside any
 * container (a CRD's `deploymentConfig.resources`) counts as one container of its own.
 */
export function findPodShapes(object: unknown): PodShape[] {
  const found: PodShape[] = [];
  if (!isObject(object)) return found;
  let nodes = 0;
  const stack: { value: unknown; pointer: string; depth: number }[] = [];
  for (const [k, v] of Object.entries(object)) if (k !== 'metadata' && k !== 'status') stack.push({ value: v, pointer: `/${escapeToken(k)}`, depth: 1 });
  while (stack.length > 0 && nodes < STRUCTURAL_LIMITS.nodes && found.length < STRUCTURAL_LIMITS.shapes) {
    const { value, pointer, depth } = stack.pop() as { value: unknown; pointer: string; depth: number };
    nodes += 1;
    if (depth > STRUCTURAL_LIMITS.depth) continue;
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, pointer: `${pointer}/${i}`, depth: depth + 1 }));
      continue;
    }
    if (!isObject(value)) continue;
    if (isContainerList(value['containers'])) {
      const spec: Json = { containers: value['containers'] };
      if (isContainerList(value['initContainers'])) spec['initContainers'] = value['initContainers'];
      found.push({ spec: spec as unknown as V1PodSpec, pointer, path: pointerToPath(pointer) });
    } else if (isResources(value['resources'])) {
      const spec = { containers: [{ name: pointer.split('/').pop() || 'resources', resources: value['resources'] }] };
      found.push({ spec: spec as unknown as V1PodSpec, pointer, path: pointerToPath(pointer), containerPaths: [{ path: 'resources', resourcesPath: 'resources' }] });
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === 'containers' || k === 'initContainers') continue;
      if (v !== null && typeof v === 'object') stack.push({ value: v, pointer: `${pointer}/${escapeToken(k)}`, depth: depth + 1 });
    }
  }
  return found.sort((a, b) => a.pointer.localeCompare(b.pointer));
}
