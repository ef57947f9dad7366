/**
 * Patch fidelity: every patch the engine produces must apply to the ORIGINAL object the way the
 * API server applies it, give what the mutators intended, and be empty on a second pass.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml, type V1PodSpec, type V1Toleration } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLikeApiServer } from '../src/admission/patch.js';
import { analyse } from '../src/engine/analyse.js';
import type { Engine, Verdict } from '../src/engine/engine.js';
import { mutatePod } from '../src/engine/evaluate.js';
import { loadPolicyDir } from '../src/server/policy-files.js';
import { engineFor } from '../src/engine/build.js';
import type { NamespacePolicy } from '../src/policy/types.js';
import { parseYamlDocuments } from '../src/util/yaml.js';
import { findPodSpecs } from '../src/workload/pod-spec.js';
import { probeBudget } from '../src/workload/probes.js';
import {
  cpuContainer, createRequest, defaultTolerations, engine, gpuContainer, gpuToleration, podSpec, policy,
} from './support/fixtures.js';
import { PUBLIC_DIR, REVIEWS_DIR } from './support/app.js';

type Obj = Record<string, unknown>;

const POLICIES = new URL('../policies/', import.meta.url).pathname;
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const specOf = (o: Obj): V1PodSpec => o['spec'] as V1PodSpec;

// ---------------------------------------------------------------------------------------------
// The Pods

function reviewPods(): { label: string; object: Obj }[] {
  const dir = REVIEWS_DIR;
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().flatMap((f) => {
    const review = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { request: { kind: { kind: string }; object?: Obj } };
    return review.request.kind.kind === 'Pod' && review.request.object ? [{ label: `review ${f}`, object: review.request.object }] : [];
  });
}

/** client-node's loadAllYaml; it throws on an empty document, so such files go document by document. */
function yamlDocuments(text: string): unknown[] {
  try {
    return loadAllYaml(text);
  } catch {
    return parseYamlDocuments(text).map((d) => d.value);
  }
}

function publicPods(): { label: string; object: Obj }[] {
  const dir = PUBLIC_DIR;
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) =>
    yamlDocuments(readFileSync(join(dir, f), 'utf8'))
      .filter((d): d is Obj => d !== null && typeof d === 'object' && (d as Obj)['kind'] === 'Pod')
      .map((object) => ({ label: `public ${f}`, object })));
}

const asPod = (spec: V1PodSpec, name = 'p'): Obj => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
const readiness = { httpGet: { path: '/health', port: 8000 }, periodSeconds: 5 };

function synthesizedPods(): { label: string; object: Obj }[] {
  const A100 = { 'cloud.google.com/gke-accelerator': 'nvidia-a100-80gb' };
  const L4 = { 'cloud.google.com/gke-accelerator': 'nvidia-l4' };
  const rows: [string, V1PodSpec][] = [
    ['no tolerations field, no nodeSelector', podSpec()],
    ['API server default tolerations', podSpec({ tolerations: defaultTolerations(), terminationGracePeriodSeconds: 30, priority: 0, preemptionPolicy: 'PreemptLowerPriority' })],
    ['empty tolerations and nodeSelector', podSpec({ tolerations: [], nodeSelector: {} })],
    ['existing GPU toleration', podSpec({ tolerations: [...(defaultTolerations() ?? []), gpuToleration()] })],
    ['wildcard toleration', podSpec({ tolerations: [{ operator: 'Exists' }] })],
    ['nodeSelector key with a slash, unrelated to pools', podSpec({ nodeSelector: { 'kubernetes.io/arch': 'amd64', 'topology.kubernetes.io/zone': 'us-central1-a' } })],
    ['nodeSelector picks a100', podSpec({ nodeSelector: A100, tolerations: defaultTolerations() })],
    ['nodeSelector picks l4', podSpec({ nodeSelector: L4 })],
    ['required affinity picks a100', podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-a100-80gb'] }] }] } } } })],
    ['readiness probe (startupProbe derived)', podSpec({ containers: [gpuContainer({ readinessProbe: readiness, livenessProbe: readiness })] })],
    ['short startupProbe (raised)', podSpec({ containers: [gpuContainer({ livenessProbe: readiness, startupProbe: { ...readiness, failureThreshold: 3 } })] })],
    ['CPU sidecar and GPU container', podSpec({ containers: [cpuContainer({ name: 'proxy', readinessProbe: readiness }), gpuContainer({ readinessProbe: readiness })] })],
    ['user priorityClassName', podSpec({ priorityClassName: 'inference-standard', priority: 100 })],
    ['MIG slice', podSpec({ containers: [gpuContainer({}, 1, 'nvidia.com/mig-1g.5gb')], tolerations: defaultTolerations() })],
    ['AMD GPU', podSpec({ containers: [gpuContainer({}, 1, 'amd.com/gpu')] })],
    ['long grace period kept', podSpec({ terminationGracePeriodSeconds: 3600 })],
    ['gated by Kueue', podSpec({ schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }], tolerations: defaultTolerations() })],
    ['CPU only', { containers: [cpuContainer()], tolerations: defaultTolerations() }],
  ];
  return rows.map(([label, spec]) => ({ label: `synthetic ${label}`, object: asPod(spec) }));
}

/** Each corpus Pod again without tolerations, without nodeSelector, and with a slash-keyed selector. */
function variants(pods: { label: string; object: Obj }[]): { label: string; object: Obj }[] {
  return pods.flatMap(({ label, object }) => {
    const strip = (field: 'tolerations' | 'nodeSelector'): Obj => {
      const o = json(object);
      delete specOf(o)[field];
      return o;
    };
    const slash = json(object);
    specOf(slash).nodeSelector = { ...specOf(slash).nodeSelector, 'kubernetes.io/os': 'linux' };
    return [
      { label: `${label} without tolerations`, object: strip('tolerations') },
      { label: `${label} without nodeSelector`, object: strip('nodeSelector') },
      { label: `${label} with kubernetes.io/os selector`, object: slash },
    ];
  });
}

function allPods(): { label: string; object: Obj }[] {
  const corpus = [...reviewPods(), ...publicPods()];
  return [...corpus, ...variants(corpus), ...synthesizedPods()];
}

// ---------------------------------------------------------------------------------------------
// The engines

/** Fixture policies, one namespace each, covering the switches that change the patch. */
function fixtureEngine(): Engine {
  const full = {
    accelerators: { defaultPool: 'l4' }, startupProbe: { minBudgetSeconds: 600 }, terminationGracePeriodSeconds: 300,
    priority: { defaultClass: 'gpu-standard' },
  };
  return engine([
    policy(full, 'team-policy'),
    policy({ ...full, namespaces: { names: ['no-default-pool'] }, accelerators: {} }, 'no-default-pool'),
    policy({ ...full, namespaces: { names: ['no-selector'] }, accelerators: { defaultPool: 'a100' }, mutations: { defaultPoolNodeSelector: false } }, 'no-selector'),
    policy({ namespaces: { names: ['tolerations-only'] }, accelerators: { defaultPool: 'a100' } }, 'tolerations-only'),
    policy({ ...full, namespaces: { names: ['audit'] }, mode: 'audit' }, 'audit'),
    policy({ namespaces: { names: ['exempt'] }, exempt: true }, 'exempt'),
  ]);
}

const FIXTURE_NAMESPACES = ['team', 'no-default-pool', 'no-selector', 'tolerations-only', 'audit', 'exempt'];
const SHIPPED_NAMESPACES = ['inference', 'training', 'notebooks', 'default', 'gpu-operator'];

// ---------------------------------------------------------------------------------------------
// The check

interface Outcome {
  patched: Obj;
  first: Verdict;
  tolerationsFixed: boolean;
  hadPoolTolerations: boolean;
}

const poolTolerationFindings = (v: Verdict): number => [...v.denials, ...v.warnings, ...v.recorded].filter((f) => f.ruleId === 'pool-tolerations').length;

function inNamespace(object: Obj, namespace: string): Obj {
  const o = json(object);
  o['metadata'] = { ...(o['metadata'] as Obj | undefined), namespace };
  return o;
}

/** What the mutators mean to do to this Pod's spec, computed without the Engine. */
function intendedSpec(eng: Engine, object: Obj, namespace: string, pol: NamespacePolicy | undefined): V1PodSpec {
  const spec = specOf(object);
  if (!pol || pol.exempt || pol.mode === 'audit') return spec;
  const metadata = object['metadata'] as Obj;
  const a = analyse({ target: { spec, pointer: '/spec', path: 'spec', isTemplate: false, metadata }, namespace, objectMeta: metadata, policy: pol, config: eng.config });
  return mutatePod(a).spec;
}

/** Properties of the result that hold whatever the mutators' internals: the policy's promises. */
function checkPromises(eng: Engine, original: Obj, patched: Obj, namespace: string, pol: NamespacePolicy | undefined, first: Verdict): void {
  const before = specOf(original);
  const after = specOf(patched);
  // Never rewrite what the user wrote: lists are appended to, maps only gain keys.
  expect(after.tolerations?.slice(0, before.tolerations?.length ?? 0) ?? []).toEqual(before.tolerations ?? []);
  expect(after.nodeSelector ?? {}).toMatchObject(before.nodeSelector ?? {});
  const added = (after.tolerations ?? []).slice(before.tolerations?.length ?? 0);
  expect(new Set(added.map((t: V1Toleration) => JSON.stringify(t))).size).toBe(added.length);
  for (const op of first.patch) expect(op.path.startsWith('/spec/')).toBe(true);
  if (!pol || pol.exempt || pol.mode === 'audit') {
    expect(first.patch).toEqual([]);
    return;
  }
  const metadata = original['metadata'] as Obj;
  const a = analyse({ target: { spec: before, pointer: '/spec', path: 'spec', isTemplate: false, metadata }, namespace, objectMeta: metadata, policy: pol, config: eng.config });
  if (!a.acc.isAcceleratorPod) {
    expect(first.patch).toEqual([]);
    return;
  }
  const m = pol.mutations;
  if (m.terminationGracePeriod && pol.terminationGracePeriodSeconds !== undefined) {
    expect(after.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Math.max(pol.terminationGracePeriodSeconds, before.terminationGracePeriodSeconds ?? 0));
  }
  if (m.priorityClass && pol.priority.defaultClass && !before.priorityClassName) {
    expect(after.priorityClassName).toBe(pol.priority.defaultClass);
    expect(after).not.toHaveProperty('priority');
    expect(after).not.toHaveProperty('preemptionPolicy');
  }
  if (before.priorityClassName) expect(after.priorityClassName).toBe(before.priorityClassName);
  const min = pol.startupProbe.minBudgetSeconds;
  if (m.startupProbe && min) {
    for (const ref of a.acc.acceleratorContainers) {
      const b = before.containers[ref.index];
      const c = after.containers[ref.index];
      if (b?.startupProbe || b?.readinessProbe?.httpGet || b?.livenessProbe?.httpGet) {
        expect(c?.startupProbe, `${ref.path}.startupProbe`).toBeDefined();
        expect(probeBudget(c?.startupProbe ?? {})).toBeGreaterThanOrEqual(min);
      }
    }
  }
}

function roundTrip(eng: Engine, label: string, source: Obj, namespace: string): Outcome {
  const original = inNamespace(source, namespace);
  const snapshot = json(original);
  const pol = eng.resolver.resolve(namespace);

  const first = eng.mutate(createRequest(original, namespace));
  expect(original, 'mutate must not touch the request object').toEqual(snapshot);

  let patched: Obj;
  try {
    patched = applyLikeApiServer(snapshot, first.patch);
  } catch (err) {
    throw new Error(`${label} in ${namespace}: the API server would reject the patch ${JSON.stringify(first.patch)}: ${(err as Error).message}`);
  }

  // Only the spec changes, and it changes into what the mutators intended.
  expect({ ...patched, spec: undefined }).toEqual({ ...snapshot, spec: undefined });
  expect(specOf(patched)).toEqual(json(intendedSpec(eng, snapshot, namespace, pol)));
  checkPromises(eng, snapshot, patched, namespace, pol, first);

  // Idempotence: the patched object needs no further patch.
  const second = eng.mutate(createRequest(json(patched), namespace));
  expect(second.patch, `${label} in ${namespace}: second pass`).toEqual([]);

  const hadPoolTolerations = poolTolerationFindings(eng.validate(createRequest(json(snapshot), namespace))) > 0;
  const after = poolTolerationFindings(eng.validate(createRequest(json(patched), namespace)));
  const cannotFix = !pol || pol.mode === 'audit' || !pol.mutations.tolerations || first.warnings.some((w) => w.ruleId === 'tolerations');
  if (!cannotFix) expect(after, `${label} in ${namespace}: pool-tolerations after mutation`).toBe(0);
  return { patched, first, tolerationsFixed: hadPoolTolerations && after === 0, hadPoolTolerations };
}

// ---------------------------------------------------------------------------------------------

const pods = allPods();

describe('the Pod table', () => {
  it('holds every Pod review and every public Pod manifest', () => {
    const reviews = pods.filter((p) => p.label.startsWith('review ') && !p.label.includes(' with')).length;
    expect(reviews).toBe(reviewPods().length);
    expect(reviews).toBeGreaterThanOrEqual(5);
    const names = publicPods().map((p) => (p.object['metadata'] as Obj)['name']);
    expect(names).toEqual(expect.arrayContaining(['cuda-smoke', 'dra-two-containers', 'rocm-resnet-bench', 'mig-inference-probe', 'jax-tpu-smoke']));
  });
});

describe.each([
  { engineName: 'fixture policies', namespaces: FIXTURE_NAMESPACES, make: async (): Promise<Engine> => fixtureEngine() },
  { engineName: 'shipped policies/', namespaces: SHIPPED_NAMESPACES, make: async (): Promise<Engine> => engineFor(await loadPolicyDir(POLICIES)) },
])('patch fidelity with $engineName', ({ namespaces, make }) => {
  let eng: Engine;
  const outcomes: Outcome[] = [];
  beforeAll(async () => {
    eng = await make();
  });

  const rows = pods.flatMap((p) => namespaces.map((namespace) => ({ ...p, namespace })));
  it.each(rows)('$label in $namespace', ({ label, object, namespace }) => {
    outcomes.push(roundTrip(eng, label, object, namespace));
  });

  it('the table exercises real patches that fix missing tolerations', () => {
    expect(outcomes).toHaveLength(rows.length);
    expect(outcomes.filter((o) => o.first.patch.length > 0).length).toBeGreaterThan(rows.length / 4);
    expect(outcomes.filter((o) => o.tolerationsFixed).length).toBeGreaterThan(10);
    expect(outcomes.some((o) => o.first.patch.some((op) => op.path.includes('~1')))).toBe(true);
  });
});

describe('patch fidelity: targeted expectations', () => {
  it('a corpus Pod in inference gets tolerations appended after the defaults and the l4 selector as a new map', () => {
    const [review] = reviewPods();
    if (!review) throw new Error('no Pod review in the corpus');
    return loadPolicyDir(POLICIES).then((set) => {
      const { patched, first } = roundTrip(engineFor(set), review.label, review.object, 'inference');
      const spec = specOf(patched);
      expect(spec.tolerations).toEqual([...(specOf(review.object).tolerations ?? []), gpuToleration()]);
      expect(spec.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
      expect(spec.priorityClassName).toBe('inference-critical');
      expect(spec.terminationGracePeriodSeconds).toBe(120);
      expect(first.patch).toEqual(expect.arrayContaining([
        { op: 'add', path: '/spec/tolerations/2', value: gpuToleration() },
        { op: 'add', path: '/spec/nodeSelector', value: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } },
        { op: 'remove', path: '/spec/priority' },
      ]));
    });
  });

  it('with several fitting pools and no default pool nothing is tolerated and the finding stays', () => {
    const eng = fixtureEngine();
    const { first, patched, hadPoolTolerations } = roundTrip(eng, 'bare', asPod(podSpec()), 'no-default-pool');
    expect(first.warnings.map((w) => w.ruleId)).toContain('tolerations');
    expect(specOf(patched).tolerations).toBeUndefined();
    expect(hadPoolTolerations).toBe(true);
    expect(poolTolerationFindings(eng.validate(createRequest(patched, 'no-default-pool')))).toBe(1);
  });

  it('the same patch applied with the missing parent removed is refused, as the API server would', () => {
    const eng = fixtureEngine();
    const object = asPod(podSpec({ tolerations: defaultTolerations() }));
    const { patch } = eng.mutate(createRequest(json(object), 'team'));
    const appended = patch.find((op) => op.path.startsWith('/spec/tolerations/'));
    expect(appended).toBeDefined();
    delete specOf(object).tolerations;
    expect(() => applyLikeApiServer(object, patch)).toThrow(/doc is missing path/);
  });
});

describe('patch fidelity of Pod templates (mutations.templates on)', () => {
  const eng = engine([policy({
    accelerators: { defaultPool: 'l4' }, startupProbe: { minBudgetSeconds: 600 }, terminationGracePeriodSeconds: 300,
    priority: { defaultClass: 'gpu-standard' }, mutations: { templates: true },
  })]);
  const dir = PUBLIC_DIR;
  const objects = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) =>
    yamlDocuments(readFileSync(join(dir, f), 'utf8'))
      .filter((d): d is Obj => d !== null && typeof d === 'object' && typeof (d as Obj)['kind'] === 'string' && (d as Obj)['kind'] !== 'Pod')
      .map((object) => ({ label: `${f} ${String(object['kind'])}`, object })));

  it.each(objects)('$label', ({ label, object }) => {
    const apiVersion = String(object['apiVersion'] ?? 'v1');
    const kind = { group: apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '', kind: String(object['kind']) };
    const original = inNamespace(object, 'team');
    const request = (o: Obj): Parameters<Engine['mutate']>[0] => ({ kind, operation: 'CREATE', namespace: 'team', name: 'x', object: json(o) });
    const first = eng.mutate(request(original));
    let patched: Obj;
    try {
      patched = applyLikeApiServer(original, first.patch);
    } catch (err) {
      throw new Error(`${label}: the API server would reject ${JSON.stringify(first.patch)}: ${(err as Error).message}`);
    }
    expect({ ...patched, spec: undefined }).toEqual({ ...original, spec: undefined });
    expect(eng.mutate(request(patched)).patch, `${label}: second pass`).toEqual([]);
    // Virtual specs (a KServe `model`) are validated but cannot be patched.
    const patchable = findPodSpecs(kind, original).every((t) => !t.virtual);
    if (patchable && !first.warnings.some((w) => w.ruleId === 'tolerations')) {
      expect(poolTolerationFindings(eng.validate(request(patched))), `${label}: pool-tolerations after mutation`).toBe(0);
    }
  });

  it('patches templates at their own pointers', () => {
    const deployment = objects.find((o) => o.object['kind'] === 'Deployment');
    if (!deployment) throw new Error('no Deployment in the public corpus');
    const { patch } = eng.mutate({ kind: { group: 'apps', kind: 'Deployment' }, operation: 'CREATE', namespace: 'team', object: inNamespace(deployment.object, 'team') });
    expect(patch.length).toBeGreaterThan(0);
    for (const op of patch) expect(op.path.startsWith('/spec/template/spec/')).toBe(true);
  });
});
