import type { Verdict } from '../engine/engine.js';
import type { Finding } from '../engine/types.js';
import type { AdmissionRequest, AdmissionVersion } from './review.js';

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

const MAX_WARNING = 119;
const MAX_LISTED = 50;

/**
 * The API server drops warnings with control characters or over its size limit, and HTTP headers
 * carry them as latin1: plain ASCII, the message first (it says what is wrong), the path after.
 */
export function warningText(f: Finding): string {
  const text = `[${f.ruleId}] ${f.message} (${f.path})`.replace(/[^\u0020-\u007e]+/g, ' ');
  return text.length <= MAX_WARNING ? text : `${text.slice(0, MAX_WARNING - 3)}...`;
}

export function denialMessage(v: Verdict, req: AdmissionRequest): string {
  const policy = v.policy;
  const subject = `${req.kind.kind} ${req.namespace ?? ''}/${req.name ?? (req.object as { metadata?: { generateName?: string } } | null)?.metadata?.generateName ?? ''}`;
  const head = `${subject} violates NamespacePolicy "${policy?.name}" (mode ${policy?.mode}, ${policy?.source}):`;
  // A hostile object can carry thousands of findings: the answer stays small, the count says so.
  const lines = v.denials.slice(0, MAX_LISTED).map((f, i) => `(${i + 1}) [${f.ruleId}] ${f.path}: ${f.message}. Fix: ${f.fix}.`);
  if (v.denials.length > MAX_LISTED) lines.push(`... and ${v.denials.length - MAX_LISTED} more violations (${[...new Set(v.denials.map((f) => f.ruleId))].join(', ')})`);
  return [head, ...lines].join('\n');
}

function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

export function auditAnnotations(v: Verdict): Record<string, string> | undefined {
  if (!v.policy) return undefined;
  const a: Record<string, string> = { policy: v.policy.name, mode: v.policy.mode };
  const ids = (fs: Finding[]): string => clip([...new Set(fs.map((f) => `${f.ruleId}@${f.path}`))].join(','));
  if (v.notes.length > 0) a[v.policy.mode === 'audit' ? 'would-mutate' : 'mutations'] = clip(v.notes.map((n) => n.description).join('; '));
  if (v.denials.length > 0) a['violations'] = ids(v.denials);
  if (v.warnings.length > 0) a['warnings'] = ids(v.warnings);
  if (v.recorded.length > 0) a['audit-violations'] = ids(v.recorded);
  if (v.assumptions.length > 0) a['assumptions'] = clip(v.assumptions.join('; '));
  return a;
}

export function buildResponse(
  apiVersion: AdmissionVersion,
  req: AdmissionRequest,
  v: Verdict,
  allowPatch: boolean,
): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid: req.uid, allowed: v.denials.length === 0 };
  if (!response.allowed) response.status = { code: 403, reason: 'Forbidden', message: denialMessage(v, req) };
  if (v.warnings.length > 0) {
    const texts = [...new Set(v.warnings.map(warningText))];
    response.warnings = texts.length > MAX_LISTED ? [...texts.slice(0, MAX_LISTED), `[gpu-admission] ${texts.length - MAX_LISTED} more warnings not shown`] : texts;
  }
  if (allowPatch && response.allowed && v.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(v.patch)).toString('base64');
  }
  const annotations = auditAnnotations(v);
  if (annotations) response.auditAnnotations = annotations;
  return { apiVersion, kind: 'AdmissionReview', response };
}
