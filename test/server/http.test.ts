import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { BODY_LIMIT } from '../../src/server/app.js';
import { corpusReview, decodePatchB64, testApp, useShippedApp } from '../support/app.js';

const shipped = useShippedApp();

async function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const res = await shipped.app().inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

describe('response contract', () => {
  it('answers a v1 review with HTTP 200, the same apiVersion/kind and the echoed uid', async () => {
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    const { status, body } = await post('/mutate?timeout=10s', review);
    expect(status).toBe(200);
    expect(body.apiVersion).toBe('admission.k8s.io/v1');
    expect(body.kind).toBe('AdmissionReview');
    expect(body.response.uid).toBe(review.request['uid']);
    expect(body.response.allowed).toBe(true);
    expect(body.response.patchType).toBe('JSONPatch');
    expect(decodePatchB64(body.response.patch).length).toBeGreaterThan(0);
  });

  it('answers v1beta1 in v1beta1', async () => {
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    review.apiVersion = 'admission.k8s.io/v1beta1';
    const { status, body } = await post('/mutate', review);
    expect(status).toBe(200);
    expect(body.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(body.response.uid).toBe(review.request['uid']);
  });

  it('denies with 403 Forbidden and a message naming rule, path, fix and policy', async () => {
    const { status, body } = await post('/validate?timeout=5s', corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json'));
    expect(status).toBe(200);
    expect(body.response.allowed).toBe(false);
    expect(body.response.status).toMatchObject({ code: 403, reason: 'Forbidden' });
    const msg = body.response.status.message as string;
    expect(msg).toContain('NamespacePolicy "strict-default"');
    expect(msg).toContain('[accelerator-allowed] spec.containers[0].resources.limits[nvidia.com/gpu]');
    expect(msg).toContain('Fix:');
    expect(body.response.patch).toBeUndefined();
  });

  it('/validate never returns a patch, even where /mutate would', async () => {
    const { body } = await post('/validate', corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    expect(body.response.patch).toBeUndefined();
    expect(body.response.patchType).toBeUndefined();
  });

  it('does not mutate on UPDATE', async () => {
    const review = corpusReview('003-validate-UPDATE-Pod-cuda-smoke.json', 'inference');
    const { body } = await post('/mutate', review);
    expect(body.response.allowed).toBe(true);
    expect(body.response.patch).toBeUndefined();
  });

  it('on UPDATE denies only what the update introduced, so label patches on old Pods pass', async () => {
    const { body } = await post('/validate', corpusReview('003-validate-UPDATE-Pod-cuda-smoke.json'));
    expect(body.response.allowed).toBe(true);
  });

  it('treats dryRun exactly like a real request', async () => {
    const real = await post('/mutate', corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    const dry = await post('/mutate', corpusReview('004-mutate-CREATE-Pod-cuda-smoke-dry-dryrun.json', 'inference'));
    expect(decodePatchB64(dry.body.response.patch)).toEqual(decodePatchB64(real.body.response.patch));
    const v = await post('/validate', corpusReview('005-validate-CREATE-Pod-cuda-smoke-dry-dryrun.json', 'default'));
    expect(v.body.response.allowed).toBe(false);
  });

  it.each(['DELETE', 'CONNECT'])('allows %s without evaluating', async (operation) => {
    const review = corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json');
    review.request['operation'] = operation;
    const { status, body } = await post('/validate', review);
    expect(status).toBe(200);
    expect(body.response).toEqual({ uid: review.request['uid'], allowed: true });
  });

  it('keeps warnings under 120 characters without control characters', async () => {
    const review = corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json', 'notebooks');
    const { body } = await post('/validate', review);
    expect(body.response.allowed).toBe(true);
    const warnings = body.response.warnings as string[];
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) {
      expect(w.length).toBeLessThan(120);
      expect(w).not.toMatch(/[\u0000-\u001f]/);
    }
  });

  it('writes audit annotations with valid qualified-name keys', async () => {
    const { body } = await post('/mutate', corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    const annotations = body.response.auditAnnotations as Record<string, string>;
    expect(annotations['policy']).toBe('realtime-inference');
    expect(annotations['mutations']).toContain('tolerate nvidia.com/gpu=present:NoSchedule');
    for (const key of Object.keys(annotations)) expect(key).toMatch(/^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/);
  });
});

describe('bad input', () => {
  it.each([
    ['not JSON', '{"apiVersion": ', /not valid JSON/],
    ['wrong apiVersion', { apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' } }, /apiVersion/],
    ['wrong kind', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: { uid: 'u', kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE' } }, /kind/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request/],
    ['no uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE' } }, /uid/],
    ['uid of the wrong type', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 7, kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE' } }, /uid/],
    ['an array', [], /AdmissionReview/],
    ['__proto__ keys', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","__proto__":{"polluted":1},"request":{}}', /./],
  ])('answers %s with HTTP 400 and a JSON error', async (_name, payload, message) => {
    const { status, body } = await post('/mutate', payload);
    expect(status).toBe(400);
    expect(body.error).toBe('BadRequest');
    expect(body.message).toMatch(message);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts a body of 3 MiB and rejects 3 MiB + 1 with 413', async () => {
    const review = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    const base = JSON.stringify(review);
    const pad = (n: number): string => base.replace('"kind":"AdmissionReview"', `"kind":"AdmissionReview","x":"${'a'.repeat(n)}"`);
    const exact = pad(BODY_LIMIT - base.length - 7);
    expect(Buffer.byteLength(exact)).toBe(BODY_LIMIT);
    expect((await post('/mutate', exact)).status).toBe(200);
    const over = await post('/mutate', pad(BODY_LIMIT - base.length - 6));
    expect(over.status).toBe(413);
    expect(over.body.message).toContain(String(BODY_LIMIT));
  });

  it('a Pod spec of the wrong shape gets a decision naming the field, not a crash', async () => {
    const review = corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json', 'inference');
    (review.request.object as { spec: Record<string, unknown> }).spec['tolerations'] = 'everything';
    const { status, body } = await post('/validate', review);
    expect(status).toBe(200);
    expect(body.response.allowed).toBe(false);
    expect(body.response.status.message).toContain('spec.tolerations');
  });

  it('answers an unexpected exception with 500 and keeps serving', async () => {
    let broken = true;
    const failing = testApp(() => (broken ? ({ mutate: () => { throw new Error('boom'); } } as unknown as Engine) : shipped.engine()));
    const payload = JSON.stringify(corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference'));
    const first = await failing.inject({ method: 'POST', url: '/mutate', payload, headers: { 'content-type': 'application/json' } });
    expect(first.statusCode).toBe(500);
    expect(first.json()).toMatchObject({ error: 'InternalError' });
    broken = false;
    const second = await failing.inject({ method: 'POST', url: '/mutate', payload, headers: { 'content-type': 'application/json' } });
    expect(second.statusCode).toBe(200);
    await failing.close();
  });

  it('keeps the answer small when an object has thousands of findings', async () => {
    const review = corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json', 'inference');
    const spec = (review.request.object as { spec: Record<string, unknown> }).spec;
    spec['containers'] = [{ name: 'web', image: 'nginx' }];
    spec['tolerations'] = Array.from({ length: 5000 }, () => ({ operator: 'Exists' }));
    const { status, body } = await post('/validate', review);
    expect(status).toBe(200);
    const message = body.response.status.message as string;
    expect(message).toContain('(50) [gpu-squatting] spec.tolerations[49]');
    expect(message).toContain('... and 4950 more violations (gpu-squatting)');
    expect(message.length).toBeLessThan(40_000);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await shipped.app().inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('/mutate');
  });
});

describe('health', () => {
  it('/healthz is 200 while the process lives', async () => {
    expect((await shipped.app().inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
  it('/readyz follows readiness', async () => {
    expect((await shipped.app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const notReady = testApp(() => undefined, false);
    expect((await notReady.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await notReady.close();
  });
});
