/**
 * The AdmissionReviews of the external corpus (captured elsewhere, from another kube-apiserver) go
 * through the HTTP app like the project's own: answered, uid echoed, and every patch applies to
 * the object as the API server applies it and needs no second pass.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { decodePatchB64, type Review, useShippedApp } from '../support/app.js';
import { REVIEWS_CORPUS } from './paths.js';

const files = readdirSync(REVIEWS_CORPUS).filter((f) => f.endsWith('.json')).sort();
const NAMESPACES = ['inference', 'training', 'notebooks', 'research', 'default'];

function inNamespace(file: string, namespace: string): Review {
  const review = JSON.parse(readFileSync(join(REVIEWS_CORPUS, file), 'utf8')) as Review;
  review.request['namespace'] = namespace;
  const meta = review.request.object?.['metadata'] as Record<string, unknown> | undefined;
  if (meta) meta['namespace'] = namespace;
  return review;
}

describe('external captured reviews', () => {
  const { app } = useShippedApp();

  it('the corpus has reviews of both endpoints', () => {
    expect(files.some((f) => f.includes('-mutate-'))).toBe(true);
    expect(files.some((f) => f.includes('-validate-'))).toBe(true);
  });

  it.each(files.flatMap((file) => NAMESPACES.map((namespace) => ({ file, namespace }))))('$file in $namespace', async ({ file, namespace }) => {
    const review = inNamespace(file, namespace);
    const endpoint = file.includes('-mutate-') ? 'mutate' : 'validate';
    const res = await app().inject({ method: 'POST', url: `/${endpoint}?timeout=10s`, payload: review });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { response: { uid: string; allowed: boolean; patch?: string } };
    expect(body.response.uid).toBe(review.request['uid']);
    const patch = decodePatchB64(body.response.patch) as Parameters<typeof applyLikeApiServer>[1];
    if (endpoint === 'validate' || patch.length === 0) return;
    const patched = applyLikeApiServer(structuredClone(review.request.object), patch) as Record<string, unknown>;
    const again = await app().inject({ method: 'POST', url: `/mutate?timeout=10s`, payload: { ...review, request: { ...review.request, object: patched } } });
    expect(decodePatchB64((again.json() as { response: { patch?: string } }).response.patch)).toEqual([]);
  });
});
