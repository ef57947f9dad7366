/**
 * Property-based fuzzing of the webhook (fast-check): generated Pods and AdmissionReviews built from
 * the shipped policies (pool label keys, values, taints and resources of policies/pools.yaml, the
 * namespaces and classes of every NamespacePolicy), checked against the real engine and, for a
 * sample, the real fastify app through inject.
 *
 * Used by `npm run fuzz` (test/fuzz/fuzz.mjs -> fuzz.long.ts, time-bounded) and by the short,
 * fixed-seed fuzz.test.ts inside `npm test`.
 *
 * Properties and the invariants each checks:
 *   engine     a valid review decodes; /mutate never denies and /validate never patches; warnings
 *              are printable ASCII under 120 characters; the request object is left untouched; a
 *              patch appears only on CREATE of a Pod, only adds (or raises a policy minimum, or
 *              drops the resolved priority), never duplicates a toleration, and applies with the
 *              API server's JSON Patch semantics to the original object;
 *              mutation is idempotent (the patched object yields an empty patch); validate(mutate(x))
 *              has no pool-tolerations finding when the policy's tolerations mutation is on and a
 *              pool could be picked; validate(mutate(x)) denies nothing validate(x) did not; a mutated
 *              Pod (selection or tolerations changed) that validation allows still matches at least
 *              one allowed pool offering its resource.
 *   http       both endpoints answer 200 with apiVersion, kind and uid echoed; /validate carries no
 *              patch; /mutate's patch is the engine's and applies; allowed matches the engine.
 *   malformed  a review with random subtrees replaced, removed or retyped is answered 200 (uid
 *              echoed) or 400 {error, message}, never 500, and Object.prototype stays clean.
 */
import { toEngineRequest } from '../../src/admission/review.js';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { applyLikeApiServer } from '../../src/admission/patch.js';
import { buildResponse } from '../../src/admission/respond.js';
import { type AdmissionReview, BadReview, decodeReview } from '../../src/admission/review.js';
import type { Engine, EngineRequest, Verdict } from '../../src/engine/engine.js';
import type { Finding } from '../../src/engine/types.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { engineFor } from '../../src/engine/build.js';
import type { GpuPool, PolicySet } from '../../src/policy/types.js';
import { buildApp } from '../../src/server/app.js';
import { globMatch } from '../../src/util/glob.js';
import { nextInstance } from '../support/app.js';

type Json = Record<string, any>;

export const POLICIES_DIR = new URL('../../policies/', import.meta.url).pathname;

export interface FuzzContext {
  set: PolicySet;
  engine: Engine;
  app: FastifyInstance;
  /** The same app with the review memo on (server/app.ts, admission/memo.ts). */
  memoApp: FastifyInstance;
}

export async function fuzzContext(): Promise<FuzzContext> {
  const set = await loadPolicyDir(POLICIES_DIR);
  const engine = engineFor(set);
  const app = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine, readiness: () => ({ ready: true, details: {} }) });
  const memoApp = buildApp({ logger: pino({ level: 'silent' }), engine: () => engine, readiness: () => ({ ready: true, details: {} }), memoEntries: 256 });
  await Promise.all([app.ready(), memoApp.ready()]);
  return { set, engine, app, memoApp };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** `a` with probability `present` (in hundredths), else undefined (an absent field). */
const opt = <T>(a: fc.Arbitrary<T>, present = 50): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: present, arbitrary: a }, { weight: 100 - present, arbitrary: fc.constant(undefined) });

/** Drops undefined members, so objects look like parsed JSON. */
function clean<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export interface Arbitraries {
  pod: fc.Arbitrary<Json>;
  review: fc.Arbitrary<Json>;
  malformed: fc.Arbitrary<{ review: Json; corruptions: [number, unknown][] }>;
}

export function arbitraries(set: PolicySet): Arbitraries {
  const pools: GpuPool[] = set.pools;
  const poolResources = [...new Set(pools.flatMap((p) => p.resources).filter((r) => !r.includes('*')))];
  const accelerators = [...poolResources, 'nvidia.com/gpu.shared', 'aws.amazon.com/neuron', 'nvidia.com/mig-7g.80gb', 'deviceclass.resource.kubernetes.io/gpu.nvidia.com'];
  const ordinary = ['cpu', 'memory', 'ephemeral-storage', 'hugepages-2Mi', 'example.com/widget'];
  const labelPairs: [string, string][] = [
    ...pools.flatMap((p) => Object.entries(p.nodeLabels)),
    ['cloud.google.com/gke-accelerator', 'nvidia-h100-80gb'],
    ['kubernetes.io/os', 'linux'],
    ['nvidia.com/gpu.present', 'true'],
    ['node.kubernetes.io/instance-type', 'a2-ultragpu-1g'],
  ];
  const labelKeys = [...new Set(labelPairs.map(([k]) => k)), 'nvidia.com/gpu.count'];
  const labelValues = [...new Set(labelPairs.map(([, v]) => v)), 'other', '0', '4', '8'];
  const taints = pools.flatMap((p) => p.taints);
  const taintKeys = [...new Set(taints.map((t) => t.key))];
  const classes = [...new Set(set.policies.flatMap((p) => [...p.priority.allowedClasses, ...(p.priority.defaultClass ? [p.priority.defaultClass] : [])]))];
  // Namespaces governed by each shipped policy (the default policy governs every other name).
  const gpuNamespaces = [...new Set(set.policies.filter((p) => p.accelerators.allowed && !p.exempt).flatMap((p) => p.namespaces.names))];
  const otherNamespaces = [...new Set([...set.policies.filter((p) => !p.accelerators.allowed || p.exempt).flatMap((p) => p.namespaces.names), 'default', 'team-x', 'kube-system'])];

  const quantity = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }).map(String) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 16 }) },
    { weight: 3, arbitrary: fc.constantFrom('0', '0.5', '-1', '1e3', '1Gi', '+1', '1.0', ' 1 ', '500m', '1000m', '8', '9', '', 'x', '2e0', '16') },
  );
  const ordinaryQuantity = fc.constantFrom('100m', '1', '4', '1Gi', '32Gi', '500Mi');
  const resourceMap = (names: string[], q: fc.Arbitrary<unknown>, maxKeys: number): fc.Arbitrary<Json> => fc.dictionary(fc.constantFrom(...names), q, { maxKeys });
  const resources = fc.record({
    acc: fc.oneof({ weight: 3, arbitrary: resourceMap(accelerators, quantity, 2) }, { weight: 1, arbitrary: fc.constant({}) }),
    plain: resourceMap(ordinary, ordinaryQuantity, 3),
    requests: fc.constantFrom('same', 'same', 'same', 'none', 'plain-only', 'differ'),
    other: resourceMap(accelerators, quantity, 1),
    claims: opt(fc.constant([{ name: 'gpu' }]), 10),
  }).map(({ acc, plain, requests, other, claims }) => {
    const limits = { ...plain, ...acc };
    const r: Json = { limits };
    if (requests === 'same') r['requests'] = { ...limits };
    else if (requests === 'plain-only') r['requests'] = { ...plain };
    else if (requests === 'differ') r['requests'] = { ...plain, ...other };
    if (claims) r['claims'] = claims;
    return r;
  });
  const handler = fc.constantFrom<Json>(
    { httpGet: { path: '/health', port: 8000, scheme: 'HTTP' } }, { tcpSocket: { port: 8000 } }, { grpc: { port: 9000, service: 'health' } },
    { exec: { command: ['cat', '/tmp/ready'] } }, {},
  );
  const probe = fc.record({
    handler,
    periodSeconds: opt(fc.integer({ min: 0, max: 60 })),
    failureThreshold: opt(fc.integer({ min: 0, max: 200 })),
    initialDelaySeconds: opt(fc.integer({ min: 0, max: 900 })),
    timeoutSeconds: opt(fc.integer({ min: 1, max: 10 })),
  }).map(({ handler: h, ...rest }) => clean({ ...h, ...rest }));
  const container = (init: boolean): fc.Arbitrary<Json> => fc.record({
    name: fc.constantFrom('main', 'server', 'worker', 'ü-🚀', 'c'),
    image: fc.constant('example.com/image:1'),
    resources: opt(resources, 90),
    readinessProbe: opt(probe),
    livenessProbe: opt(probe),
    startupProbe: opt(probe, 25),
    restartPolicy: init ? opt(fc.constant('Always'), 50) : fc.constant(undefined),
  }).map(clean);
  const toleration = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...taints).map((t) => clean({ key: t.key, operator: t.value ? 'Equal' : 'Exists', value: t.value || undefined, effect: t.effect })) },
    { weight: 1, arbitrary: fc.constant({ operator: 'Exists' }) },
    { weight: 1, arbitrary: fc.constantFrom(...taintKeys).map((key) => ({ key, operator: 'Exists' })) },
    { weight: 2, arbitrary: fc.record({ key: fc.constantFrom(...taintKeys), operator: fc.constantFrom('Equal', 'Exists', ''), value: fc.constantFrom('present', 'absent', ''), effect: fc.constantFrom('NoSchedule', 'NoExecute', 'PreferNoSchedule', '') })
      .map((t) => clean({ key: t.key, operator: t.operator || undefined, value: t.operator === 'Exists' ? undefined : t.value || undefined, effect: t.effect || undefined })) },
    { weight: 2, arbitrary: fc.constantFrom(...DEFAULT_TOLERATIONS) },
  );
  const nodeSelector = fc.subarray(labelPairs, { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs));
  const requirement = fc.record({
    key: fc.constantFrom(...labelKeys),
    operator: fc.constantFrom('In', 'In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'),
    values: fc.array(fc.constantFrom(...labelValues), { minLength: 1, maxLength: 3 }),
  }).map((r) => (r.operator === 'Exists' || r.operator === 'DoesNotExist' ? { key: r.key, operator: r.operator }
    : r.operator === 'Gt' || r.operator === 'Lt' ? { key: r.key, operator: r.operator, values: [String(r.values.length * 2)] } : r));
  const affinity = fc.array(fc.record({ matchExpressions: fc.array(requirement, { maxLength: 3 }) }), { minLength: 1, maxLength: 3 })
    .map((terms) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } }));

  const spec = fc.record({
    containers: fc.array(container(false), { minLength: 1, maxLength: 3 }),
    initContainers: opt(fc.array(container(true), { minLength: 1, maxLength: 2 }), 30),
    tolerations: opt(fc.array(toleration, { maxLength: 4 })),
    nodeSelector: opt(nodeSelector),
    affinity: opt(affinity, 30),
    priorityClassName: opt(fc.constantFrom(...classes, 'system-node-critical', 'other-class', '')),
    priority: opt(fc.constantFrom(0, 1000, 1000000)),
    preemptionPolicy: opt(fc.constantFrom('PreemptLowerPriority', 'Never'), 40),
    terminationGracePeriodSeconds: opt(fc.integer({ min: 0, max: 1200 })),
    schedulingGates: opt(fc.constant([{ name: 'kueue.x-k8s.io/admission' }]), 10),
    serviceAccountName: opt(fc.constantFrom('default', 'vllm', 'node-agent')),
    resourceClaims: opt(fc.constant([{ name: 'gpu', resourceClaimTemplateName: 'single-gpu' }]), 8),
    restartPolicy: opt(fc.constantFrom('Always', 'OnFailure', 'Never')),
  }).map(clean);

  const owner = fc.constantFrom('ReplicaSet', 'DaemonSet', 'Job', 'StatefulSet').map((kind) => ({ apiVersion: 'apps/v1', kind, name: 'owner', uid: 'owner-uid', controller: true }));
  const meta = fc.record({
    name: fc.constantFrom('p', 'vllm-0', 'train-worker-3', '名前'),
    labels: opt(fc.constant({ app: 'x' })),
    annotations: opt(fc.constant({ 'gpu-admission.io/exempt': 'true' }), 20),
    ownerReferences: opt(fc.array(owner, { minLength: 1, maxLength: 2 }), 30),
  }).map(clean);
  const pod = fc.record({ spec, meta }).map(({ spec: s, meta: m }) => ({ apiVersion: 'v1', kind: 'Pod', metadata: m, spec: s }));

  /** Wraps a Pod's spec and metadata as a workload template. */
  const wrappers: Record<string, (p: Json) => { kind: Json; resource: string; object: Json }> = {
    Pod: (p) => ({ kind: { group: '', version: 'v1', kind: 'Pod' }, resource: 'pods', object: p }),
    Deployment: (p) => ({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: 'deployments', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1, template: { metadata: p['metadata'], spec: p['spec'] } } } }),
    Job: (p) => ({ kind: { group: 'batch', version: 'v1', kind: 'Job' }, resource: 'jobs', object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: p['spec'] } } } }),
    RayCluster: (p) => ({ kind: { group: 'ray.io', version: 'v1', kind: 'RayCluster' }, resource: 'rayclusters', object: { apiVersion: 'ray.io/v1', kind: 'RayCluster', metadata: { name: 'r' }, spec: { workerGroupSpecs: [{ groupName: 'g', template: { spec: p['spec'] } }] } } }),
    PyTorchJob: (p) => ({ kind: { group: 'kubeflow.org', version: 'v1', kind: 'PyTorchJob' }, resource: 'pytorchjobs', object: { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', metadata: { name: 'pt' }, spec: { pytorchReplicaSpecs: { Worker: { replicas: 2, template: { spec: p['spec'] } } } } } }),
  };
  const review = fc.record({
    pod,
    old: pod,
    wrapper: fc.oneof({ weight: 8, arbitrary: fc.constant('Pod') }, { weight: 2, arbitrary: fc.constantFrom('Deployment', 'Job', 'RayCluster', 'PyTorchJob') }),
    namespace: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...gpuNamespaces) }, { weight: 1, arbitrary: fc.constantFrom(...otherNamespaces) }),
    operation: fc.oneof({ weight: 12, arbitrary: fc.constant('CREATE') }, { weight: 3, arbitrary: fc.constant('UPDATE') }, { weight: 1, arbitrary: fc.constantFrom('DELETE', 'CONNECT') }),
    oldIsSame: fc.boolean(),
    subResource: opt(fc.constantFrom('status', 'ephemeralcontainers', 'binding'), 5),
    apiVersion: fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
    uid: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }) }),
    username: fc.constantFrom('alice', 'system:serviceaccount:kube-system:daemon-set-controller', 'system:serviceaccount:kube-system:replicaset-controller', 'system:serviceaccount:kube-system:job-controller'),
    dryRun: fc.boolean(),
  }).map((r) => {
    const wrap = wrappers[r.wrapper] as (p: Json) => { kind: Json; resource: string; object: Json };
    const object = structuredClone(r.pod);
    object['metadata'] = { ...object['metadata'], namespace: r.namespace };
    const now = wrap(object);
    const before = wrap(r.oldIsSame ? structuredClone(object) : { ...structuredClone(r.old), metadata: { ...r.old['metadata'], namespace: r.namespace } });
    const update = r.operation === 'UPDATE';
    const del = r.operation === 'DELETE';
    return {
      apiVersion: r.apiVersion,
      kind: 'AdmissionReview',
      request: clean({
        uid: r.uid,
        kind: now.kind,
        resource: { group: now.kind['group'], version: now.kind['version'], resource: now.resource },
        subResource: r.subResource,
        name: now.object['metadata']?.['name'],
        namespace: r.namespace,
        operation: r.operation,
        userInfo: { username: r.username, groups: ['system:authenticated'] },
        object: del ? null : now.object,
        oldObject: update || del ? before.object : null,
        dryRun: r.dryRun,
        options: { apiVersion: 'meta.k8s.io/v1', kind: `${r.operation[0]}${r.operation.slice(1).toLowerCase()}Options` },
      }),
    };
  });

  const replacement = fc.oneof(
    fc.constant(undefined), fc.constant(null), fc.constant([]), fc.constant({}), fc.constant(''), fc.boolean(), fc.integer(), fc.double(),
    fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom('CREATE', 'Pod', 'admission.k8s.io/v1', 'nvidia.com/gpu', '__proto__', 'constructor', '1e3', '-1'),
  );
  const malformed = fc.record({ review, corruptions: fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 3 }) });
  return { pod, review, malformed };
}

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

export class InvariantBroken extends Error {
  constructor(readonly invariant: string, detail: string) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantBroken';
  }
}

function ensure(ok: boolean, invariant: string, detail: () => string): asserts ok {
  if (!ok) throw new InvariantBroken(invariant, detail());
}

/**
 * Invariant breaks already reported, recognised so that a run keeps looking for new ones (counted
 * in Stats.known; `npm run fuzz -- --strict` fails on them too). Each has a pinned reproduction in
 * fuzz.test.ts (`it.fails`), which starts failing once the bug is fixed: then delete the entry.
 */
export const KNOWN_ISSUES: { id: string; summary: string; matches(object: unknown, introduced: Finding[]): boolean }[] = [];

export interface Stats {
  /** Known issues seen (by KNOWN_ISSUES id) instead of failing. */
  known: Record<string, number>;
  reviews: number;
  engineChecked: number;
  patched: number;
  idempotencyChecked: number;
  poolTolerationsChecked: number;
  /** Allowed Pods whose selection or tolerations the mutation changed, checked to still land on an allowed pool. */
  landingChecked: number;
  noNewDenialChecked: number;
  denied: number;
  skipped: number;
  http: number;
  malformed: number;
  malformed400: number;
  malformed200: number;
  denialsByRule: Record<string, number>;
}

export function newStats(): Stats {
  return { known: {}, reviews: 0, engineChecked: 0, patched: 0, idempotencyChecked: 0, poolTolerationsChecked: 0, landingChecked: 0, noNewDenialChecked: 0, denied: 0, skipped: 0, http: 0, malformed: 0, malformed400: 0, malformed200: 0, denialsByRule: {} };
}

/** The engine request the app builds from a decoded review. */
export const engineRequest: (review: AdmissionReview) => EngineRequest = toEngineRequest;

const findingKey = (f: Finding): string => `${f.ruleId}@${f.path}`;

function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const t of pointer.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Json)[t];
  }
  return v;
}
const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 600) ?? String(v);

function checkWarnings(review: AdmissionReview, v: Verdict, endpoint: string): void {
  const out = buildResponse(review.apiVersion, review.request, v, endpoint === 'mutate');
  for (const w of out.response.warnings ?? []) {
    ensure(w.length < 120 && /^[\x20-\x7e]*$/.test(w), 'warnings are printable ASCII under 120 characters', () => `${endpoint}: ${JSON.stringify(w)}`);
  }
}

function hasShapeFinding(v: Verdict): boolean {
  return [...v.denials, ...v.warnings, ...v.recorded].some((f) => f.ruleId === 'pod-spec-shape');
}

/** Resource names in the containers' limits and requests that some pool offers. */
function acceleratorResources(spec: Json, pools: GpuPool[]): string[] {
  const names = new Set<string>();
  for (const c of [...(Array.isArray(spec['containers']) ? spec['containers'] : []), ...(Array.isArray(spec['initContainers']) ? spec['initContainers'] : [])]) {
    for (const part of ['limits', 'requests']) {
      const q = c?.['resources']?.[part];
      if (q && typeof q === 'object') for (const k of Object.keys(q)) if (pools.some((p) => p.resources.some((g) => globMatch(g, k)))) names.add(k);
    }
  }
  return [...names];
}

/**
 * Whether a node of the pool (carrying exactly the pool's labels on the catalogue's keys; other
 * keys unknown, so they may match) meets the Pod's nodeSelector and one required affinity term,
 * and the Pod tolerates the pool's NoSchedule/NoExecute taints. Written apart from the engine.
 */
function podFitsPool(spec: Json, pool: GpuPool, pools: GpuPool[]): boolean {
  const keys = new Set(pools.flatMap((p) => Object.keys(p.nodeLabels)));
  const labels = pool.nodeLabels;
  const meets = (key: string, op: string, values: string[]): boolean => {
    if (!keys.has(key)) return true;
    const has = Object.hasOwn(labels, key);
    const v = labels[key] as string;
    switch (op) {
      case 'In': return has && values.includes(v);
      case 'NotIn': return !has || !values.includes(v);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      case 'Gt': return has && Number(v) > Number(values[0]);
      case 'Lt': return has && Number(v) < Number(values[0]);
      default: return false;
    }
  };
  const selector = (spec['nodeSelector'] ?? {}) as Record<string, unknown>;
  if (!Object.entries(selector).every(([k, v]) => typeof v !== 'string' || meets(k, 'In', [v]))) return false;
  const terms = spec['affinity']?.['nodeAffinity']?.['requiredDuringSchedulingIgnoredDuringExecution']?.['nodeSelectorTerms'];
  if (Array.isArray(terms) && terms.length > 0) {
    const ok = terms.some((t: Json) => {
      const exprs = Array.isArray(t?.['matchExpressions']) ? t['matchExpressions'] : [];
      const fields = Array.isArray(t?.['matchFields']) ? t['matchFields'] : [];
      if (exprs.length === 0 && fields.length === 0) return false;
      return exprs.every((e: Json) => meets(e['key'], e['operator'], Array.isArray(e['values']) ? e['values'] : []));
    });
    if (!ok) return false;
  }
  const tolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] : [];
  return pool.taints.filter((t) => t.effect !== 'PreferNoSchedule').every((taint) => tolerations.some((t: Json) => {
    if (!t || (t['effect'] && t['effect'] !== taint.effect)) return false;
    const op = t['operator'] || 'Equal';
    if (!t['key']) return op === 'Exists';
    if (t['key'] !== taint.key) return false;
    return op === 'Exists' || (t['value'] ?? '') === (taint.value ?? '');
  }));
}

/** The engine-level invariants of one review (throws InvariantBroken). */
export function checkEngine(ctx: FuzzContext, body: Json, stats: Stats, strict = false): void {
  stats.reviews++;
  let review: AdmissionReview;
  try {
    review = decodeReview(structuredClone(body));
  } catch (err) {
    throw new InvariantBroken('a generated valid review decodes', (err as Error).message);
  }
  const req = engineRequest(review);
  const original = structuredClone(req.object);
  const m = ctx.engine.mutate(req);
  const v = ctx.engine.validate(req);
  stats.engineChecked++;
  ensure(JSON.stringify(req.object) === JSON.stringify(original), 'the engine does not modify the request object', () => 'object changed by mutate/validate');
  ensure(m.denials.length === 0, '/mutate never denies', () => show(m.denials));
  ensure(v.patch.length === 0, '/validate never patches', () => show(v.patch));
  checkWarnings(review, m, 'mutate');
  checkWarnings(review, v, 'validate');
  if (v.skipped) stats.skipped++;
  if (v.denials.length > 0) stats.denied++;
  for (const f of v.denials) stats.denialsByRule[f.ruleId] = (stats.denialsByRule[f.ruleId] ?? 0) + 1;
  if (m.patch.length === 0) return;

  stats.patched++;
  const isPod = req.kind.group === '' && req.kind.kind === 'Pod';
  ensure((isPod && req.operation === 'CREATE') || m.policy?.mutations.templates === true, 'only Pods on CREATE are patched (templates when the policy asks)', () => `${req.kind.kind} ${req.operation}: ${show(m.patch)}`);
  for (const op of m.patch) {
    const ok = op.op === 'add'
      || (op.op === 'replace' && (/\/terminationGracePeriodSeconds$/.test(op.path) || /\/startupProbe\/failureThreshold$/.test(op.path)) && typeof op.value === 'number')
      || (op.op === 'remove' && /\/spec\/(priority|preemptionPolicy)$/.test(op.path))
      // "" is how Kubernetes spells "no class": setting the default over it is not an override.
      || (op.op === 'replace' && /\/priorityClassName$/.test(op.path) && valueAt(req.object, op.path) === '');
    ensure(ok, 'mutation only adds, raises a policy minimum, or drops the resolved priority (never replaces what the user wrote)', () => show(op));
  }
  let patched: unknown;
  try {
    patched = applyLikeApiServer(req.object, m.patch);
  } catch (err) {
    throw new InvariantBroken('the patch applies with the API server\'s JSON Patch semantics', `${(err as Error).message}; patch ${show(m.patch)}`);
  }
  const tolerations = ((patched as Json)['spec']?.['tolerations'] ?? []) as unknown[];
  const distinct = new Set(tolerations.map((t) => JSON.stringify(t)));
  const before0 = new Set(((req.object as Json)['spec']?.['tolerations'] ?? []).map((t: unknown) => JSON.stringify(t)));
  ensure(tolerations.length - distinct.size <= (((req.object as Json)['spec']?.['tolerations'] ?? []) as unknown[]).length - before0.size, 'mutation never duplicates a toleration', () => show(tolerations));
  const again = ctx.engine.mutate({ ...req, object: structuredClone(patched) });
  stats.idempotencyChecked++;
  ensure(again.patch.length === 0, 'mutation is idempotent (the patched object yields an empty patch)', () => `first ${show(m.patch)} then ${show(again.patch)}`);

  const after = ctx.engine.validate({ ...req, object: patched });
  const policy = m.policy;
  const gated = Array.isArray((patched as Json)['spec']?.['schedulingGates']) && (patched as Json)['spec']['schedulingGates'].length > 0;
  const couldPick = policy !== undefined && policy.mutations.tolerations && policy.mode !== 'audit' && !policy.exempt && policy.accelerators.allowed
    && isPod && !gated && !hasShapeFinding(v) && !m.warnings.some((w) => w.ruleId === 'tolerations');
  if (couldPick) {
    stats.poolTolerationsChecked++;
    const left = [...after.denials, ...after.warnings].filter((f) => f.ruleId === 'pool-tolerations');
    ensure(left.length === 0, 'validate(mutate(x)) has no pool-tolerations finding when the tolerations mutation could pick a pool', () => `${show(left)}; patch ${show(m.patch)}`);
  }
  const placed = m.patch.some((op) => /^\/spec\/(nodeSelector|tolerations)(\/|$)/.test(op.path));
  if (placed && isPod && !gated && policy?.mode === 'enforce' && after.denials.length === 0 && !(patched as Json)['spec']?.['nodeName']) {
    const spec = (patched as Json)['spec'] as Json;
    const wanted = acceleratorResources(spec, ctx.set.pools);
    if (wanted.length > 0) {
      stats.landingChecked++;
      const landing = ctx.set.pools.filter((p) => (policy.accelerators.pools.length === 0 || policy.accelerators.pools.includes(p.name))
        && wanted.every((r) => p.resources.some((g) => globMatch(g, r))) && podFitsPool(spec, p, ctx.set.pools));
      ensure(landing.length > 0, 'a mutated Pod still matches at least one allowed pool offering its resource',
        () => `resources ${show(wanted)}; spec ${show({ nodeSelector: spec['nodeSelector'], affinity: spec['affinity'], tolerations: spec['tolerations'] })}; patch ${show(m.patch)}`);
    }
  }
  stats.noNewDenialChecked++;
  const before = new Set(v.denials.map(findingKey));
  const introduced = after.denials.filter((f) => !before.has(findingKey(f)));
  const known = strict || introduced.length === 0 ? undefined : KNOWN_ISSUES.find((k) => k.matches(req.object, introduced));
  if (known) {
    stats.known[known.id] = (stats.known[known.id] ?? 0) + 1;
    return;
  }
  ensure(introduced.length === 0, 'validate(mutate(x)) denies nothing validate(x) did not', () => `${show(introduced.map((f) => `${findingKey(f)}: ${f.message}`))}; patch ${show(m.patch)}`);
}

async function inject(app: FastifyInstance, url: string, payload: string): Promise<{ status: number; body: Json }> {
  const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  let body: Json;
  try {
    body = res.json() as Json;
  } catch {
    throw new InvariantBroken('every answer is JSON', `${url} answered ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
  return { status: res.statusCode, body };
}

const decodePatch = (b64: unknown): unknown[] => (typeof b64 === 'string' ? (JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as unknown[]) : []);

/** The same review through the real app on both endpoints. */
export async function checkHttp(ctx: FuzzContext, body: Json, stats: Stats): Promise<void> {
  stats.http++;
  const payload = JSON.stringify(body);
  const req = engineRequest(decodeReview(structuredClone(body)));
  for (const endpoint of ['mutate', 'validate'] as const) {
    const { status, body: out } = await inject(ctx.app, `/${endpoint}?timeout=10s`, payload);
    ensure(status === 200, 'a valid review is answered with HTTP 200', () => `/${endpoint} ${status} ${show(out)}`);
    ensure(out['apiVersion'] === body['apiVersion'] && out['kind'] === 'AdmissionReview', 'apiVersion and kind are echoed', () => `${out['apiVersion']} ${out['kind']}`);
    const r = out['response'] as Json;
    ensure(r['uid'] === body['request']['uid'], 'the uid is echoed', () => `${show(r['uid'])} for ${show(body['request']['uid'])}`);
    const verdict = endpoint === 'mutate' ? ctx.engine.mutate(structuredClone(req)) : ctx.engine.validate(structuredClone(req));
    ensure(r['allowed'] === (verdict.denials.length === 0), 'allowed matches the engine', () => `${endpoint}: ${r['allowed']} vs ${verdict.denials.length} denials`);
    if (endpoint === 'validate') {
      ensure(r['patch'] === undefined && r['patchType'] === undefined, '/validate never patches', () => show(r));
    } else {
      const ops = decodePatch(r['patch']);
      ensure(JSON.stringify(ops) === JSON.stringify(verdict.patch), '/mutate answers the engine\'s patch', () => `${show(ops)} vs ${show(verdict.patch)}`);
      if (ops.length > 0) {
        ensure(r['patchType'] === 'JSONPatch', 'a patch comes with patchType JSONPatch', () => show(r['patchType']));
        try {
          applyLikeApiServer(body['request']['object'], ops);
        } catch (err) {
          throw new InvariantBroken('the patch applies with the API server\'s JSON Patch semantics', (err as Error).message);
        }
      }
    }
  }
}

const instanceOf = (body: Json, n: number): Json => nextInstance(body as { request: Record<string, unknown> }, n) as Json;

/**
 * The review memo answers a repeat exactly as a fresh judgement would: the review is judged twice
 * by the memo app (the answer is kept), then a third instance gets, byte for byte, the text the
 * plain app gives it.
 */
export async function checkMemo(ctx: FuzzContext, body: Json): Promise<void> {
  for (const endpoint of ['mutate', 'validate'] as const) {
    const url = `/${endpoint}?timeout=10s`;
    for (const n of [1, 2]) await ctx.memoApp.inject({ method: 'POST', url, payload: JSON.stringify(instanceOf(body, n)), headers: { 'content-type': 'application/json' } });
    const third = JSON.stringify(instanceOf(body, 3));
    const [memo, fresh] = await Promise.all([ctx.memoApp, ctx.app].map((app) => app.inject({ method: 'POST', url, payload: third, headers: { 'content-type': 'application/json' } })));
    ensure(memo!.statusCode === fresh!.statusCode && memo!.body === fresh!.body, 'a repeat gets the answer a fresh judgement gives (review memo)',
      () => `/${endpoint}: memo ${memo!.statusCode} ${memo!.body.slice(0, 300)} vs fresh ${fresh!.statusCode} ${fresh!.body.slice(0, 300)}`);
  }
}

/** Every (container, key) of a JSON tree, depth first, for picking what to corrupt. */
function slots(root: unknown): [Json, string | number][] {
  const out: [Json, string | number][] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => { out.push([v as unknown as Json, i]); walk(x); });
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push([v as Json, k]); walk(x); }
  };
  walk(root);
  return out;
}

export function corrupt(review: Json, corruptions: [number, unknown][]): Json {
  const copy = structuredClone(review);
  for (const [index, value] of corruptions) {
    const all = slots(copy);
    if (all.length === 0) break;
    const [parent, key] = all[index % all.length] as [Json, string | number];
    if (value === undefined && !Array.isArray(parent)) delete parent[key as string];
    else parent[key as string] = value === undefined ? null : structuredClone(value);
  }
  return copy;
}

const PRISTINE = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** A corrupted review: 200 with the uid echoed, or 400 {error, message}; never 500. */
export async function checkMalformed(ctx: FuzzContext, body: Json, stats: Stats): Promise<void> {
  stats.malformed++;
  const payload = JSON.stringify(body);
  let decodes = true;
  try {
    decodeReview(JSON.parse(payload));
  } catch (err) {
    ensure(err instanceof BadReview, 'decodeReview throws only BadReview', () => (err as Error).stack ?? String(err));
    decodes = false;
  }
  // fastify refuses __proto__ and constructor.prototype keys (400) before the envelope is decoded.
  const poisoned = /"(?:__proto__|constructor)"\s*:/.test(payload);
  for (const endpoint of ['mutate', 'validate'] as const) {
    const { status, body: out } = await inject(ctx.app, `/${endpoint}`, payload);
    ensure(status === 200 || status === 400, 'a malformed review is answered 200 or 400, never 500', () => `/${endpoint} ${status} ${show(out)}`);
    ensure(status === (decodes && !poisoned ? 200 : 400) || (poisoned && status === 200), 'the answer matches the envelope decoding', () => `/${endpoint} ${status}, decodes ${decodes}`);
    if (status === 400) {
      ensure(out['error'] === 'BadRequest' && typeof out['message'] === 'string' && out['message'].length > 0, 'a 400 carries {error: BadRequest, message}', () => show(out));
    } else {
      ensure(out['response']?.['uid'] === body['request']['uid'], 'the uid is echoed', () => show(out['response']));
      if (endpoint === 'validate') ensure(out['response']['patch'] === undefined, '/validate never patches', () => show(out['response']));
    }
  }
  // With the review memo on, the same answers: a malformed body is refused as before, and one that
  // decodes is answered, the third time, as a fresh judgement answers it.
  for (const endpoint of ['mutate', 'validate'] as const) {
    const url = `/${endpoint}`;
    const send = (app: FastifyInstance) => app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
    await send(ctx.memoApp);
    await send(ctx.memoApp);
    const [memo, fresh] = await Promise.all([send(ctx.memoApp), send(ctx.app)]);
    ensure(memo.statusCode === fresh.statusCode && memo.body === fresh.body, 'the review memo answers a malformed review as without it',
      () => `/${endpoint}: memo ${memo.statusCode} ${memo.body.slice(0, 300)} vs ${fresh.statusCode} ${fresh.body.slice(0, 300)}`);
  }
  if (decodes && !poisoned) stats.malformed200++;
  else stats.malformed400++;
  ensure(Object.getOwnPropertyNames(Object.prototype).sort().join(',') === PRISTINE && ({} as Json)['polluted'] === undefined, 'Object.prototype is never polluted', () => 'Object.prototype changed');
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

export interface PropertyReport {
  property: string;
  runs: number;
  ms: number;
  failed: boolean;
  interrupted: boolean;
  seed: number;
  path?: string;
  shrinks?: number;
  invariant?: string;
  error?: string;
  counterexample?: unknown;
}

export interface FuzzOptions {
  seed: number;
  /** Wall-clock budget of the whole run (split across the properties); only without `numRuns`. */
  seconds?: number;
  /** Fixed run counts (deterministic, for `npm test`): every case runs, no time limit cuts it short. */
  numRuns?: { engine: number; http: number; malformed: number };
  /** Replay a failure: fast-check path of the counterexample (with its seed). */
  path?: string;
  only?: 'engine' | 'http' | 'malformed';
  /** Fail on KNOWN_ISSUES too. */
  strict?: boolean;
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  /** The time budget of a time-bounded run; null for a fixed-count run. */
  seconds: number | null;
  properties: PropertyReport[];
  stats: Stats;
  ok: boolean;
}

const SHARE = { engine: 0.6, http: 0.2, malformed: 0.2 } as const;

export async function runFuzz(ctx: FuzzContext, o: FuzzOptions): Promise<FuzzReport> {
  if (!o.numRuns && !((o.seconds ?? 0) > 0)) throw new Error('runFuzz: give fixed run counts (numRuns) or a time budget (seconds)');
  const arb = arbitraries(ctx.set);
  const stats = newStats();
  const log = o.log ?? (() => undefined);
  const properties: PropertyReport[] = [];
  const plans = [
    { name: 'engine' as const, prop: fc.property(arb.review, (r) => { checkEngine(ctx, r, stats, o.strict); }) },
    { name: 'http' as const, prop: fc.asyncProperty(arb.review, async (r) => { await checkHttp(ctx, r, stats); await checkMemo(ctx, r); }) },
    { name: 'malformed' as const, prop: fc.asyncProperty(arb.malformed, async ({ review, corruptions }) => { await checkMalformed(ctx, corrupt(review, corruptions), stats); }) },
  ].filter((p) => !o.only || p.name === o.only);
  const total = plans.reduce((n, p) => n + SHARE[p.name], 0);
  for (const plan of plans) {
    const budgetMs = Math.max(200, ((o.seconds ?? 0) * 1000 * SHARE[plan.name]) / total);
    const started = performance.now();
    let runs = 0;
    const counted = plan.prop;
    const params: fc.Parameters<unknown> = {
      seed: o.seed,
      numRuns: o.numRuns?.[plan.name] ?? 1_000_000_000,
      // A fixed-count run is the same cases on every machine; only the open-ended run is cut by time.
      ...(o.numRuns ? {} : { plugins: [fc.interruptAfterTimeLimit(budgetMs)] }),
      ...(o.path ? { path: o.path } : {}),
    };
    const before = { ...stats };
    const details = await fc.check(counted as fc.IAsyncProperty<unknown>, params as fc.Parameters<unknown>);
    runs = details.numRuns;
    const ms = performance.now() - started;
    const failed = details.failed && !(details.interrupted && details.counterexample === null);
    const report: PropertyReport = { property: plan.name, runs, ms: Math.round(ms), failed, interrupted: details.interrupted, seed: details.seed };
    if (failed) {
      const err = details.errorInstance as Error | undefined;
      Object.assign(report, {
        path: details.counterexamplePath ?? undefined,
        shrinks: details.numShrinks,
        invariant: err instanceof InvariantBroken ? err.invariant : err?.name ?? 'exception',
        error: (err?.message ?? String(details.errorInstance)).slice(0, 2000),
        counterexample: details.counterexample?.[0],
      });
    }
    properties.push(report);
    log(`${plan.name.padEnd(10)} ${String(runs).padStart(8)} runs in ${(ms / 1000).toFixed(1)} s${failed ? `  FAILED: ${report.invariant}` : ''}` +
      `${plan.name === 'engine' ? ` (patched ${stats.patched - before.patched}, denied ${stats.denied - before.denied})` : ''}`);
  }
  return { seed: o.seed, seconds: o.numRuns ? null : o.seconds ?? null, properties, stats, ok: properties.every((p) => !p.failed) };
}
