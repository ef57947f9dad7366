import { Ajv } from 'ajv';
import type { Operation } from '../engine/engine.js';

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

const reviewSchema = {
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
        object: { type: ['object', 'null'] },
        oldObject: { type: ['object', 'null'] },
        dryRun: { type: ['boolean', 'null'] },
        options: { type: ['object', 'null'] },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: false });
const check = ajv.compile<AdmissionReview>(reviewSchema);

export class BadReview extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadReview';
  }
}

/** Validates the envelope once at the boundary; throws BadReview with the offending field. */
export function decodeReview(body: unknown): AdmissionReview {
  if (check(body)) {
    const kind = body.request.kind;
    kind.group ??= '';
    return body;
  }
  const e = check.errors?.[0];
  const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'body';
  let what = e?.message ?? 'is not an AdmissionReview';
  if (e?.keyword === 'enum') what = `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
  if (e?.keyword === 'const') what = `must be ${JSON.stringify(e.params['allowedValue'])}`;
  throw new BadReview(`not an AdmissionReview: ${where} ${what}`);
}
