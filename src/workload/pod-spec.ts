import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { PodSpecTarget } from './target.js';
import { escapeToken, pointerToPath } from '../util/pointer.js';
import { kindKey, WORKLOAD_KINDS, workloadKind } from './kinds.js';
import { virtualTargets } from './virtual-specs.js';
import { isObject } from '../util/json.js';

export interface GroupKind {
  group: string;
  kind: string;
}

type Json = Record<string, unknown>;

export function handlesKind(gk: GroupKind): boolean {
  return workloadKind(gk) !== undefined;
}

/** Every kind with Pod specs, as `group/Kind` (core group empty), for docs and webhook rules. */
export function supportedKinds(): string[] {
  return WORKLOAD_KINDS.map(kindKey);
}


interface Found {
  value: unknown;
  pointer: string;
}

function expand(root: unknown, pattern: string): Found[] {
  let found: Found[] = [{ value: root, pointer: '' }];
  for (const seg of pattern.split('/').slice(1)) {
    const next: Found[] = [];
    for (const f of found) {
      if (seg === '*') {
        if (Array.isArray(f.value)) f.value.forEach((v, i) => next.push({ value: v, pointer: `${f.pointer}/${i}` }));
        else if (isObject(f.value)) for (const [k, v] of Object.entries(f.value)) next.push({ value: v, pointer: `${f.pointer}/${escapeToken(k)}` });
      } else if (isObject(f.value) && Object.hasOwn(f.value, seg)) {
        next.push({ value: f.value[seg], pointer: `${f.pointer}/${seg}` });
      }
    }
    found = next;
  }
  return found;
}

/** The Pod specs of an embedded object of a kind of the table (one level: no embedded in embedded). */
function embeddedTargets(object: Json, pointer: string): PodSpecTarget[] {
  const [inner] = expand(object, pointer);
  if (!inner || !isObject(inner.value)) return [];
  const apiVersion = typeof inner.value['apiVersion'] === 'string' ? inner.value['apiVersion'] : '';
  const gk = { group: apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '', kind: String(inner.value['kind'] ?? '') };
  const k = workloadKind(gk);
  if (!k || 'embedded' in k.podSpecs) return [];
  return findPodSpecs(gk, inner.value).map((t) => {
    const at = `${inner.pointer}${t.pointer}`;
    return { ...t, pointer: at, path: pointerToPath(at), isTemplate: true, ...(t.metadataPointer !== undefined ? { metadataPointer: `${inner.pointer}${t.metadataPointer}` } : {}) };
  });
}

/** The Pod specs an object carries, with their JSON pointers and message paths. */
export function findPodSpecs(gk: GroupKind, object: unknown): PodSpecTarget[] {
  if (!isObject(object)) return [];
  const kind = workloadKind(gk);
  if (!kind) return [];
  const key = kindKey(kind);
  const locator = kind.podSpecs;
  const fills = kind.fills;
  if ('virtual' in locator) return virtualTargets(key, object).map((t) => (fills ? { ...t, fills } : t));
  if ('embedded' in locator) return embeddedTargets(object, locator.embedded);
  const targets: PodSpecTarget[] = [];
  for (const pattern of locator.patterns) {
    const filled = fills && (!fills.patterns || fills.patterns.includes(pattern)) ? fills : undefined;
    for (const f of expand(object, pattern)) {
      if (!isObject(f.value)) continue;
      const holder = locator.podSpec ? { spec: f.value } : f.value;
      if (!isObject(holder['spec'])) continue;
      const pointer = locator.podSpec ? f.pointer : `${f.pointer}/spec`;
      targets.push({
        spec: holder['spec'] as unknown as V1PodSpec,
        pointer,
        path: pointerToPath(pointer),
        metadata: isObject(holder['metadata']) ? (holder['metadata'] as V1ObjectMeta) : undefined,
        // A PodSpec without its template (podSpec kinds) has no metadata of its own to patch.
        ...(locator.podSpec ? {} : { metadataPointer: `${f.pointer}/metadata` }),
        isTemplate: key !== '/Pod',
        ...(filled ? { fills: filled } : {}),
      });
    }
  }
  return targets;
}
