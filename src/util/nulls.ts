/**
 * Members of map-typed fields (`map[string]string`, `ResourceList`): the API server keeps such an
 * entry written as `null` as a key with the zero value ("" or quantity 0), it does not drop it, so
 * it stays visible to the shape check. Every other member written as `null` is a struct field.
 */
const MAP_FIELDS = new Set(['nodeSelector', 'limits', 'requests', 'labels', 'annotations', 'matchLabels']);

/**
 * A copy without the struct fields whose value is `null`, at any depth: the API server decodes
 * `field: null` into the Go zero value and leaves it out when it encodes the object again, so
 * `tolerations: null`, `nodeSelector: null` or `resources: {requests: null}` are the field left
 * out and a review never carries them. Entries of map-typed fields and array items are kept
 * (array positions are JSON Pointer indices). Returns the input itself when nothing is dropped.
 */
export function withoutNulls<T>(value: T): T {
  return strip(value, false) as T;
}

function strip(value: unknown, isMap: boolean): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const s = strip(v, false);
      if (s !== v) changed = true;
      return s;
    });
    return changed ? out : value;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null && !isMap) {
      changed = true;
      continue;
    }
    const s = isMap ? v : strip(v, MAP_FIELDS.has(k));
    if (s !== v) changed = true;
    // A member named __proto__ (JSON.parse makes it an own property) stays data, never a prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
    else out[k] = s;
  }
  return changed ? out : value;
}
