import jsonpatch from 'fast-json-patch';

import type { PatchOperation } from '../engine/types.js';


/** A patch the API server would refuse: the mutating call then fails whatever failurePolicy says. */
export class PatchError extends Error {
  constructor(message: string, readonly index?: number, readonly operation?: unknown) {
    super(message);
    this.name = 'PatchError';
  }
}

type Container = Record<string, unknown> | unknown[];

interface Location {
  parent: Container;
  key: string;
}

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);
const INDEX = /^\d+$/;

function isContainer(v: unknown): v is Container {
  return v !== null && typeof v === 'object';
}

function child(c: Container, key: string): unknown {
  if (Array.isArray(c)) return INDEX.test(key) && Number(key) < c.length ? c[Number(key)] : undefined;
  return Object.hasOwn(c, key) ? c[key] : undefined;
}

/**
 * evanphx/json-patch `findObject`: every token but the last must name an existing object or
 * array. The root pointer `""` has no parent, so it never resolves (the API server refuses it too).
 */
function locate(doc: unknown, path: string): Location | undefined {
  if (!path.startsWith('/')) return undefined;
  const tokens = path.slice(1).split('/').map(jsonpatch.unescapePathComponent);
  const key = tokens.pop() as string;
  let cur: unknown = doc;
  for (const t of tokens) {
    if (!isContainer(cur)) return undefined;
    cur = child(cur, t);
  }
  return isContainer(cur) ? { parent: cur, key } : undefined;
}

function has(loc: Location): boolean {
  return child(loc.parent, loc.key) !== undefined;
}

/** One operation against the document so far; `doc` is replaced as fast-json-patch applies it. */
class Step {
  constructor(readonly index: number, readonly op: PatchOperation, public doc: unknown) {}

  fail(reason: string): never {
    throw new PatchError(`JSON Patch operation ${this.index} (${this.op.op} ${this.op.path}) does not apply: ${reason}`, this.index, this.op);
  }

  find(path: string, what = 'path'): Location {
    return locate(this.doc, path) ?? this.fail(`doc is missing ${what}: "${path}"`);
  }

  /** fast-json-patch does the change once the API server's preconditions hold. */
  run(op: PatchOperation): void {
    try {
      this.doc = jsonpatch.applyOperation(this.doc, op, true, true, true, this.index).newDocument;
    } catch (err) {
      this.fail((err as Error).message.split('\n')[0] ?? 'invalid operation');
    }
  }

  add(path: string, value: unknown): void {
    const loc = this.find(path);
    if (Array.isArray(loc.parent) && loc.key !== '-') {
      // evanphx also takes negative indices from the end; nothing we emit uses them, so refuse.
      if (!INDEX.test(loc.key)) this.fail(`"${loc.key}" is not a proper array index`);
      if (Number(loc.key) > loc.parent.length) this.fail(`Unable to access invalid index: ${loc.key} (array has ${loc.parent.length} items)`);
    }
    this.run({ op: 'add', path, value });
  }

  /** Value at `path`, which must exist. */
  read(path: string, what = 'path'): unknown {
    const loc = this.find(path, what);
    if (!has(loc)) this.fail(`doc is missing key: "${path}"`);
    return child(loc.parent, loc.key);
  }

  remove(path: string, what = 'path'): void {
    this.read(path, what);
    this.run({ op: 'remove', path });
  }

  // evanphx before v4.12 let `replace` of a missing object key act as `add`; newer ones, and we, refuse.
  replace(path: string, value: unknown): void {
    this.read(path);
    this.run({ op: 'replace', path, value });
  }
}

function shapeCheck(op: unknown, index: number): asserts op is PatchOperation {
  const kind = isContainer(op) && !Array.isArray(op) ? op['op'] : undefined;
  if (typeof kind !== 'string' || !OPS.has(kind)) {
    throw new PatchError(`JSON Patch operation ${index} has an unknown op ${JSON.stringify(kind)}`, index, op);
  }
  try {
    jsonpatch.validator(op as PatchOperation, index);
  } catch (err) {
    throw new PatchError(`JSON Patch operation ${index} is malformed: ${(err as Error).message.split('\n')[0]}`, index, op);
  }
}

/**
 * Applies a JSON Patch the way kube-apiserver does (evanphx/json-patch), on a copy: `add` under a
 * missing parent fails ("doc is missing path"), `remove`/`replace` need an existing target, an
 * array `add` index may be `-` or at most the length. Throws PatchError naming the operation.
 */
export function applyLikeApiServer<T>(doc: T, ops: readonly unknown[]): T {
  let current: unknown = jsonpatch.deepClone(doc);
  ops.forEach((op, index) => {
    shapeCheck(op, index);
    const step = new Step(index, op, current);
    switch (op.op) {
      case 'add': step.add(op.path, op.value); break;
      case 'remove': step.remove(op.path); break;
      case 'replace': step.replace(op.path, op.value); break;
      case 'move': {
        const value = step.read(op.from, 'from path');
        step.remove(op.from, 'from path');
        step.add(op.path, value);
        break;
      }
      case 'copy': step.add(op.path, jsonpatch.deepClone(step.read(op.from, 'from path'))); break;
      case 'test': if (!jsonpatch._areEquals(step.read(op.path), op.value)) step.fail('test failed'); break;
      default: step.fail('unsupported op');
    }
    current = step.doc;
  });
  return current as T;
}

/**
 * Applies `ops` like the API server, then asks for the patch again on the result: a mutation that
 * is not idempotent would oscillate under webhook reinvocation, so a non-empty second patch fails.
 */
export function verifyPatch<T>(original: T, ops: readonly unknown[], again: (patched: T) => readonly unknown[]): T {
  const patched = applyLikeApiServer(original, ops);
  const second = again(jsonpatch.deepClone(patched) as T);
  if (second.length > 0) {
    throw new PatchError(`mutation is not idempotent: a second pass still patches ${JSON.stringify(second).slice(0, 500)}`);
  }
  return patched;
}

/** `response.patch` as the API server reads it: standard base64 of a JSON array of operations. */
export function decodePatch(base64: string): PatchOperation[] {
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new PatchError('patch is not valid base64');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch (err) {
    throw new PatchError(`patch is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new PatchError('patch is not a JSON array of operations');
  parsed.forEach((op: unknown, i) => shapeCheck(op, i));
  return parsed as PatchOperation[];
}

export function encodePatch(ops: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(ops)).toString('base64');
}

/** JSON Pointer of an object key path, escaping `~` and `/` as RFC 6901 wants. */
export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${jsonpatch.escapePathComponent(String(t))}`).join('');
}
