import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { reviewKey } from '../../src/admission/memo.js';
import type { Engine } from '../../src/engine/engine.js';
import { buildApp } from '../../src/server/app.js';
import { Metrics } from '../../src/server/metrics.js';
import { corpusReview, corpusReviewFiles, nextInstance, PUBLIC_DIR, shippedEngine, testApp, type Review } from '../support/app.js';

const ECOSYSTEM_DIR = new URL('../fixtures/ecosystem/', import.meta.url).pathname;
const NAMESPACES = ['inference', 'training', 'notebooks', 'research', 'default'];

type Obj = Record<string, unknown>;
const meta = (r: Review): Obj | undefined => r.request.object?.['metadata'] as Obj | undefined;

/** Pod reviews of the fixture manifests' Pods and Pod templates, in the mutating and the validating shape. */
function manifestPodReviews(): Review[] {
  const out: Review[] = [];
  for (const dir of [PUBLIC_DIR, ECOSYSTEM_DIR]) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of loadAll(readFileSync(join(dir, file), 'utf8')) as Obj[]) {
        if (!doc || typeof doc !== 'object') continue;
        const spec = doc['spec'] as Obj | undefined;
        const template = doc['kind'] === 'Pod' ? doc : (spec?.['template'] as Obj | undefined);
        const podSpec = template?.['spec'];
        if (!podSpec || typeof podSpec !== 'object') continue;
        const owner = (doc['metadata'] as Obj | undefined)?.['name'] ?? 'w';
        const namespace = String((doc['metadata'] as Obj | undefined)?.['namespace'] ?? NAMESPACES[out.length % NAMESPACES.length]);
        const base = (template?.['metadata'] as Obj | undefined) ?? {};
        const generateName = `${String(owner)}-6dd78795b9-`;
        const mutating = { ...base, generateName, namespace, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: generateName.slice(0, -1), uid: randomUUID(), controller: true }] };
        const validating = { ...mutating, name: `${generateName}nq7ws`, uid: randomUUID(), creationTimestamp: '2026-12-01T10:00:00Z' };
        for (const [m, name] of [[mutating, undefined], [validating, validating.name]] as const) {
          out.push({
            apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
            request: {
              uid: randomUUID(), kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
              ...(name ? { name } : {}), namespace, operation: 'CREATE',
              userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
              object: { apiVersion: 'v1', kind: 'Pod', metadata: m, spec: podSpec }, oldObject: null, dryRun: false,
            },
          });
        }
      }
    }
  }
  return out;
}

function corpus(): Review[] {
  const captured = corpusReviewFiles().flatMap((f) => NAMESPACES.map((ns) => corpusReview(f, ns)));
  return [...captured, ...manifestPodReviews()];
}

describe('review memo: the key', () => {
  const review = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
  const text = JSON.stringify(review);

  it('cuts the uid, and a Pod\'s name, uid and creationTimestamp, and nothing else', () => {
    const key = reviewKey(text);
    expect(key).toMatchObject({ uid: review.request['uid'], podNames: true, name: meta(review)?.['name'], requestName: review.request['name'] });
    expect(reviewKey(JSON.stringify(nextInstance(review, 3)))?.digest).toBe(key?.digest);
    // Pretty-printed the same review reads as well (another key: the text differs).
    expect(reviewKey(JSON.stringify(review, null, 2))?.uid).toBe(review.request['uid']);
  });

  it('any other change of the text changes the key (or makes it unreadable)', () => {
    const key = reviewKey(text);
    const cut = [String(review.request['uid']), String(meta(review)?.['uid']), String(meta(review)?.['creationTimestamp'])];
    const spans = cut.flatMap((v) => { const at = text.indexOf(`"${v}"`); return at < 0 ? [] : [[at, at + v.length + 2]]; });
    const name = String(meta(review)?.['name']);
    for (let at = text.indexOf(`"${name}"`); at >= 0; at = text.indexOf(`"${name}"`, at + 1)) spans.push([at, at + name.length + 2]);
    fc.assert(fc.property(fc.nat(text.length - 1), fc.integer({ min: 32, max: 126 }), (at, code) => {
      if (spans.some(([s, e]) => at >= (s as number) && at < (e as number))) return;
      if (text.charCodeAt(at) === code) return;
      const changed = text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
      const other = reviewKey(changed);
      if (other) expect(other.digest).not.toBe(key?.digest);
    }), { numRuns: 3000 });
  });

  it('names are kept in the key for kinds other than Pod', () => {
    const deployment = corpusReview('010-mutate-CREATE-Deployment-embeddings-server.json', 'inference');
    const a = reviewKey(JSON.stringify(deployment));
    const renamed = structuredClone(deployment);
    (meta(renamed) as Obj)['name'] = 'another-server';
    renamed.request['name'] = 'another-server';
    expect(a?.podNames).toBe(false);
    expect(reviewKey(JSON.stringify(renamed))?.digest).not.toBe(a?.digest);
    renamed.request['uid'] = randomUUID();
    expect(reviewKey(JSON.stringify(deployment).replace(String(deployment.request['uid']), randomUUID()))?.digest).toBe(a?.digest);
  });

  it('a uid elsewhere (an owner reference, a label value named uid) is part of the key', () => {
    const r = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    (meta(r) as Obj)['ownerReferences'] = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'aaaa-1111', controller: true }];
    (meta(r) as Obj)['labels'] = { uid: 'one', name: 'first' };
    const a = reviewKey(JSON.stringify(r));
    const b = structuredClone(r);
    ((meta(b) as Obj)['ownerReferences'] as Obj[])[0]!['uid'] = 'bbbb-2222';
    const c = structuredClone(r);
    (meta(c) as Obj)['labels'] = { uid: 'two', name: 'first' };
    const d = structuredClone(r);
    (meta(d) as Obj)['labels'] = { uid: 'one', name: 'second' };
    for (const other of [b, c, d]) expect(reviewKey(JSON.stringify(other))?.digest).not.toBe(a?.digest);
  });

  it('refuses texts it cannot read exactly: duplicate or escaped keys, odd values, not an object', () => {
    const uid = String(review.request['uid']);
    expect(reviewKey(text.replace('"request":{', `"request":{"uid":"${uid}",`))).toBeUndefined();
    expect(reviewKey(text.replace('"uid":', '"u\\u0069d":'))).toBeUndefined();
    expect(reviewKey(text.replace(`"uid":"${uid}"`, '"uid":"a b"'))).toBeUndefined();
    expect(reviewKey(text.replace(`"uid":"${uid}"`, '"uid":7'))).toBeUndefined();
    expect(reviewKey('[1,2]')).toBeUndefined();
    expect(reviewKey('')).toBeUndefined();
    expect(reviewKey('{"request":')).toBeUndefined();
    expect(reviewKey(text.slice(0, 200))).toBeUndefined();
    // A name with an escape is not cut: it stays in the key as written.
    const escaped = text.replace(`"name":"${String(meta(review)?.['name'])}"`, '"name":"cuda\\u002dsmoke"');
    expect(reviewKey(escaped)?.requestName).toBeUndefined();
    expect(reviewKey(escaped)?.name).toBe('cuda-smoke');
  });
});

describe('review memo: answers', () => {
  let engine: Engine;
  let memoApp: FastifyInstance;
  let plainApp: FastifyInstance;
  let metrics: Metrics;
  let version = 0;
  let current: () => Engine = () => engine;
  beforeAll(async () => {
    engine = await shippedEngine();
    metrics = new Metrics(false);
    memoApp = buildApp({ logger: pino({ level: 'silent' }), engine: () => current(), readiness: () => ({ ready: true, details: {} }), memoEntries: 4096, stateVersion: () => version, metrics });
    plainApp = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine, readiness: () => ({ ready: true, details: {} }) });
    await Promise.all([memoApp.ready(), plainApp.ready()]);
  });
  afterAll(async () => { await memoApp.close(); await plainApp.close(); });

  const send = async (app: FastifyInstance, path: string, r: Review): Promise<unknown> => {
    const res = await app.inject({ method: 'POST', url: `${path}?timeout=10s`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(r) });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const sendText = async (app: FastifyInstance, path: string, r: Review): Promise<string> => {
    const res = await app.inject({ method: 'POST', url: `${path}?timeout=10s`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(r) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return res.payload;
  };
  const memoCount = async (result: string): Promise<number> => {
    const text = await metrics.text();
    return [...text.matchAll(new RegExp(`^gpu_admission_review_memo_total\\{endpoint="[a-z]+",result="${result}"\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('a repeat gets exactly the answer a fresh judgement gives, on both endpoints, for every corpus review', async () => {
    const reviews = corpus();
    expect(reviews.length).toBeGreaterThan(100);
    const hits0 = await memoCount('hit');
    let pods = 0;
    for (const path of ['/mutate', '/validate']) {
      for (const r of reviews) {
        // Judged twice (the answer is kept the second time), then answered as repeats.
        await send(memoApp, path, nextInstance(r, 1));
        await send(memoApp, path, nextInstance(r, 2));
        for (const n of [3, 4]) {
          const next = nextInstance(r, n);
          // Byte for byte: the kept answer's text with this uid and name is what serialising a fresh verdict gives.
          expect(await sendText(memoApp, path, next), `${path} ${String(r.request['namespace'])} ${JSON.stringify(meta(r)?.['name'] ?? meta(r)?.['generateName'])}`).toBe(await sendText(plainApp, path, next));
        }
        if ((r.request['kind'] as Obj)['kind'] === 'Pod') pods++;
      }
    }
    // The memo really answered: most repeats were hits (Pods whose answer quotes their name are judged afresh).
    expect((await memoCount('hit')) - hits0).toBeGreaterThan(pods * 2 * 0.8);
  });

  it('a denial names the Pod that was sent, not the first of its template', async () => {
    const r = corpusReview('007-validate-CREATE-Pod-cuda-smoke-unlisted.json', 'default');
    await send(memoApp, '/validate', nextInstance(r, 10));
    const first = await send(memoApp, '/validate', nextInstance(r, 11)) as { response: { allowed: boolean; status?: { message: string } } };
    const next = nextInstance(r, 12);
    const second = await send(memoApp, '/validate', next) as { response: { uid: string; status?: { message: string } } };
    expect(second.response.uid).toBe(next.request['uid']);
    if (!first.response.allowed) expect(second.response.status?.message).toContain(`/${String(meta(next)?.['name'])} violates`);
  });

  it('is emptied when the policies or the cluster view change', async () => {
    const r = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    await send(memoApp, '/mutate', nextInstance(r, 20));
    await send(memoApp, '/mutate', nextInstance(r, 21));
    let hits = await memoCount('hit');
    await send(memoApp, '/mutate', nextInstance(r, 22));
    expect(await memoCount('hit')).toBe(hits + 1);
    version++;
    hits = await memoCount('hit');
    await send(memoApp, '/mutate', nextInstance(r, 23));
    await send(memoApp, '/mutate', nextInstance(r, 24));
    expect(await memoCount('hit')).toBe(hits);
    await send(memoApp, '/mutate', nextInstance(r, 25));
    expect(await memoCount('hit')).toBe(hits + 1);
    const reloaded = await shippedEngine();
    current = () => reloaded;
    await send(memoApp, '/mutate', nextInstance(r, 26));
    await send(memoApp, '/mutate', nextInstance(r, 27));
    expect(await memoCount('hit')).toBe(hits + 1);
    current = () => engine;
  });

  it('a review that waited for a namespace read is not kept, and a repeat in an unknown namespace is judged afresh', async () => {
    let unknown = true;
    let reads = 0;
    const app = buildApp({
      logger: pino({ level: 'silent' }), engine: () => engine, readiness: () => ({ ready: true, details: {} }), memoEntries: 16, metrics: new Metrics(false),
      beforeReview: () => (unknown ? (reads++, Promise.resolve()) : undefined),
    });
    await app.ready();
    const r = corpusReview('001-mutate-CREATE-Pod-cuda-smoke.json', 'inference');
    const a = await send(app, '/mutate', nextInstance(r, 31));
    await send(app, '/mutate', nextInstance(r, 32));
    expect(reads).toBe(2);
    unknown = false;
    await send(app, '/mutate', nextInstance(r, 33));
    await send(app, '/mutate', nextInstance(r, 35));
    unknown = true;
    const next = nextInstance(r, 34);
    const b = await send(app, '/mutate', next) as { response: { uid: string } };
    expect(reads).toBe(3);
    expect(b.response.uid).toBe(next.request['uid']);
    expect({ ...(b as { response: object }).response, uid: '' }).toEqual({ ...(a as { response: object }).response, uid: '' });
    await app.close();
  });

  it('bad bodies are still refused with the memo on', async () => {
    const res = await memoApp.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: '{"kind":"AdmissionReview","request":{"uid":"x"' });
    expect(res.statusCode).toBe(400);
    const r = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    await send(memoApp, '/validate', nextInstance(r, 41));
    // The same text with the request's kind broken: another key, decoded and refused as before.
    const broken = JSON.stringify(nextInstance(r, 42)).replace('"kind":{"group":"","version":"v1","kind":"Pod"}', '"kind":7');
    const res2 = await memoApp.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: broken });
    expect(res2.statusCode).toBe(400);
  });
});

describe('review memo: kinds', () => {
  it('a kind Pod of another group keeps its names in the key', () => {
    const r = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    (r.request['kind'] as Obj)['group'] = 'example.com';
    expect(reviewKey(JSON.stringify(r))?.podNames).toBe(false);
    const noGroup = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    delete (noGroup.request['kind'] as Obj)['group'];
    expect(reviewKey(JSON.stringify(noGroup))?.podNames).toBe(false);
    expect(reviewKey(JSON.stringify(corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference')))?.podNames).toBe(true);
  });
});

describe('review memo: traffic that does not repeat', () => {
  it('keys one review in eight after 256 keyed reviews without a repeat, and every one again after a repeat', async () => {
    const { ReviewMemo } = await import('../../src/admission/memo.js');
    const memo = new ReviewMemo(16);
    const key = (n: number) => ({ digest: `d${n}`, uid: `u${n}`, podNames: false });
    for (let i = 0; i < 256; i++) {
      expect(memo.shouldKey()).toBe(true);
      expect(memo.get(key(i))).toBeUndefined();
    }
    const keyed = Array.from({ length: 64 }, () => memo.shouldKey()).filter(Boolean).length;
    expect(keyed).toBe(8);
    // A repeat: keep an answer (judged twice), then find it.
    const engine = {} as Engine;
    memo.sync(engine, 0);
    const request = { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' as const, namespace: 'ns' };
    const verdict = { denials: [], warnings: [], recorded: [], patch: [], notes: [], assumptions: [] };
    const response = { apiVersion: 'admission.k8s.io/v1' as const, kind: 'AdmissionReview' as const, response: { uid: 'u1', allowed: true } };
    const judged = { apiVersion: 'admission.k8s.io/v1' as const, namespace: 'ns', request, verdict, decision: 'allowed', response };
    expect(memo.offer(key(1), judged, engine, 0)).toBe('first');
    expect(memo.offer(key(1), judged, engine, 0)).toBe('kept');
    expect(memo.get(key(1))).toBeDefined();
    expect(Array.from({ length: 16 }, () => memo.shouldKey()).every(Boolean)).toBe(true);
    // Another engine or cluster view: nothing kept from before, and nothing kept that was judged by the old one.
    memo.sync(engine, 1);
    expect(memo.get(key(1))).toBeUndefined();
    expect(memo.offer(key(2), judged, engine, 0)).toBe('refused');
  });
});

describe('review memo: texts the memo has not parsed', () => {
  it('a raw control character cannot stand in for a cut value', () => {
    const r = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    const text = JSON.stringify(r);
    const a = reviewKey(text);
    expect(a?.name).toBeDefined();
    // The object's name replaced by a raw \u0001 (not JSON): the scan does not cut it, and the key differs.
    const name = `"${String(meta(r)?.['name'])}"`;
    const at = text.indexOf(name, text.indexOf('"object"'));
    const forged = text.slice(0, at) + '\u0001' + text.slice(at + name.length);
    const b = reviewKey(forged);
    if (b) expect(b.digest).not.toBe(a?.digest);
  });
});

describe('review memo: what the scan read is what JSON.parse reads', () => {
  it('a request.kind written again after the scan stopped (JSON.parse keeps the last) is not kept as a Pod', async () => {
    const engine = await shippedEngine();
    const metrics = new Metrics(false);
    const app = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine, readiness: () => ({ ready: true, details: {} }), memoEntries: 16, metrics });
    const r = corpusReview('002-validate-CREATE-Pod-cuda-smoke.json', 'inference');
    const withKind = (n: number): string => {
      const text = JSON.stringify(nextInstance(r, n));
      return `${text.slice(0, -2)},"kind":{"group":"apps","version":"v1","kind":"DaemonSet"}}}`;
    };
    expect(reviewKey(withKind(1))?.podNames).toBe(true);
    const send = (payload: string) => app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload });
    for (const n of [1, 2]) await send(withKind(n));
    // Judged afresh: the text parsed as a DaemonSet, whose name may decide its verdict.
    const third = withKind(3);
    const res = await send(third);
    const fresh = await testApp(() => engine).inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: third });
    expect(res.payload).toBe(fresh.payload);
    expect(await metrics.text()).not.toMatch(/gpu_admission_review_memo_total\{endpoint="validate",result="hit"\} [1-9]/);
    expect(await metrics.text()).toMatch(/gpu_admission_review_memo_total\{endpoint="validate",result="skipped"\} 1/);
    await app.close();
  });
});
