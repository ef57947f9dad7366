/** One way to put an ajv schema error into words: the field as kubectl spells it, and what is wrong. */
import type { ErrorObject } from 'ajv';
import { escapeToken, pointerToPath } from './pointer.js';

/** The field the error is about (an unknown field names itself); `fallback` for the document itself. */
export function ajvErrorPath(e: ErrorObject, fallback = '(document)'): string {
  const extra = e.keyword === 'additionalProperties' ? `/${escapeToken(String(e.params['additionalProperty']))}` : '';
  return pointerToPath(e.instancePath + extra) || fallback;
}

export function ajvErrorMessage(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'enum') return `must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(e.params['allowedValue'])}`;
  return e.message ?? e.keyword;
}

/** `path: message`. */
export function formatAjvError(e: ErrorObject, fallback?: string): string {
  return `${ajvErrorPath(e, fallback)}: ${ajvErrorMessage(e)}`;
}
