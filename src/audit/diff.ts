import type { PatchOperation } from '../engine/evaluate.js';

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `/spec/nodeSelector/cloud.google.com~1gke-accelerator` -> `spec.nodeSelector[cloud.google.com/gke-accelerator]`. */
export function pointerToPath(pointer: string): string {
  return pointer.split('/').slice(1).map(unescape).reduce((acc, t) => {
    if (/^(\d+|-)$/.test(t) || /[./]/.test(t)) return `${acc}[${t}]`;
    return acc ? `${acc}.${t}` : t;
  }, '');
}

function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const t of pointer.split('/').slice(1).map(unescape)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[t];
  }
  return v;
}

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
