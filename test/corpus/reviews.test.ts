/**
 * The AdmissionReviews of the external corpus (captured elsewhere, from another kube-apiserver) go
 * through the HTTP app like the project's own: answered, uid echoed, and every patch applies to
 * the object as the API server applies it and needs no second pass. With the review memo on, the
 * next instance of each (another Pod of the same template) gets byte for byte the fresh answer.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewKey } from '../../src/admission/memo.js';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { buildApp } from '../../src/server/app.js';
import { decodePatchB64, nextInstance, type Review, useShippedApp } from '../support/app.js';
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

describe('external captured reviews and the review memo', () => {
  const { engine } = useShippedApp();
  let memoApp: FastifyInstance;
  let plainApp: FastifyInstance;
  beforeAll(async () => {
    memoApp = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine(), readiness: () => ({ ready: true, details: {} }), memoEntries: 1024 });
    plainApp = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine(), readiness: () => ({ ready: true, details: {} }) });
    await Promise.all([memoApp.ready(), plainApp.ready()]);
  });
  afterAll(async () => { await memoApp.close(); await plainApp.close(); });

    it.each(files.flatMap((file) => NAMESPACES.map((namespace) => ({ file, namespace }))))('$file in $namespace: keyed, and a repeat gets the fresh answer byte for byte', async ({ file, namespace }) => {
    const review = inNamespace(file, namespace);
    // The scan reads what this kube-apiserver wrote.
    expect(reviewKey(JSON.stringify(review))?.uid).toBe(review.request['uid']);
    const endpoint = file.includes('-mutate-') ? 'mutate' : 'validate';
    const send = (app: FastifyInstance, r: Review) => app.inject({ method: 'POST', url: `/${endpoint}?timeout=10s`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(r) });
    await send(memoApp, nextInstance(review, 1));
    await send(memoApp, nextInstance(review, 2));
    const third = nextInstance(review, 3);
    const [memo, fresh] = await Promise.all([send(memoApp, third), send(plainApp, third)]);
    expect(memo.statusCode).toBe(200);
    expect(memo.payload).toBe(fresh.payload);
  });
});
