import { unescapeToken } from '../util/pointer.js';
import type { Operation as PatchOperation } from 'fast-json-patch';
import { isObject, type Json } from '../util/json.js';


/**
 * Edits of fields of the workload object itself (not of its Pod templates), for workload mutators.
 * The request's object stays untouched: set() records JSON Patch operations, creating missing
 * parent objects, and later reads see the values set. Only object members are addressed (no
 * array indices): the fields workload mutators set are all plain struct fields.
 */
export class ObjectEdit {
  readonly ops: PatchOperation[] = [];
  /** Values set so far, by pointer. */
  private readonly written = new Map<string, unknown>();

  constructor(readonly object: Json) {}

  get(pointer: string): unknown {
    if (this.written.has(pointer)) return this.written.get(pointer);
    let cur: unknown = this.object;
    let at = '';
    for (const token of pointer.slice(1).split('/')) {
      at += `/${token}`;
      if (this.written.has(at)) {
        cur = this.written.get(at);
        continue;
      }
      if (!isObject(cur)) return undefined;
      const key = unescapeToken(token);
      cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
    }
    return cur;
  }

  /** Sets `pointer` to `value`, adding `{}` for every missing parent. */
  set(pointer: string, value: unknown): void {
    const tokens = pointer.slice(1).split('/');
    let at = '';
    for (const token of tokens.slice(0, -1)) {
      at += `/${token}`;
      const here = this.get(at);
      if (isObject(here)) continue;
      // A parent written as something else (null, a scalar) is replaced by an object.
      this.ops.push({ op: 'add', path: at, value: {} });
      this.written.set(at, {});
    }
    this.ops.push({ op: 'add', path: pointer, value });
    this.written.set(pointer, value);
  }
}
