import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../src/engine/engine.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { engineFor } from '../../src/engine/build.js';
import { buildApp } from '../../src/server/app.js';

/** AdmissionReviews captured from kube-apiserver by the e2e suite (see its README). */
export const REVIEWS_DIR = new URL('../fixtures/reviews/', import.meta.url).pathname;
/** GPU workload manifests written for the tests in the shapes the ecosystem documents. */
export const PUBLIC_DIR = new URL('../fixtures/manifests/', import.meta.url).pathname;
export const POLICIES_DIR = new URL('../../policies/', import.meta.url).pathname;

export async function shippedEngine(): Promise<Engine> {
  return engineFor(await loadPolicyDir(POLICIES_DIR));
}

export function testApp(engine: () => Engine | undefined, ready = true): FastifyInstance {
  return buildApp({ logger: pino({ level: 'silent' }), engine, readiness: () => ({ ready, details: {} }) });
}

export type Review = { apiVersion: string; kind: string; request: Record<string, unknown> & { object?: Record<string, unknown> } };

export function corpusReview(file: string, namespace?: string): Review {
  const review = JSON.parse(readFileSync(join(REVIEWS_DIR, file), 'utf8')) as Review;
  if (namespace) {
    review.request['namespace'] = namespace;
    const meta = review.request.object?.['metadata'] as Record<string, unknown> | undefined;
    if (meta) meta['namespace'] = namespace;
  }
  return review;
}

const NAME_GENERATOR = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Another instance of a review, as the API server sends it for the next Pod of one template: a new
 * request uid and, for a Pod, a new name (generateName and 5 characters of the API server's name
 * generator, else `<name>-<n>`; request.name to match), object uid and creationTimestamp.
 */
export function nextInstance<T extends { request: Record<string, unknown> }>(review: T, n: number): T {
  const next = structuredClone(review);
  const r = next.request;
  r['uid'] = randomUUID();
  const meta = (r['object'] as { metadata?: Record<string, unknown> } | null | undefined)?.metadata;
  if (!meta || typeof meta !== 'object' || (r['kind'] as { kind?: unknown } | undefined)?.kind !== 'Pod') return next;
  if (typeof meta['name'] === 'string') {
    meta['name'] = typeof meta['generateName'] === 'string'
      ? meta['generateName'] + Array.from({ length: 5 }, (_, i) => NAME_GENERATOR[(n * 7 + i * 13) % NAME_GENERATOR.length]).join('')
      : `${meta['name'].slice(0, 50)}-${n}`;
    if (typeof r['name'] === 'string') r['name'] = meta['name'];
  }
  if (typeof meta['uid'] === 'string') meta['uid'] = randomUUID();
  if (typeof meta['creationTimestamp'] === 'string') meta['creationTimestamp'] = new Date(Date.UTC(2026, 11, 1, 10, 0, n % 60)).toISOString().replace('.000Z', 'Z');
  return next;
}

export function corpusReviewFiles(): string[] {
  return readdirSync(REVIEWS_DIR).filter((f) => f.endsWith('.json')).sort();
}

export function decodePatchB64(patch: unknown): unknown[] {
  return typeof patch === 'string' ? (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as unknown[]) : [];
}

/** For a test file: the app on the shipped policies, built before its tests and closed after. */
export function useShippedApp(): { app(): FastifyInstance; engine(): Engine } {
  let engine: Engine;
  let app: FastifyInstance;
  beforeAll(async () => {
    engine = await shippedEngine();
    app = testApp(() => engine);
    await app.ready();
  });
  afterAll(async () => app.close());
  return { app: () => app, engine: () => engine };
}
