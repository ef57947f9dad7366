import { validateReview, type Validator } from '../validators/index.js';
import { ajvErrorMessage, ajvErrorPath } from '../util/ajv-errors.js';
import type { EngineRequest, Operation } from '../engine/engine.js';

export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionVersion = (typeof ADMISSION_VERSIONS)[number];

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo?: { username?: string; groups?: string[] };
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
}

export interface AdmissionReview {
  apiVersion: AdmissionVersion;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

const gvk = {
  type: 'object',
  required: ['version', 'kind'],
  properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string', minLength: 1 } },
};

/** What is read of an object's metadata before the engine runs (namespace, names in messages). */
const kubeObject = {
  type: ['object', 'null'],
  properties: {
    metadata: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' }, generateName: { type: 'string' } } },
  },
};

export const reviewSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { enum: [...ADMISSION_VERSIONS] },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        kind: gvk,
        resource: { type: 'object' },
        subResource: { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        userInfo: { type: 'object', properties: { username: { type: 'string' }, groups: { type: 'array', items: { type: 'string' } } } },
        object: kubeObject,
        oldObject: kubeObject,
        dryRun: { type: ['boolean', 'null'] },
        options: { type: ['object', 'null'] },
      },
    },
  },
};

// reviewSchema, compiled ahead of time (src/validators/, `npm run validators`).
const check = validateReview as Validator<AdmissionReview>;

export class BadReview extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadReview';
  }
}

/**
 * Nesting depth allowed inside `object` and `oldObject`. Kubernetes objects nest a few dozen levels
 * (managedFields included); the engine copies, compares and serialises Pod specs recursively, and
 * from about 3,000 levels that overflows the stack. Deeper objects are refused at the boundary.
 */
export const MAX_OBJECT_DEPTH = 512;

/** Path (keys and indices) to the first value nested deeper than MAX_OBJECT_DEPTH, if any. */
function tooDeep(value: object, depth: number): (string | number)[] | undefined {
  if (depth >= MAX_OBJECT_DEPTH) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const below = v !== null && typeof v === 'object' ? tooDeep(v, depth + 1) : undefined;
      if (below) return [i, ...below];
    }
    return undefined;
  }
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    const below = v !== null && typeof v === 'object' ? tooDeep(v, depth + 1) : undefined;
    if (below) return [key, ...below];
  }
  return undefined;
}

function nestingError(field: 'object' | 'oldObject', path: (string | number)[]): BadReview {
  const where = path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${p}`), `request.${field}`);
  const shown = where.length > 120 ? `${where.slice(0, 117)}...` : where;
  return new BadReview(`not an AdmissionReview: ${shown} nests deeper than ${MAX_OBJECT_DEPTH} levels`);
}

/** Validates the envelope once at the boundary; throws BadReview with the offending field. */
export function decodeReview(body: unknown): AdmissionReview {
  if (check(body)) {
    const kind = body.request.kind;
    kind.group ??= '';
    for (const field of ['object', 'oldObject'] as const) {
      const o = body.request[field];
      const path = o ? tooDeep(o, 0) : undefined;
      if (path) throw nestingError(field, path);
    }
    return body;
  }
  const e = check.errors?.[0];
  throw new BadReview(`not an AdmissionReview: ${e ? `${ajvErrorPath(e, 'body')} ${ajvErrorMessage(e)}` : 'body is not an AdmissionReview'}`);
}

/** The engine's view of a decoded review (also what the fuzzer drives the engine with). */
export function toEngineRequest(review: AdmissionReview): EngineRequest {
  const r = review.request;
  const meta = r.object?.['metadata'] as { namespace?: string } | undefined;
  return {
    kind: { group: r.kind.group, kind: r.kind.kind },
    operation: r.operation,
    namespace: r.namespace ?? meta?.namespace ?? '',
    name: r.name,
    subResource: r.subResource,
    // A struct field written as null (never sent by the API server) is read as left out by the
    // engine's shape check, without a walk of every review here.
    object: r.object ?? undefined,
    oldObject: r.oldObject ?? undefined,
    userInfo: { username: r.userInfo?.username, groups: Array.isArray(r.userInfo?.groups) ? r.userInfo.groups : undefined },
  };
}
