/** JSON Pointer (RFC 6901) helpers shared by the engine, the shape check, policy errors and the audit. */

export function escapeToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function tokens(pointer: string): string[] {
  return pointer.split('/').slice(1).map(unescapeToken);
}

/** The value a pointer names, or undefined when the path does not exist. */
export function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const t of tokens(pointer)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[t];
  }
  return v;
}

/**
 * The path as kubectl spells it: `/spec/nodeSelector/cloud.google.com~1gke-accelerator` ->
 * `spec.nodeSelector[cloud.google.com/gke-accelerator]`; indices and keys with dots or slashes go
 * in brackets.
 */
export function pointerToPath(pointer: string): string {
  return tokens(pointer).reduce((acc, t) => {
    if (/^(\d+|-)$/.test(t) || /[./]/.test(t)) return `${acc}[${t}]`;
    return acc ? `${acc}.${t}` : t;
  }, '');
}

/** `base` + a path relative to it (`spec` + `containers[0]`, `spec` + `[0]`). */
export function joinPath(base: string, relative: string): string {
  if (!relative) return base;
  if (!base) return relative;
  return relative.startsWith('[') ? `${base}${relative}` : `${base}.${relative}`;
}
