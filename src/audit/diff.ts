import type { PatchOperation } from '../engine/types.js';
import { pointerToPath, valueAt } from '../util/pointer.js';

export { pointerToPath };

const show = (v: unknown): string => JSON.stringify(v);

/** The patch as lines a person reads: `+ path: value`, `~ path: old -> new`, `- path: old`. */
export function describePatch(original: unknown, patch: PatchOperation[]): string[] {
  return patch.map((op) => {
    const path = pointerToPath(op.path);
    if (op.op === 'add') return `+ ${path}: ${show(op.value)}`;
    if (op.op === 'replace') return `~ ${path}: ${show(valueAt(original, op.path))} -> ${show(op.value)}`;
    if (op.op === 'remove') return `- ${path}: ${show(valueAt(original, op.path))}`;
    return `${op.op} ${path}`;
  });
}
