/**
 * Bad and hostile input: every malformed, oversized, deeply nested or prototype-poisoning
 * AdmissionReview gets the documented answer (README "Response contract"), without a 500 and
 * without touching Object.prototype:
 *
 *   - `bad`       HTTP 400 `{error: "BadRequest", message}`, the message naming the field;
 *   - `tooLarge`  HTTP 413 `{error: "PayloadTooLarge", message}`;
 *   - `shape`     a Pod spec field of the wrong type (or past a bound of shape.ts): /validate denies
 *                 with a `[pod-spec-shape] <path>:` finding, /mutate allows without a patch and
 *                 records `pod-spec-shape@<path>` in its audit annotations;
 *   - `deny`      /validate denies naming `[rule] <path>:` for each expected finding;
 *   - `allow`     /validate allows;
 *   - `untouched` both endpoints answer exactly `{uid, allowed: true}`.
 *
 * Every 200 answer echoes apiVersion, kind and uid, keeps warnings under 120 printable ASCII
 * characters, never denies on /mutate, never patches on /validate, and its patch applies to the
 * original object with the API server's JSON Patch semantics.
 *
 * How fast each answer comes is measured by `npm run bench` (its hostile-input budgets), not here:
 * a wall-clock limit inside `npm test` fails on a loaded machine and passes a slow path on a fast
 * one. A request that never settles still fails here, on vitest's test timeout.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { MAX_OBJECT_DEPTH } from '../../src/admission/review.js';
import { BODY_LIMIT } from '../../src/server/app.js';
import { SHAPE_LIMITS } from '../../src/workload/shape.js';
import { decodePatchB64, useShippedApp } from '../support/app.js';

type Json = Record<string, any>;

const UID = '1f0c2e5b-0bad-4e9f-8d1a-c0ffee000001';
const GPU = 'nvidia.com/gpu';
const L4 = { 'cloud.google.com/gke-accelerator': 'nvidia-l4' };
const GPU_TOLERATION = { key: GPU, operator: 'Equal', value: 'present', effect: 'NoSchedule' };
const SHAPE = 'pod-spec-shape';

const shipped = useShippedApp();

// ---------------------------------------------------------------------------------------------
// Builders: every call returns a fresh object.
// ---------------------------------------------------------------------------------------------

/** An accelerator container realtime-inference (namespace `inference`) has nothing to say about. */
function gpuContainer(name = 'server', gpus: unknown = '1'): Json {
  return {
    name,
    image: 'vllm/vllm-openai:v0.10.0',
    resources: { limits: { [GPU]: gpus, memory: '32Gi', cpu: '4' }, requests: { [GPU]: gpus, memory: '32Gi', cpu: '4' } },
    readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 5 },
    startupProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 10, failureThreshold: 90 },
  };
}

/** A Pod spec realtime-inference admits as it is (no finding, no patch). */
function goodSpec(): Json {
  return {
    containers: [gpuContainer()],
    tolerations: [{ ...GPU_TOLERATION }],
    nodeSelector: { ...L4 },
    priorityClassName: 'inference-critical',
    terminationGracePeriodSeconds: 120,
  };
}

function withSpec(change: (spec: Json) => void): Json {
  const spec = goodSpec();
  change(spec);
  return spec;
}

function container(change: (c: Json) => void): Json {
  return withSpec((s) => change(s['containers'][0]));
}

function pod(spec: unknown, meta: Json = {}): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad-input', namespace: 'inference', ...meta }, spec };
}

function review(request: Json = {}, top: Json = {}): Json {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    ...top,
    request: {
      uid: UID,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      name: 'bad-input',
      namespace: 'inference',
      operation: 'CREATE',
      userInfo: { username: 'alice', groups: ['system:authenticated'] },
      object: pod(goodSpec()),
      oldObject: null,
      dryRun: false,
      ...request,
    },
  };
}

const podReview = (spec: unknown, request: Json = {}): Json => review({ object: pod(spec), ...request });

/** The review with one field of `request` removed. */
function without(field: string): Json {
  const r = review();
  delete r['request'][field];
  return r;
}

/** Replaces the first `"<key>":{` of the serialised review by `"<key>":{<insert>,` (raw JSON). */
function rawInsert(key: string, insert: string, base: Json = review()): string {
  const text = JSON.stringify(base);
  const at = text.indexOf(`"${key}":{`);
  if (at < 0) throw new Error(`no "${key}" object in the review`);
  const open = at + key.length + 4;
  return `${text.slice(0, open)}${insert},${text.slice(open)}`;
}

const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** The review with `"<field>": <raw>` added to the object at `key` (the first object so named). */
const rawField = (key: string, field: string, raw: string, base?: Json): string => rawInsert(key, `"${field}":${raw}`, base);

const affinity = (terms: unknown): Json => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const TERMS = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
const LIMIT = `spec.containers[0].resources.limits[${GPU}]`;

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

type Expect =
  | { bad: RegExp }
  | { tooLarge: true }
  | { shape: string }
  | { deny: [rule: string, path: string][] }
  | { allow: true }
  | { untouched: true };

interface Answer {
  status: number;
  body: Json;
}

const protoNames = (o: object): string[] => Object.getOwnPropertyNames(o).sort();
const PRISTINE = { object: protoNames(Object.prototype), array: protoNames(Array.prototype), fn: protoNames(Function.prototype) };

function expectNoPollution(): void {
  const probe = {} as Json;
  expect(probe['polluted']).toBeUndefined();
  expect(probe['isAdmin']).toBeUndefined();
  expect(([] as unknown as Json)['polluted']).toBeUndefined();
  const inherited: string[] = [];
  for (const k in probe) inherited.push(k);
  expect(inherited).toEqual([]);
  expect(protoNames(Object.prototype)).toEqual(PRISTINE.object);
  expect(protoNames(Array.prototype)).toEqual(PRISTINE.array);
  expect(protoNames(Function.prototype)).toEqual(PRISTINE.fn);
  expect(Object.prototype.toString.call([])).toBe('[object Array]');
}

async function post(url: string, payload: string | Buffer | Readable, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await shipped.app().inject({ method: 'POST', url, payload, headers });
  return { status: res.statusCode, body: res.json() as Json };
}

function parsed(payload: string | Json): Json | undefined {
  if (typeof payload !== 'string') return payload;
  try {
    return JSON.parse(payload) as Json;
  } catch {
    return undefined;
  }
}

/** What every 200 answer must hold, on both endpoints. */
function expectWellFormed(a: Answer, url: string, sent: Json | undefined): void {
  expect(a.status, JSON.stringify(a.body).slice(0, 300)).toBe(200);
  expect(a.body['kind']).toBe('AdmissionReview');
  if (sent) expect(a.body['apiVersion']).toBe(sent['apiVersion']);
  const r = a.body['response'] as Json;
  if (sent) expect(r['uid']).toBe(sent['request']['uid']);
  for (const w of (r['warnings'] ?? []) as string[]) {
    expect(w.length).toBeLessThan(120);
    expect(w).toMatch(/^[\x20-\x7e]*$/);
  }
  if (url === '/validate') {
    expect(r['patch']).toBeUndefined();
    expect(r['patchType']).toBeUndefined();
  } else {
    expect(r['allowed'], 'a mutating answer never denies').toBe(true);
    if (r['patch'] !== undefined) {
      expect(r['patchType']).toBe('JSONPatch');
      if (sent) expect(() => applyLikeApiServer(sent['request']['object'], decodePatchB64(r['patch']))).not.toThrow();
    }
  }
}

async function expectAnswer(payload: string | Json | (() => string | Json), expected: Expect): Promise<Record<string, Answer>> {
  const body = typeof payload === 'function' ? payload() : payload;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const sent = parsed(body);
  const answers: Record<string, Answer> = {};
  for (const url of ['/mutate', '/validate']) {
    const a = await post(url, text);
    answers[url] = a;
    expect(a.status, `${url}: ${JSON.stringify(a.body).slice(0, 300)}`).toBeLessThan(500);
    if ('bad' in expected) {
      expect(a.status, JSON.stringify(a.body)).toBe(400);
      expect(a.body['error']).toBe('BadRequest');
      expect(a.body['message']).toMatch(expected.bad);
    } else if ('tooLarge' in expected) {
      expect(a.status).toBe(413);
      expect(a.body).toMatchObject({ error: 'PayloadTooLarge' });
      expect(a.body['message']).toContain(String(BODY_LIMIT));
    } else {
      expectWellFormed(a, url, sent);
    }
    expectNoPollution();
  }
  const v = answers['/validate']?.body['response'] as Json | undefined;
  const m = answers['/mutate']?.body['response'] as Json | undefined;
  if ('shape' in expected) {
    expect(v?.['allowed']).toBe(false);
    expect(v?.['status']?.['message']).toContain(`[${SHAPE}] ${expected.shape}:`);
    expect(m?.['patch']).toBeUndefined();
    expect(m?.['auditAnnotations']?.['warnings']).toContain(`${SHAPE}@${expected.shape}`);
  } else if ('deny' in expected) {
    expect(v?.['allowed'], JSON.stringify(v).slice(0, 500)).toBe(false);
    expect(v?.['status']).toMatchObject({ code: 403, reason: 'Forbidden' });
    for (const [rule, path] of expected.deny) expect(v?.['status']?.['message']).toContain(`[${rule}] ${path}:`);
  } else if ('allow' in expected) {
    expect(v?.['allowed'], JSON.stringify(v).slice(0, 500)).toBe(true);
  } else if ('untouched' in expected) {
    const uid = sent?.['request']?.['uid'];
    expect(m).toEqual({ uid, allowed: true });
    expect(v).toEqual({ uid, allowed: true });
  }
  return answers;
}

type Case = [name: string, payload: string | Json | (() => string | Json), expected: Expect];

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

it('the baseline review is allowed without a patch (every case below changes one thing)', async () => {
  const { '/mutate': m } = await expectAnswer(review(), { allow: true });
  expect(m?.body['response']['patch']).toBeUndefined();
  expect(m?.body['response']['warnings']).toBeUndefined();
});

describe('not JSON, or not an AdmissionReview', () => {
  const text = JSON.stringify(review());
  const cases: Case[] = [
    ['an empty body', '', /empty/],
    ['truncated after the first key', text.slice(0, 20), /not valid JSON/],
    ['truncated in the middle', text.slice(0, Math.floor(text.length / 2)), /not valid JSON/],
    ['missing the last brace', text.slice(0, -1), /not valid JSON/],
    ['a trailing comma', `${text.slice(0, -1)},}`, /not valid JSON/],
    ['NaN for the uid', text.replace(`"${UID}"`, 'NaN'), /not valid JSON/],
    ['two documents', `${text}${text}`, /not valid JSON/],
    ['single quotes', text.replace(/"/g, "'"), /not valid JSON/],
    ['null', 'null', /body must be object/],
    ['a string', '"AdmissionReview"', /body must be object/],
    ['a number', '42', /body must be object/],
    ['an array of reviews', `[${text}]`, /body must be object/],
    ['an empty object', '{}', /required property 'apiVersion'/],
  ].map(([name, payload, bad]) => [name as string, payload as string, { bad: bad as RegExp }]);
  it.each(cases)('%s: 400', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });
});

describe('wrong envelope: 400 naming the field', () => {
  const setTop = (patch: Json): Json => ({ ...review(), ...patch });
  const setReq = (patch: Json): Json => review(patch);
  const cases: Case[] = [
    ['apiVersion v2', setTop({ apiVersion: 'admission.k8s.io/v2' }), { bad: /apiVersion must be one of/ }],
    ['apiVersion with a trailing space', setTop({ apiVersion: 'admission.k8s.io/v1 ' }), { bad: /apiVersion/ }],
    ['apiVersion a number', setTop({ apiVersion: 1 }), { bad: /apiVersion/ }],
    ['no apiVersion', (() => { const r = review(); delete r['apiVersion']; return r; })(), { bad: /apiVersion/ }],
    ['kind Pod', setTop({ kind: 'Pod' }), { bad: /kind must be "AdmissionReview"/ }],
    ['kind lower case', setTop({ kind: 'admissionreview' }), { bad: /kind/ }],
    ['no kind', (() => { const r = review(); delete r['kind']; return r; })(), { bad: /kind/ }],
    ['no request', (() => { const r = review(); delete r['request']; return r; })(), { bad: /request/ }],
    ['request null', setTop({ request: null }), { bad: /request must be object/ }],
    ['request an array', setTop({ request: [review()['request']] }), { bad: /request must be object/ }],
    ['request a string', setTop({ request: 'CREATE' }), { bad: /request must be object/ }],
    ['a response instead of a request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: UID, allowed: true } }, { bad: /request/ }],
    ['no uid', without('uid'), { bad: /uid/ }],
    ['uid null', setReq({ uid: null }), { bad: /request\.uid must be string/ }],
    ['uid a number', setReq({ uid: 42 }), { bad: /request\.uid must be string/ }],
    ['uid empty', setReq({ uid: '' }), { bad: /request\.uid/ }],
    ['uid of 257 characters', setReq({ uid: 'u'.repeat(257) }), { bad: /request\.uid must NOT have more than 256/ }],
    ['no kind in the request', without('kind'), { bad: /request/ }],
    ['request.kind a string', setReq({ kind: 'Pod' }), { bad: /request\.kind must be object/ }],
    ['request.kind.kind a number', setReq({ kind: { group: '', version: 'v1', kind: 5 } }), { bad: /request\.kind\.kind must be string/ }],
    ['request.kind.kind empty', setReq({ kind: { group: '', version: 'v1', kind: '' } }), { bad: /request\.kind\.kind/ }],
    ['request.kind without version', setReq({ kind: { group: '', kind: 'Pod' } }), { bad: /request\.kind .*version/ }],
    ['request.kind.group a number', setReq({ kind: { group: 0, version: 'v1', kind: 'Pod' } }), { bad: /request\.kind\.group must be string/ }],
    ['no operation', without('operation'), { bad: /operation/ }],
    ['operation PATCH', setReq({ operation: 'PATCH' }), { bad: /request\.operation must be one of "CREATE", "UPDATE", "DELETE", "CONNECT"/ }],
    ['operation lower case', setReq({ operation: 'create' }), { bad: /request\.operation/ }],
    ['operation a number', setReq({ operation: 1 }), { bad: /request\.operation/ }],
    ['namespace a number', setReq({ namespace: 7 }), { bad: /request\.namespace must be string/ }],
    ['name an object', setReq({ name: { first: 'a' } }), { bad: /request\.name must be string/ }],
    ['subResource an array', setReq({ subResource: ['status'] }), { bad: /request\.subResource must be string/ }],
    ['resource a string', setReq({ resource: 'pods' }), { bad: /request\.resource must be object/ }],
    ['userInfo a string', setReq({ userInfo: 'alice' }), { bad: /request\.userInfo must be object/ }],
    ['userInfo.username a number', setReq({ userInfo: { username: 1 } }), { bad: /request\.userInfo\.username must be string/ }],
    ['userInfo.groups a string', setReq({ userInfo: { username: 'a', groups: 'system:masters' } }), { bad: /request\.userInfo\.groups must be array/ }],
    ['userInfo.groups holding a number', setReq({ userInfo: { username: 'a', groups: ['ok', 1] } }), { bad: /request\.userInfo\.groups\[1\] must be string/ }],
    ['object a string', setReq({ object: 'pod' }), { bad: /request\.object must be object,null/ }],
    ['object an array', setReq({ object: [pod(goodSpec())] }), { bad: /request\.object must be object,null/ }],
    ['object a number', setReq({ object: 0 }), { bad: /request\.object/ }],
    ['object.metadata a string', setReq({ object: { ...pod(goodSpec()), metadata: 'bad-input' } }), { bad: /request\.object\.metadata must be object/ }],
    ['object.metadata.namespace a number', setReq({ object: pod(goodSpec(), { namespace: 5 }) }), { bad: /request\.object\.metadata\.namespace must be string/ }],
    ['object.metadata.namespace an object', setReq({ namespace: undefined, object: pod(goodSpec(), { namespace: { name: 'inference' } }) }), { bad: /request\.object\.metadata\.namespace must be string/ }],
    ['object.metadata.name an array', setReq({ object: pod(goodSpec(), { name: ['a'] }) }), { bad: /request\.object\.metadata\.name must be string/ }],
    ['object.metadata.generateName a boolean', setReq({ object: pod(goodSpec(), { generateName: true }) }), { bad: /request\.object\.metadata\.generateName must be string/ }],
    ['oldObject a string', setReq({ operation: 'UPDATE', oldObject: 'pod' }), { bad: /request\.oldObject must be object,null/ }],
    ['oldObject.metadata.namespace a number', setReq({ operation: 'UPDATE', oldObject: pod(goodSpec(), { namespace: 1 }) }), { bad: /request\.oldObject\.metadata\.namespace must be string/ }],
    ['dryRun a string', setReq({ dryRun: 'true' }), { bad: /request\.dryRun must be boolean,null/ }],
    ['options a string', setReq({ options: 'CreateOptions' }), { bad: /request\.options must be object,null/ }],
  ];
  it.each(cases)('%s', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });

  it('a missing request.namespace falls back to the object\'s (string) namespace', async () => {
    await expectAnswer(review({ namespace: undefined }), { allow: true });
    await expectAnswer(review({ namespace: undefined, object: pod(withSpec((s) => { s['containers'][0]['resources']['limits'][GPU] = '0.5'; })) }), { deny: [['accelerator-limits', LIMIT]] });
  });

  it('v1beta1 is answered in v1beta1; a duplicated uid key is answered with the last one (JSON.parse, like Go)', async () => {
    await expectAnswer(setTop({ apiVersion: 'admission.k8s.io/v1beta1' }), { allow: true });
    const text = JSON.stringify(review()).replace(`"uid":"${UID}"`, `"uid":"first","uid":"${UID}"`);
    const { '/validate': v } = await expectAnswer(text, { allow: true });
    expect(v?.body['response']['uid']).toBe(UID);
  });

  it('a body that is not application/json is refused with a JSON error', async () => {
    const text = JSON.stringify(review());
    const none = await post('/mutate', text, {});
    expect(none.status).toBe(415);
    expect(none.body).toMatchObject({ error: 'BadRequest', message: 'Unsupported Media Type' });
    const protobuf = await post('/validate', text, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    expect(protobuf.status).toBe(415);
    const plain = await post('/validate', text, { 'content-type': 'text/plain' });
    expect(plain).toMatchObject({ status: 400, body: { error: 'BadRequest', message: 'not an AdmissionReview: body must be object' } });
    const bom = await post('/validate', `\uFEFF${text}`);
    expect(bom.status).toBe(200); // fastify strips a UTF-8 byte order mark
    expectNoPollution();
  });
});

// The API server decodes `field: null` into the Go zero value and drops it when it encodes the
// object for a webhook; a review that carries one anyway is answered as if the field were left out.
// Entries of map fields written as null (a nodeSelector value, a limit) are not fields: they stay
// pod-spec-shape findings (below).
describe('struct fields written as null are the field left out', () => {
  it.each<[string, (s: Json) => void, (s: Json) => void]>([
    ['containers', (s) => { s['containers'] = null; }, (s) => { delete s['containers']; }],
    ['priorityClassName', (s) => { s['priorityClassName'] = null; }, (s) => { delete s['priorityClassName']; }],
    ['tolerations', (s) => { s['tolerations'] = null; }, (s) => { delete s['tolerations']; }],
    ['nodeSelector', (s) => { s['nodeSelector'] = null; }, (s) => { delete s['nodeSelector']; }],
    ['resources.requests', (s) => { s['containers'][0]['resources']['requests'] = null; }, (s) => { delete s['containers'][0]['resources']['requests']; }],
  ])('%s: null', async (_name, asNull, absent) => {
    const withNull = podReview(withSpec(asNull));
    const without = podReview(withSpec(absent));
    for (const url of ['/mutate', '/validate']) {
      const [a, b] = [await post(url, JSON.stringify(withNull)), await post(url, JSON.stringify(without))];
      expectWellFormed(a, url, parsed(withNull));
      expect(a.body['response']).toEqual(b.body['response']);
      expect(JSON.stringify(a.body)).not.toContain('pod-spec-shape');
    }
  });
});

describe('wrong types in the Pod spec the engine reads: a pod-spec-shape finding naming the field', () => {
  const cases: Case[] = [
    ['containers a string', podReview(withSpec((s) => { s['containers'] = 'server'; })), { shape: 'spec.containers' }],
    ['containers an object', podReview(withSpec((s) => { s['containers'] = { server: gpuContainer() }; })), { shape: 'spec.containers' }],
    ['a container that is a string', podReview(withSpec((s) => { s['containers'] = ['server']; })), { shape: 'spec.containers[0]' }],
    ['a container that is null', podReview(withSpec((s) => { s['containers'].push(null); })), { shape: 'spec.containers[1]' }],
    ['a container that is an array', podReview(withSpec((s) => { s['containers'] = [[gpuContainer()]]; })), { shape: 'spec.containers[0]' }],
    ['a container name that is a number', podReview(container((c) => { c['name'] = 7; })), { shape: 'spec.containers[0].name' }],
    ['resources a string', podReview(container((c) => { c['resources'] = '1 GPU'; })), { shape: 'spec.containers[0].resources' }],
    ['resources.limits an array', podReview(container((c) => { c['resources']['limits'] = [{ [GPU]: '1' }]; })), { shape: 'spec.containers[0].resources.limits' }],
    ['resources.requests a string', podReview(container((c) => { c['resources']['requests'] = 'nvidia.com/gpu=1'; })), { shape: 'spec.containers[0].resources.requests' }],
    ['a limit that is an object', podReview(container((c) => { c['resources']['limits'][GPU] = { value: 1 }; })), { shape: LIMIT }],
    ['a limit that is an array', podReview(container((c) => { c['resources']['limits'][GPU] = ['1']; })), { shape: LIMIT }],
    ['a limit that is a boolean', podReview(container((c) => { c['resources']['limits'][GPU] = true; })), { shape: LIMIT }],
    ['a limit that is null', podReview(container((c) => { c['resources']['limits'][GPU] = null; })), { shape: LIMIT }],
    ['resources.claims an object', podReview(container((c) => { c['resources']['claims'] = { name: 'gpu' }; })), { shape: 'spec.containers[0].resources.claims' }],
    ['restartPolicy a boolean', podReview(withSpec((s) => { s['initContainers'] = [{ name: 'sidecar', restartPolicy: true }]; })), { shape: 'spec.initContainers[0].restartPolicy' }],
    ['initContainers a string', podReview(withSpec((s) => { s['initContainers'] = 'init'; })), { shape: 'spec.initContainers' }],
    ['an init container that is null', podReview(withSpec((s) => { s['initContainers'] = [null]; })), { shape: 'spec.initContainers[0]' }],
    ['readinessProbe a string', podReview(container((c) => { c['readinessProbe'] = '/health'; })), { shape: 'spec.containers[0].readinessProbe' }],
    ['probe periodSeconds a string', podReview(container((c) => { c['startupProbe']['periodSeconds'] = '10'; })), { shape: 'spec.containers[0].startupProbe.periodSeconds' }],
    ['probe failureThreshold a fraction', podReview(container((c) => { c['startupProbe']['failureThreshold'] = 1.5; })), { shape: 'spec.containers[0].startupProbe.failureThreshold' }],
    ['probe httpGet a string', podReview(container((c) => { c['readinessProbe']['httpGet'] = 'http://:8000/health'; })), { shape: 'spec.containers[0].readinessProbe.httpGet' }],
    ['tolerations a string', podReview(withSpec((s) => { s['tolerations'] = 'everything'; })), { shape: 'spec.tolerations' }],
    ['tolerations an object', podReview(withSpec((s) => { s['tolerations'] = GPU_TOLERATION; })), { shape: 'spec.tolerations' }],
    ['a toleration that is null', podReview(withSpec((s) => { s['tolerations'] = [null]; })), { shape: 'spec.tolerations[0]' }],
    ['a toleration key that is a number', podReview(withSpec((s) => { s['tolerations'][0]['key'] = 1; })), { shape: 'spec.tolerations[0].key' }],
    ['a toleration effect that is an array', podReview(withSpec((s) => { s['tolerations'][0]['effect'] = ['NoSchedule']; })), { shape: 'spec.tolerations[0].effect' }],
    ['tolerationSeconds a fraction', podReview(withSpec((s) => { s['tolerations'][0]['tolerationSeconds'] = 1.5; })), { shape: 'spec.tolerations[0].tolerationSeconds' }],
    ['nodeSelector a string', podReview(withSpec((s) => { s['nodeSelector'] = 'cloud.google.com/gke-accelerator=nvidia-l4'; })), { shape: 'spec.nodeSelector' }],
    ['nodeSelector an array', podReview(withSpec((s) => { s['nodeSelector'] = [L4]; })), { shape: 'spec.nodeSelector' }],
    ['a nodeSelector value that is a number', podReview(withSpec((s) => { s['nodeSelector']['gpus'] = 4; })), { shape: 'spec.nodeSelector.gpus' }],
    ['a nodeSelector value that is null', podReview(withSpec((s) => { s['nodeSelector']['cloud.google.com/gke-accelerator'] = null; })), { shape: 'spec.nodeSelector[cloud.google.com/gke-accelerator]' }],
    ['affinity a string', podReview(withSpec((s) => { s['affinity'] = 'l4'; })), { shape: 'spec.affinity' }],
    ['nodeAffinity an array', podReview(withSpec((s) => { s['affinity'] = { nodeAffinity: [] }; })), { shape: 'spec.affinity.nodeAffinity' }],
    ['required node affinity a string', podReview(withSpec((s) => { s['affinity'] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: 'l4' } }; })), { shape: 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution' }],
    ['nodeSelectorTerms a string', podReview(withSpec((s) => { s['affinity'] = affinity('l4'); })), { shape: TERMS }],
    ['a term that is a number', podReview(withSpec((s) => { s['affinity'] = affinity([1]); })), { shape: `${TERMS}[0]` }],
    ['matchExpressions an object', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: { key: 'a', operator: 'Exists' } }]); })), { shape: `${TERMS}[0].matchExpressions` }],
    ['a requirement without operator', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 'a' }] }]); })), { shape: `${TERMS}[0].matchExpressions[0]` }],
    ['a requirement key that is a number', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 1, operator: 'Exists' }] }]); })), { shape: `${TERMS}[0].matchExpressions[0].key` }],
    ['requirement values a string', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 'a', operator: 'In', values: 'b' }] }]); })), { shape: `${TERMS}[0].matchExpressions[0].values` }],
    ['requirement values holding a number', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 'a', operator: 'Gt', values: [3] }] }]); })), { shape: `${TERMS}[0].matchExpressions[0].values[0]` }],
    ['matchFields a string', podReview(withSpec((s) => { s['affinity'] = affinity([{ matchFields: 'metadata.name=n1' }]); })), { shape: `${TERMS}[0].matchFields` }],
    ['priorityClassName a number', podReview(withSpec((s) => { s['priorityClassName'] = 1000000; })), { shape: 'spec.priorityClassName' }],
    ['priority a string', podReview(withSpec((s) => { s['priority'] = '1000000'; })), { shape: 'spec.priority' }],
    ['serviceAccountName an object', podReview(withSpec((s) => { s['serviceAccountName'] = { name: 'admin' }; })), { shape: 'spec.serviceAccountName' }],
    ['terminationGracePeriodSeconds a string', podReview(withSpec((s) => { s['terminationGracePeriodSeconds'] = '120'; })), { shape: 'spec.terminationGracePeriodSeconds' }],
    ['terminationGracePeriodSeconds a fraction', podReview(withSpec((s) => { s['terminationGracePeriodSeconds'] = 120.5; })), { shape: 'spec.terminationGracePeriodSeconds' }],
    ['schedulingGates a string', podReview(withSpec((s) => { s['schedulingGates'] = 'kueue'; })), { shape: 'spec.schedulingGates' }],
    [
      'a Deployment template whose containers are a string',
      review({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'inference' }, spec: { template: { spec: { containers: 'vllm' } } } } }),
      { shape: 'spec.template.spec.containers' },
    ],
  ];
  it.each(cases)('%s', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });

  it.each<Case>([
    ['spec null', podReview(null), { untouched: true }],
    ['spec an array', podReview([goodSpec()]), { untouched: true }],
    ['spec a string', podReview('spec'), { untouched: true }],
    ['no object on CREATE', review({ object: undefined }), { untouched: true }],
    ['object null on CREATE', review({ object: null }), { untouched: true }],
    ['an object without spec', review({ object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } }), { untouched: true }],
    ['a Secret (a kind without Pod specs)', review({ kind: { group: '', version: 'v1', kind: 'Secret' }, object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { containers: 'eA==' } } }), { untouched: true }],
  ])('%s: no Pod spec to judge, allowed untouched', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });

  it.each<Case>([
    ['resourceClaims a string', podReview(withSpec((s) => { s['resourceClaims'] = 'gpu'; })), { allow: true }],
    ['resource claims that are null, a number and unnamed', podReview(withSpec((s) => { s['resourceClaims'] = [null, 1, { name: 5 }]; })), { allow: true }],
    ['ownerReferences a string', review({ object: pod(goodSpec(), { ownerReferences: 'ReplicaSet/x' }) }), { allow: true }],
    ['ownerReferences holding null', review({ object: pod(goodSpec(), { ownerReferences: [null, 1] }) }), { allow: true }],
    ['labels and annotations of the wrong types', review({ object: pod(goodSpec(), { labels: [1], annotations: 'x' }) }), { allow: true }],
    ['an UPDATE whose oldObject spec has the wrong shape', review({ operation: 'UPDATE', oldObject: pod({ containers: 'x' }) }), { allow: true }],
  ])('%s: fields the engine reads defensively are ignored', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });
});

describe('quantities in accelerator limits', () => {
  const gpus = (q: unknown): Json => podReview(container((c) => {
    c['resources']['limits'][GPU] = q;
    c['resources']['requests'][GPU] = q;
  }));
  const notWhole: [string, unknown][] = [['0.5', '0.5'], ['-1', '-1'], ['0', '0'], ['500m', '500m'], ['1m', '1m'], ['an empty string', ''], ['NaN', 'NaN'], ['0x1', '0x1'], ['1e400', '1e400'], ['2^53 + 1', '9007199254740993'], ['the number 1.5', 1.5], ['a unit without digits', 'Gi'], ['one and a half', '1.5e0']];
  it.each(notWhole)('%s: denied by accelerator-limits at the limit', async (_name, q) => {
    await expectAnswer(gpus(q), { deny: [['accelerator-limits', LIMIT]] });
  });
  const tooMany: [string, string][] = [['1e3', '1e3'], ['1Gi', '1Gi'], ['1k', '1k'], ['9', '9'], ['1E1', '1E1']];
  it.each(tooMany)('%s: a whole number above maxPerPod, denied by accelerator-quantity', async (_name, q) => {
    await expectAnswer(gpus(q), { deny: [['accelerator-quantity', LIMIT]] });
  });
  const one: [string, unknown][] = [['+1', '+1'], ['1.0', '1.0'], [' 1 ', ' 1 '], ['1000m', '1000m'], ['0.001k', '0.001k'], ['the number 1', 1], ['1e0', '1e0'], ['8', '8']];
  it.each(one)('%s: a whole number of devices, allowed (as the API server parses it)', async (_name, q) => {
    await expectAnswer(gpus(q), { allow: true });
  });
  it('a request that differs from the limit is denied at the request', async () => {
    await expectAnswer(podReview(container((c) => { c['resources']['requests'][GPU] = '2'; })), { deny: [['accelerator-limits', `spec.containers[0].resources.requests[${GPU}]`]] });
  });
});

describe('operations and subresources that are not judged: allowed untouched', () => {
  const broken = pod({ containers: 'x', tolerations: [{ operator: 'Exists' }] });
  it.each<Case>([
    ['DELETE with a broken object', review({ operation: 'DELETE', object: null, oldObject: broken }), { untouched: true }],
    ['DELETE without any object', review({ operation: 'DELETE', object: undefined, oldObject: undefined }), { untouched: true }],
    ['CONNECT (pods/exec)', review({ operation: 'CONNECT', subResource: 'exec', kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, object: { kind: 'PodExecOptions', command: ['sh'] } }), { untouched: true }],
    ['CONNECT with a Pod object', review({ operation: 'CONNECT', object: broken }), { untouched: true }],
    ['pods/status UPDATE', review({ operation: 'UPDATE', subResource: 'status', object: broken, oldObject: broken }), { untouched: true }],
    ['pods/ephemeralcontainers UPDATE', review({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: pod({ ...goodSpec(), tolerations: [{ operator: 'Exists' }], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }) }), { untouched: true }],
    ['pods/binding CREATE', review({ subResource: 'binding', kind: { group: '', version: 'v1', kind: 'Binding' }, object: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Node', name: 'gpu-node-1' } } }), { untouched: true }],
    ['pods/eviction CREATE', review({ subResource: 'eviction', kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, object: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p' } } }), { untouched: true }],
    ['pods/resize UPDATE', review({ operation: 'UPDATE', subResource: 'resize', object: broken, oldObject: broken }), { untouched: true }],
  ])('%s', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });
});

describe('__proto__, constructor and prototype keys', () => {
  const poison = '"__proto__":{"polluted":true,"isAdmin":true}';
  const cases: [string, string][] = [
    ['at the top level', `{${poison},${JSON.stringify(review()).slice(1)}`],
    ['in request', rawInsert('request', poison)],
    ['in request.object', rawInsert('object', poison)],
    ['in metadata.labels', rawField('metadata', 'labels', `{${poison}}`)],
    ['in the spec', rawInsert('spec', poison)],
    ['in nodeSelector', rawInsert('nodeSelector', poison)],
    ['in resources.limits', rawInsert('limits', poison)],
    ['in userInfo', rawInsert('userInfo', poison)],
    ['in request.kind', rawInsert('kind', poison)],
    ['as a string value', rawInsert('nodeSelector', '"__proto__":"x"')],
    ['escaped as \\u005f_proto__', rawInsert('nodeSelector', '"\\u005f_proto__":{"polluted":true}')],
    ['constructor.prototype in the spec', rawInsert('spec', '"constructor":{"prototype":{"polluted":true}}')],
    ['constructor.prototype in limits', rawInsert('limits', '"constructor":{"prototype":{"polluted":true}}')],
    ['constructor.prototype at the top', `{"constructor":{"prototype":{"polluted":true}},${JSON.stringify(review()).slice(1)}`],
  ];
  it.each(cases)('%s: refused with 400 and nothing polluted', async (_name, payload) => {
    await expectAnswer(payload, { bad: /./ });
  });

  it('the same keys with plain string values are data: decisions as usual, nothing polluted', async () => {
    const names = ['constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
    const labels = Object.fromEntries(names.map((n) => [n, 'x']));
    await expectAnswer(review({ object: pod(withSpec((s) => { Object.assign(s['nodeSelector'], labels); }), { labels, annotations: labels }) }), { allow: true });
    await expectAnswer(podReview(container((c) => {
      Object.assign(c['resources']['limits'], { constructor: '1', hasOwnProperty: '1' });
      Object.assign(c['resources']['requests'], { toString: '1' });
    })), { allow: true });
    // `hasOwnProperty` as a key must not break own-property checks of the rules.
    await expectAnswer(podReview(container((c) => { c['resources']['limits'] = { hasOwnProperty: '1', [GPU]: '0.5' }; c['resources']['requests'] = { hasOwnProperty: '1' }; })), { deny: [['accelerator-limits', LIMIT]] });
    // An unknown kind is not judged, but its accelerator request is reported, never dropped silently.
    const unknown = await expectAnswer(review({ kind: { group: '', version: 'v1', kind: 'constructor' }, object: pod(goodSpec()) }), { allow: true });
    expect(JSON.stringify(unknown['/validate']?.body['response']['warnings'])).toContain('[unknown-kind] not judged: unknown kind constructor');
    const proto = await expectAnswer(review({ kind: { group: '__proto__', version: 'v1', kind: 'Pod' }, object: pod(goodSpec()) }), { allow: true });
    expect(JSON.stringify(proto['/validate']?.body['response']['warnings'])).toContain('[unknown-kind] not judged: unknown kind Pod.__proto__');
    await expectAnswer(review({ namespace: 'constructor', object: pod(goodSpec(), { namespace: 'constructor' }) }), { deny: [['accelerator-allowed', LIMIT]] });
    await expectAnswer(review({ namespace: '__proto__', object: pod(goodSpec(), { namespace: '__proto__' }) }), { deny: [['accelerator-allowed', LIMIT]] });
  });
});

describe('unicode', () => {
  it('in names: echoed in the denial, stripped from warnings (ASCII only)', async () => {
    const name = '名前-🚀-\u202eevil\u0000';
    const squatter = pod({ containers: [{ name, image: 'busybox' }], tolerations: [{ ...GPU_TOLERATION }] }, { name });
    const { '/validate': v } = await expectAnswer(review({ name, object: squatter }), { deny: [['gpu-squatting', 'spec.tolerations[0]']] });
    expect(v?.body['response']['status']['message']).toContain(name);
    const noProbe = podReview(container((c) => { c['name'] = 'ü\u0007🚀'; delete c['readinessProbe']; delete c['startupProbe']; }));
    // The inference policy requires a readinessProbe: /validate denies, /mutate answers with the warning.
    const { '/mutate': m } = await expectAnswer(noProbe, { deny: [['container-resources', 'spec.containers[0].readinessProbe']] });
    expect(m?.body['response']['warnings']).toEqual([expect.stringMatching(/^\[startup-probe\] container " +" has no probe/)]);
  });

  it('a unicode uid is echoed exactly, lone surrogates included', async () => {
    for (const uid of ['ü-🚀-名前', '\ud800', 'a\u0000b']) {
      const { '/validate': v } = await expectAnswer(review({ uid }), { allow: true });
      expect(v?.body['response']['uid']).toBe(uid);
    }
  });

  it('a unicode namespace is governed like any other (here by the default policy)', async () => {
    await expectAnswer(review({ namespace: 'инференс', object: pod(goodSpec(), { namespace: 'инференс' }) }), { deny: [['accelerator-allowed', LIMIT]] });
  });

  it('a look-alike resource name is not an accelerator', async () => {
    const spoof = `${GPU}\u200b`;
    const cpu = pod({ containers: [{ name: 'c', resources: { limits: { [spoof]: '1' } } }] }, { namespace: 'default' });
    await expectAnswer(review({ namespace: 'default', object: cpu }), { allow: true });
  });
});

describe('huge arrays and maps', () => {
  const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
  const cpu = (i: number): Json => ({ name: `c${i}`, image: 'busybox', resources: { limits: { cpu: '10m' } } });
  const cases: Case[] = [
    [`${SHAPE_LIMITS.containers} containers`, () => podReview(withSpec((s) => { s['containers'] = [gpuContainer(), ...many(SHAPE_LIMITS.containers - 1, cpu)]; })), { allow: true }],
    [`${SHAPE_LIMITS.containers + 1} containers`, () => podReview(withSpec((s) => { s['containers'] = [gpuContainer(), ...many(SHAPE_LIMITS.containers, cpu)]; })), { shape: 'spec.containers' }],
    [`${SHAPE_LIMITS.containers} init containers, half of them GPU sidecars`, () => podReview(withSpec((s) => { s['initContainers'] = many(SHAPE_LIMITS.containers, (i) => ({ name: `i${i}`, restartPolicy: i % 2 ? 'Always' : undefined, resources: { limits: { [GPU]: '1' } } })); })), { deny: [['accelerator-quantity', `spec.initContainers[0].resources.limits[${GPU}]`]] }],
    ['10,000 tolerations', () => podReview(withSpec((s) => { s['tolerations'] = [...many(9_999, (i) => ({ key: `k${i}`, operator: 'Exists' })), GPU_TOLERATION]; })), { allow: true }],
    ['10,001 tolerations', () => podReview(withSpec((s) => { s['tolerations'] = [...many(10_000, (i) => ({ key: `k${i}`, operator: 'Exists' })), GPU_TOLERATION]; })), { shape: 'spec.tolerations' }],
    ['10,000 wildcard tolerations on a CPU Pod', () => podReview({ containers: [cpu(0)], tolerations: many(10_000, () => ({ operator: 'Exists' })) }), { deny: [['gpu-squatting', 'spec.tolerations[0]'], ['gpu-squatting', 'spec.tolerations[49]']] }],
    [`${SHAPE_LIMITS.nodeSelectorTerms} nodeSelectorTerms`, () => podReview(withSpec((s) => { delete s['nodeSelector']; s['affinity'] = affinity(many(SHAPE_LIMITS.nodeSelectorTerms, () => ({ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4'] }] }))); })), { allow: true }],
    [`${SHAPE_LIMITS.nodeSelectorTerms + 1} nodeSelectorTerms`, () => podReview(withSpec((s) => { s['affinity'] = affinity(many(SHAPE_LIMITS.nodeSelectorTerms + 1, () => ({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }))); })), { shape: TERMS }],
    [`${SHAPE_LIMITS.nodeSelectorKeys} nodeSelector keys x ${SHAPE_LIMITS.nodeSelectorTerms} terms`, () => podReview(withSpec((s) => {
      Object.assign(s['nodeSelector'], Object.fromEntries(many(SHAPE_LIMITS.nodeSelectorKeys - 1, (i) => [`k${i}`, 'v'])));
      s['affinity'] = affinity(many(SHAPE_LIMITS.nodeSelectorTerms, () => ({ matchExpressions: [{ key: 'k0', operator: 'Exists' }] })));
    })), { allow: true }],
    [`${SHAPE_LIMITS.nodeSelectorKeys + 1} nodeSelector keys`, () => podReview(withSpec((s) => { Object.assign(s['nodeSelector'], Object.fromEntries(many(SHAPE_LIMITS.nodeSelectorKeys, (i) => [`k${i}`, 'v']))); })), { shape: 'spec.nodeSelector' }],
    [`${SHAPE_LIMITS.requirementsPerTerm} requirements on one key in each of ${Math.floor(SHAPE_LIMITS.requirements / SHAPE_LIMITS.requirementsPerTerm)} terms`, () => podReview(withSpec((s) => {
      delete s['nodeSelector'];
      s['affinity'] = affinity(many(Math.floor(SHAPE_LIMITS.requirements / SHAPE_LIMITS.requirementsPerTerm), () => ({ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4'] }, ...many(SHAPE_LIMITS.requirementsPerTerm - 1, (i) => ({ key: 'cloud.google.com/gke-accelerator', operator: 'NotIn', values: [`v${i}`] }))] })));
    })), { allow: true }],
    [`${SHAPE_LIMITS.requirementsPerTerm + 1} requirements in a term`, () => podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: many(SHAPE_LIMITS.requirementsPerTerm + 1, () => ({ key: 'a', operator: 'NotIn', values: [] })) }]); })), { shape: `${TERMS}[0].matchExpressions` }],
    [`${SHAPE_LIMITS.valuesPerRequirement} values in one requirement`, () => podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4', ...many(SHAPE_LIMITS.valuesPerRequirement - 1, (i) => `v${i}`)] }] }]); })), { allow: true }],
    [`${SHAPE_LIMITS.valuesPerRequirement + 1} values in one requirement`, () => podReview(withSpec((s) => { s['affinity'] = affinity([{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-l4', ...many(SHAPE_LIMITS.valuesPerRequirement, (i) => `v${i}`)] }] }]); })), { shape: `${TERMS}[0].matchExpressions[0].values` }],
    [`${SHAPE_LIMITS.requirements + 1} requirements across the terms`, () => podReview(withSpec((s) => { s['affinity'] = affinity(many(SHAPE_LIMITS.requirements / 50 + 1, () => ({ matchExpressions: many(50, (i) => ({ key: `k${i}`, operator: 'Exists' })) }))); })), { shape: `${TERMS}[${SHAPE_LIMITS.requirements / 50}]` }],
    [`${SHAPE_LIMITS.resourceNames} distinct resource names in ${SHAPE_LIMITS.containers} containers`, () => podReview(withSpec((s) => {
      const names = Object.fromEntries(many(SHAPE_LIMITS.resourceNames - 3, (i) => [`example.com/r${i}`, '1']));
      s['containers'] = [gpuContainer(), ...many(SHAPE_LIMITS.containers - 1, (i) => ({ name: `c${i}`, resources: { limits: { ...names } } }))];
    })), { allow: true }],
    [`${SHAPE_LIMITS.resourceNames + 1} distinct resource names`, () => podReview(container((c) => { Object.assign(c['resources']['limits'], Object.fromEntries(many(SHAPE_LIMITS.resourceNames, (i) => [`nvidia.com/mig-${i}g`, '1']))); })), { shape: 'spec.containers[0].resources.limits' }],
    ['20,000 env entries and a 1 MiB image name (unread fields)', () => podReview(container((c) => { c['env'] = many(20_000, (i) => ({ name: `E${i}`, value: 'x' })); c['image'] = 'i'.repeat(1 << 20); })), { allow: true }],
    ['10,000 ownerReferences claiming a DaemonSet', () => review({ object: pod(goodSpec(), { ownerReferences: many(10_000, () => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true })) }) }), { allow: true }],
    ['10,000 requester groups', () => review({ userInfo: { username: 'alice', groups: many(10_000, (i) => `g${i}`) } }), { allow: true }],
    ['a RayCluster with 2,000 worker groups', () => review({
      kind: { group: 'ray.io', version: 'v1', kind: 'RayCluster' }, resource: { group: 'ray.io', version: 'v1', resource: 'rayclusters' },
      object: { apiVersion: 'ray.io/v1', kind: 'RayCluster', metadata: { name: 'r', namespace: 'inference' }, spec: { workerGroupSpecs: many(2_000, () => ({ template: { spec: goodSpec() } })) } },
    }), { allow: true }],
  ];
  it.each(cases)('%s: answered as documented', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });
});

describe('deep nesting', () => {
  const deep = nestedArrays(10_000);
  const cases: Case[] = [
    ['10,000 levels of arrays in an unread spec field', rawField('spec', 'unread', deep), { bad: /request\.object\.spec\.unread\[0\]\[0\].* nests deeper than 512 levels/ }],
    ['10,000 levels of objects in an annotation', rawField('metadata', 'annotations', `${'{"a":'.repeat(10_000)}"x"${'}'.repeat(10_000)}`), { bad: /request\.object\.metadata\.annotations\.a\.a.* nests deeper than/ }],
    ['10,000 levels in a limit', rawField('limits', 'example.com/deep', deep), { bad: /request\.object\.spec\.containers\[0\]\.resources\.limits\.example\.com\/deep\[0\]/ }],
    ['10,000 levels in a probe handler (copied into a startupProbe)', rawField('httpGet', 'x', deep), { bad: /readinessProbe\.httpGet\.x/ }],
    ['10,000 levels in oldObject', rawField('spec', 'unread', deep, review({ operation: 'UPDATE', object: null, oldObject: pod(goodSpec()) })), { bad: /request\.oldObject\.spec\.unread/ }],
    [
      '10,000 levels in a changed Deployment template on UPDATE',
      JSON.stringify(review({
        operation: 'UPDATE', kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: goodSpec() } } },
        oldObject: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: goodSpec() } } },
      })).replace('"template":{"spec":{', `"template":{"spec":{"unread":${deep},`),
      { bad: /request\.object\.spec\.template\.spec\.unread/ },
    ],
    ['100,000 levels outside the object (request.options), not read', rawField('request', 'options', `{"x":${nestedArrays(100_000)}}`), { allow: true }],
    ['100,000 levels in an unknown top-level field, not read', `{"x":${nestedArrays(100_000)},${JSON.stringify(review()).slice(1)}`, { allow: true }],
  ];
  it.each(cases)('%s', async (_name, payload, expected) => {
    await expectAnswer(payload, expected);
  });

  it(`nesting just under the bound (${MAX_OBJECT_DEPTH}) is judged, mutated and patched like any Pod`, async () => {
    // The probe handler is copied into the startupProbe the mutator adds: the deepest path the
    // engine clones, compares and serialises. object > spec > containers > [0] > readinessProbe > httpGet
    // puts x's outermost array at depth 6: `depth` arrays reach MAX_OBJECT_DEPTH - 1, one more is refused.
    const depth = MAX_OBJECT_DEPTH - 6;
    const text = rawField('httpGet', 'x', nestedArrays(depth), podReview(container((c) => { delete c['startupProbe']; })));
    const { '/mutate': m } = await expectAnswer(text, { allow: true });
    const ops = decodePatchB64(m?.body['response']['patch']) as Json[];
    expect(ops.map((o) => o['path'])).toContain('/spec/containers/0/startupProbe');
    await expectAnswer(rawField('httpGet', 'x', nestedArrays(depth + 1), podReview(goodSpec())), { bad: /nests deeper than/ });
  });
});

describe('body size', () => {
  /** The review padded to exactly `size` bytes inside an annotation (a place the engine walks). */
  function padded(size: number): string {
    const base = JSON.stringify(review({ object: pod(goodSpec(), { annotations: { pad: '' } }) }));
    return base.replace('"pad":""', `"pad":"${'p'.repeat(size - Buffer.byteLength(base))}"`);
  }

  it('exactly 3 MiB on /validate is judged; 3 MiB + 1 is 413 on both endpoints', async () => {
    const exact = padded(BODY_LIMIT);
    expect(Buffer.byteLength(exact)).toBe(BODY_LIMIT);
    await expectAnswer(exact, { allow: true });
    const over = padded(BODY_LIMIT + 1);
    expect(Buffer.byteLength(over)).toBe(BODY_LIMIT + 1);
    await expectAnswer(over, { tooLarge: true });
  });

  it('3 MiB + 1 of multi-byte characters counts bytes, not characters', async () => {
    const base = JSON.stringify(review({ object: pod(goodSpec(), { annotations: { pad: '' } }) }));
    const room = BODY_LIMIT - Buffer.byteLength(base);
    const text = base.replace('"pad":""', `"pad":"${'€'.repeat(Math.floor(room / 3))}${'p'.repeat((room % 3) + 1)}"`);
    expect(Buffer.byteLength(text)).toBe(BODY_LIMIT + 1);
    expect(text.length).toBeLessThan(BODY_LIMIT);
    await expectAnswer(text, { tooLarge: true });
  });

  it('oversized garbage, 10 MiB and a chunked body without Content-Length are 413 without parsing', async () => {
    await expectAnswer('x'.repeat(BODY_LIMIT + 1), { tooLarge: true });
    await expectAnswer(Buffer.alloc(10 * 1024 * 1024, '{').toString(), { tooLarge: true });
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    const stream = Readable.from([chunk, chunk, chunk, Buffer.from('{}')]);
    const a = await post('/mutate', stream);
    expect(a.status).toBe(413);
    expect(a.body).toMatchObject({ error: 'PayloadTooLarge' });
  });
});
