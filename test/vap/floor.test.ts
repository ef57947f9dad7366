// The admission policy floor (src/vap): every generated expression compiles and evaluates in a CEL
// implementation (test/vap/harness.ts), and a differential test against the engine: for generated
// Pods (the fuzzer's generators, fixed seed) and the fixture manifests' Pods and Pod templates, in
// namespaces of every policy, the CEL verdict per rule equals the engine's verdict for that rule.
// The floor may allow what the webhook denies only for the documented reasons (GAPS below); it
// never denies what the webhook allows.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCLUDED_NAMESPACES } from '../../src/admission/exclusions.js';
import { simulate } from '../../src/admission/simulate.js';
import { acceleratorMatcher } from '../../src/engine/build.js';
import { Engine } from '../../src/engine/engine.js';
import type { Finding } from '../../src/engine/types.js';
import { parsePolicies } from '../../src/policy/parse.js';
import { PolicyResolver, selectorMatches } from '../../src/policy/resolve.js';
import type { PolicySet } from '../../src/policy/types.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { admissionPolicyFloor, FLOOR_RULES, type FloorPolicy } from '../../src/vap/floor.js';
import { renderFloorYaml } from '../../src/vap/render.js';
import { parseYamlDocuments } from '../../src/util/yaml.js';
import { groupOf } from '../../src/workload/kinds.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { FRACTION_ANNOTATIONS } from '../../src/workload/vendors.js';
import { arbitraries, POLICIES_DIR } from '../fuzz/properties.js';
import { loadManifest, publicManifests } from '../support/corpus.js';
import { compile, evaluateVap, parseK8sQuantity } from './harness.js';

type Json = Record<string, any>;

const SEED = 20261201;
const GENERATED = 10_000;
const USERS = ['alice', 'system:serviceaccount:kube-system:daemon-set-controller', 'system:serviceaccount:kube-system:replicaset-controller', 'system:kube-controller-manager'];

/** Policies that exercise what the shipped ones do not: exemptions, node agents, audit, globs, a selector-only policy. */
const EXTRA_POLICIES = `
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: agents}
spec:
  namespaces:
    names: [monitoring, kube-system]
    selector: {matchLabels: {team: ml}}
  mode: audit
  accelerators: {allowed: true, resources: ['nvidia.com/*'], maxPerPod: 2}
  nodeAgents: [{name: dcgm-exporter}, {name: owner}]
  exemptions:
    - rules: [privileged-accelerator, device-hostpath]
      serviceAccounts: [node-agent]
  deviceIsolation: {visibleDevices: false}
---
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: batch}
spec:
  namespaces:
    selector:
      matchExpressions: [{key: team, operator: In, values: [batch, hpc]}]
  mode: warn
  accelerators: {allowed: true, resources: [amd.com/gpu]}
  exemptions:
    - rules: ['*']
      groups: [ml-admins]
---
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: locked}
spec:
  default: true
  accelerators: {allowed: false}
  exemptions:
    - rules: [priority-class, gpu-squatting]
      users: [alice]
---
apiVersion: gpu-admission.io/v1alpha1
kind: AcceleratorConfig
metadata: {name: cluster}
spec:
  resources: [example.com/widget, 'xilinx.com/fpga-*']
  ignore: [nvidia.com/gpu.shared, 'aws.amazon.com/neuron*']
  guessByName: false
---
apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: system}
spec:
  exempt: true
  namespaces: {names: [gpu-operator]}
`;

function extraSet(): PolicySet {
  return parsePolicies([
    { path: 'pools.yaml', text: readFileSync(join(POLICIES_DIR, 'pools.yaml'), 'utf8') },
    { path: 'extra.yaml', text: EXTRA_POLICIES },
  ]);
}

interface Namespace {
  name: string;
  labels: Record<string, string>;
}

/** Namespaces of every kind: named, selected by labels, the default's, excluded, exempt. */
function namespacesOf(set: PolicySet): Namespace[] {
  const out = new Map<string, Record<string, string>>();
  for (const p of set.policies) {
    for (const n of p.namespaces.names.slice(0, 2)) out.set(n, {});
    const sel = p.namespaces.selector;
    if (sel) {
      const labels: Record<string, string> = { ...(sel.matchLabels ?? {}) };
      for (const e of sel.matchExpressions ?? []) {
        if (e.operator === 'In') labels[e.key] = e.values?.at(-1) ?? '';
        if (e.operator === 'Exists') labels[e.key] = 'x';
      }
      out.set(`sel-${p.name}`, labels);
      // A named namespace with the labels too: its name wins.
      const named = set.policies.find((q) => q !== p && q.namespaces.names.length > 0);
      if (named) out.set(named.namespaces.names[0] as string, labels);
    }
  }
  for (const n of ['default', 'team-x', ...EXCLUDED_NAMESPACES]) if (!out.has(n)) out.set(n, { unrelated: 'label' });
  return [...out].map(([name, labels]) => ({ name, labels: { ...labels, 'kubernetes.io/metadata.name': name } }));
}

function engineWithLabels(set: PolicySet, namespaces: Namespace[]): Engine {
  const byName = new Map(namespaces.map((n) => [n.name, n.labels]));
  return new Engine(new PolicyResolver(set, { labels: (ns) => byName.get(ns), version: 1 }), { pools: set.pools, accelerators: acceleratorMatcher(set) });
}

const containersOf = (pod: Json): Json[] => [...(pod['spec']?.['initContainers'] ?? []), ...(pod['spec']?.['containers'] ?? [])];
const resourceKeys = (pod: Json): string[] => containersOf(pod).flatMap((c) => [...Object.keys(c?.resources?.limits ?? {}), ...Object.keys(c?.resources?.requests ?? {})]);
const K8S_DOMAIN = /^(kubernetes\.io|[^/]*\.kubernetes\.io|[^/]*\.k8s\.io)\//;

/**
 * Why the floor may allow what the webhook denies, per rule (docs/admission-policy-floor.md, "What
 * only the webhook does"). A disagreement none of these explains fails the test.
 */
function gaps(set: PolicySet): Record<string, (pod: Json, findings: Finding[]) => string | undefined> {
  const matcher = acceleratorMatcher(set);
  const requestsAccelerator = (pod: Json): boolean =>
    resourceKeys(pod).some((r) => matcher.matches(r)) || FRACTION_ANNOTATIONS.some((f) => Object.hasOwn(pod['metadata']?.['annotations'] ?? {}, f.key));
  const claims = (pod: Json): boolean => (pod['spec']?.['resourceClaims'] ?? []).length > 0;
  return {
    'accelerator-allowed': (pod) => (claims(pod) ? 'resource claims (DRA)' : undefined),
    'accelerator-limits': () => undefined,
    'accelerator-quantity': (pod, fs) => {
      if (fs.every((f) => f.message.includes('any node of its pools'))) return 'the pools\' maxPerPod (pool catalogue)';
      const init = pod['spec']?.['initContainers'] ?? [];
      return init.some((c: Json) => c.restartPolicy === 'Always') && init.some((c: Json) => c.restartPolicy !== 'Always') ? 'init peak with earlier sidecars' : undefined;
    },
    'gpu-squatting': (pod, fs) => {
      if (pod['spec']?.['nodeName']) return 'spec.nodeName (a live node decides)';
      if (resourceKeys(pod).some((r) => r.includes('/') && (!K8S_DOMAIN.test(r) || r.startsWith('deviceclass.resource.kubernetes.io/')))) return 'an extended resource a live cluster may count';
      if (fs.every((f) => f.message.includes('selects only accelerator nodes'))) return 'node selection of accelerator nodes (pool catalogue)';
      return undefined;
    },
    'visible-devices': () => undefined,
    'privileged-accelerator': (pod) => (requestsAccelerator(pod) ? undefined : 'reach through the GPU pools a Pod may land on'),
    'device-hostpath': (pod) => {
      if (!requestsAccelerator(pod)) return 'reach through the GPU pools a Pod may land on';
      const odd = (pod['spec']?.['volumes'] ?? []).some((v: Json) => typeof v?.hostPath?.path === 'string' && (/(^|\/)\.\.?(\/|$)/.test(v.hostPath.path) || v.hostPath.path.includes('//')));
      return odd ? 'a hostPath with . / .. segments or doubled slashes' : undefined;
    },
    'priority-class': (pod) => (String(pod['spec']?.['priorityClassName'] ?? '').startsWith('system-') ? undefined : 'classes other than system-* (the globalDefault is the cluster\'s)'),
  };
}

/** The Pod as the API server hands it to admission: quantities are strings. Undefined when it would not decode. */
function admissible(pod: Json): Json | undefined {
  const copy = structuredClone(pod);
  for (const c of containersOf(copy)) {
    for (const field of ['limits', 'requests']) {
      const m = c?.resources?.[field];
      if (!m) continue;
      for (const [k, v] of Object.entries(m)) {
        const s = typeof v === 'number' ? String(v) : v;
        if (typeof s !== 'string' || !parseK8sQuantity(s)) return undefined;
        m[k] = s;
      }
    }
  }
  return copy;
}

interface Tally {
  pods: number;
  skipped: number;
  evaluations: number;
  agree: Record<string, number>;
  denied: Record<string, number>;
  gaps: Record<string, number>;
  problems: string[];
}

function newTally(): Tally {
  return { pods: 0, skipped: 0, evaluations: 0, agree: {}, denied: {}, gaps: {}, problems: [] };
}

function differential(set: PolicySet, floor: FloorPolicy[], engine: Engine, pod: Json, ns: Namespace, username: string, groups: string[], tally: Tally, gapOf: ReturnType<typeof gaps>): void {
  const object = admissible(pod);
  if (!object) {
    tally.skipped++;
    return;
  }
  object['metadata'] = { ...object['metadata'], namespace: ns.name };
  const userInfo = { username, groups };
  const verdict = engine.validate({ kind: { group: '', kind: 'Pod' }, operation: 'CREATE', namespace: ns.name, object, userInfo });
  const all = [...verdict.denials, ...verdict.warnings, ...verdict.recorded];
  if (all.some((f) => f.ruleId === 'pod-spec-shape' || f.ruleId === 'too-complex') || verdict.overBudget) {
    tally.skipped++;
    return;
  }
  tally.pods++;
  // The webhook never sees the excluded namespaces.
  const excluded = EXCLUDED_NAMESPACES.includes(ns.name);
  const engineRules = new Map<string, Finding[]>();
  if (!excluded) for (const f of all) if (!f.advisory) engineRules.set(f.ruleId, [...(engineRules.get(f.ruleId) ?? []), f]);
  const celRules = new Set<string>();
  const covered = new Set<string>();
  let bound = 0;
  for (const fp of floor) {
    const matching = fp.bindings.filter((b) => selectorMatches(b.spec.matchResources.namespaceSelector, ns.labels));
    if (matching.length === 0) continue;
    if (matching.length > 1) tally.problems.push(`${fp.vap.metadata.name}: ${matching.length} bindings match namespace ${ns.name}`);
    const r = evaluateVap(fp.vap, { object, namespaceObject: { metadata: { name: ns.name, labels: ns.labels } }, request: { operation: 'CREATE', namespace: ns.name, userInfo } });
    tally.evaluations++;
    for (const e of r.errors) tally.problems.push(`${fp.vap.metadata.name} on ${JSON.stringify(object)}: evaluation error ${e.error}`);
    if (r.failed.length > 0 || (fp.policy === verdict.policy?.name)) bound++;
    if (fp.policy === verdict.policy?.name) for (const v of fp.validations) covered.add(v.rule);
    for (const i of r.failed) celRules.add(fp.validations[i]?.rule as string);
  }
  if (bound > 1) tally.problems.push(`namespace ${ns.name}: more than one floor policy applies`);
  // While the webhook is down the floor judges the Pod as written; the webhook would have judged it
  // after its own mutation: what the floor refuses, the mutated Pod must still be refused for.
  if (celRules.size > 0) {
    const sim = simulate(engine, { kind: { group: '', kind: 'Pod' }, operation: 'CREATE', namespace: ns.name, object, userInfo });
    const after = sim.validated ?? sim.mutated;
    const denied = new Set([...after.denials, ...after.warnings, ...after.recorded].filter((f) => !f.advisory).map((f) => f.ruleId));
    for (const rule of celRules) if (!denied.has(rule)) tally.problems.push(`${rule}: the floor denies a Pod the webhook would allow after mutating it (namespace ${ns.name}): ${JSON.stringify(object)}`);
  }
  for (const rule of FLOOR_RULES) {
    const cel = celRules.has(rule);
    const findings = engineRules.get(rule);
    if (cel && !findings) {
      tally.problems.push(`${rule}: the floor denies what the webhook allows (namespace ${ns.name}, user ${username}): ${JSON.stringify(object)}`);
    } else if (!cel && findings) {
      const why = covered.has(rule) ? gapOf[rule]?.(object, findings) : 'not covered by this policy\'s floor';
      if (why) tally.gaps[`${rule}: ${why}`] = (tally.gaps[`${rule}: ${why}`] ?? 0) + 1;
      else tally.problems.push(`${rule}: the webhook denies what the floor allows (namespace ${ns.name}, user ${username}): ${findings.map((f) => f.message).join('; ')}\n${JSON.stringify(object)}`);
    } else {
      tally.agree[rule] = (tally.agree[rule] ?? 0) + 1;
      if (cel) tally.denied[rule] = (tally.denied[rule] ?? 0) + 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------

const clean = <T extends Json>(o: T): T => {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
};
const opt = <T>(a: fc.Arbitrary<T>, present: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: present, arbitrary: a }, { weight: 100 - present, arbitrary: fc.constant(undefined) });

/** The fuzzer's Pods, with what the floor judges beside: device variables, privileges, hostPaths, shares, nodeName. */
function generatedPods(set: PolicySet, namespaces: Namespace[], count: number): { pod: Json; ns: Namespace; username: string; groups: string[] }[] {
  const envVar = fc.oneof(
    fc.record({
      name: fc.constantFrom('NVIDIA_VISIBLE_DEVICES', 'AMD_VISIBLE_DEVICES', 'HABANA_VISIBLE_DEVICES', 'AWS_NEURON_VISIBLE_DEVICES', 'CUDA_VISIBLE_DEVICES', 'TZ'),
      value: opt(fc.constantFrom('all', '0', 'void', 'none', '', 'ALL', '0,1', 'None'), 80),
    }).map(clean),
    fc.record({
      name: fc.constantFrom('NVIDIA_VISIBLE_DEVICES', 'AMD_VISIBLE_DEVICES'),
      valueFrom: fc.constantFrom<Json>({ configMapKeyRef: { name: 'kai', key: 'VISIBLE_DEVICES' } }, { configMapKeyRef: { name: 'kai', key: 'RUNAI_VISIBLE_DEVICES' } }, { configMapKeyRef: { name: 'x', key: 'other' } }, { fieldRef: { fieldPath: 'metadata.name' } }),
    }),
  );
  const securityContext = fc.record({
    privileged: opt(fc.boolean(), 50),
    capabilities: opt(fc.record({ add: fc.array(fc.constantFrom('SYS_ADMIN', 'cap_sys_admin', ' CAP_ALL ', 'ALL', 'NET_ADMIN', 'IPC_LOCK', 'CAP_CAP_ALL', 'SYS_ADMINX'), { maxLength: 2 }) }), 60),
  }).map(clean);
  const volume = fc.record({
    name: fc.constantFrom('a', 'b'),
    path: fc.constantFrom('/', '/dev', '/dev/', '/dev/nvidia0', '/dev/nvidiactl', '/dev/dri', '/dev/dri/renderD128', '/dev/./nvidia0', '//dev', '/dev/../dev', '/devices', '/dev/shm', '/var/log', '/dev/vfio/1', '/dev/neuron0', '/opt/dev/nvidia0', '/dev/kfd/'),
  }).map((v) => ({ name: v.name, hostPath: { path: v.path } }));
  const extras = fc.record({
    pod: arbitraries(set).pod,
    env: opt(fc.array(envVar, { minLength: 1, maxLength: 3 }), 35),
    envIndex: fc.nat(3),
    sc: opt(securityContext, 35),
    scIndex: fc.nat(3),
    volumes: opt(fc.array(volume, { minLength: 1, maxLength: 2 }), 30),
    fraction: opt(fc.constantFrom<Json>({ 'gpu-fraction': '0.5' }, { 'gpu-memory': '2000' }), 8),
    nodeName: opt(fc.constant('gpu-node-1'), 5),
    ns: fc.constantFrom(...namespaces),
    username: fc.constantFrom(...USERS),
    groups: fc.constantFrom<string[]>(['system:authenticated'], ['system:authenticated', 'ml-admins']),
  });
  return fc.sample(extras, { seed: SEED, numRuns: count }).map((x) => {
    const pod = x.pod as Json;
    const containers = containersOf(pod);
    if (x.env) { const c = containers[x.envIndex % containers.length]; if (c) c['env'] = x.env; }
    if (x.sc) { const c = containers[x.scIndex % containers.length]; if (c) c['securityContext'] = x.sc; }
    if (x.volumes) pod['spec']['volumes'] = x.volumes;
    if (x.nodeName) pod['spec']['nodeName'] = x.nodeName;
    if (x.fraction) pod['metadata'] = { ...pod['metadata'], annotations: { ...(pod['metadata']?.['annotations'] ?? {}), ...x.fraction } };
    return { pod, ns: x.ns, username: x.username, groups: x.groups };
  });
}

/** The fixture manifests' Pods, and their Pod templates as Pods. */
function corpusPods(): Json[] {
  const out: Json[] = [];
  for (const file of publicManifests()) {
    for (const obj of loadManifest(file)) {
      if (!obj || typeof obj !== 'object') continue;
      for (const t of findPodSpecs({ group: groupOf(obj.apiVersion), kind: obj.kind }, obj)) {
        out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { ...(t.metadata ?? {}), name: 'from-template' }, spec: structuredClone(t.spec) });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('the admission policy floor', async () => {
  const shipped = await loadPolicyDir(POLICIES_DIR);
  const sets: [string, PolicySet][] = [['shipped policies', shipped], ['exemptions, node agents, audit, warn, an AcceleratorConfig', extraSet()]];

  it.each(sets)('every expression of the floor for the %s compiles and evaluates', (_name, set) => {
    const floor = admissionPolicyFloor(set);
    expect(floor.length).toBeGreaterThan(0);
    const empty = { object: { metadata: {}, spec: { containers: [{ name: 'c' }] } }, oldObject: null, request: { operation: 'CREATE', namespace: 'x', userInfo: { username: 'u' } }, namespaceObject: { metadata: { name: 'x', labels: {} } } };
    for (const fp of floor) {
      const exprs = [...fp.vap.spec.matchConditions, ...fp.vap.spec.variables, ...fp.vap.spec.validations].map((e) => e.expression);
      for (const e of exprs) expect(() => compile(e), e).not.toThrow();
      const r = evaluateVap(fp.vap, empty);
      expect(r.errors).toEqual([]);
      expect(fp.vap.spec.validations).toHaveLength(fp.validations.length);
      for (const v of fp.validations) {
        expect(v.message.startsWith(`[${v.rule}] `)).toBe(true);
        expect(v.reason).toBe('Forbidden');
      }
    }
  });

  it('is deterministic: stable names, stable order', () => {
    expect(renderFloorYaml(shipped)).toBe(renderFloorYaml(shipped));
    const names = admissionPolicyFloor(shipped).map((f) => f.vap.metadata.name);
    expect(names).toEqual([...names].sort());
    expect(names.every((n) => /^gpu-admission-floor-[a-z0-9-]+$/.test(n))).toBe(true);
    // No floor for exempt policies.
    expect(names).not.toContain('gpu-admission-floor-gpu-system');
  });

  it('binds by mode and selects namespaces as the policies do, excluding exempt and excluded ones', () => {
    const floor = admissionPolicyFloor(shipped);
    const byPolicy = new Map(floor.map((f) => [f.policy, f]));
    for (const p of shipped.policies.filter((x) => !x.exempt)) {
      const f = byPolicy.get(p.name);
      expect(f, p.name).toBeDefined();
      for (const b of f?.bindings ?? []) expect(b.spec.validationActions).toEqual({ enforce: ['Deny'], warn: ['Warn'], audit: ['Audit'] }[p.mode]);
    }
    for (const ns of [...EXCLUDED_NAMESPACES, 'gpu-operator', 'nvidia-device-plugin']) {
      const labels = { 'kubernetes.io/metadata.name': ns };
      expect(floor.flatMap((f) => f.bindings).filter((b) => selectorMatches(b.spec.matchResources.namespaceSelector, labels)).map((b) => b.metadata.name), ns).toEqual([]);
    }
  });

  it(`agrees with the engine rule by rule on ${GENERATED} generated Pods and the fixture manifests (seed ${SEED})`, () => {
    const started = Date.now();
    const cpu = process.cpuUsage();
    const report: string[] = [];
    let total = 0;
    for (const [name, set] of sets) {
      const namespaces = namespacesOf(set);
      const engine = engineWithLabels(set, namespaces);
      const floor = admissionPolicyFloor(set);
      const gapOf = gaps(set);
      const tally = newTally();
      const count = name === 'shipped policies' ? GENERATED : GENERATED / 10;
      for (const g of generatedPods(set, namespaces, count)) differential(set, floor, engine, g.pod, g.ns, g.username, g.groups, tally, gapOf);
      const corpus = corpusPods();
      for (const pod of corpus) for (const ns of namespaces) for (const u of [USERS[0] as string, USERS[1] as string]) differential(set, floor, engine, pod, ns, u, ['system:authenticated'], tally, gapOf);
      total += tally.pods;
      report.push(`${name}: ${tally.pods} Pods judged (${tally.skipped} not admissible), ${tally.evaluations} policy evaluations; agree ${JSON.stringify(tally.agree)}; floor denials ${JSON.stringify(tally.denied)}; webhook-only ${JSON.stringify(tally.gaps)}`);
      expect(tally.problems.slice(0, 5), tally.problems.slice(0, 5).join('\n\n')).toEqual([]);
      // The floor does deny: each rule it covers is exercised.
      for (const rule of FLOOR_RULES) if (name === 'shipped policies') expect(tally.denied[rule] ?? 0, `${rule} never denied`).toBeGreaterThan(0);
    }
    const used = process.cpuUsage(cpu);
    console.log(`${report.join('\n')}\n${total} Pods in ${Date.now() - started} ms (${Math.round((used.user + used.system) / 1000)} ms of CPU)`);
    expect(total).toBeGreaterThanOrEqual(GENERATED);
  }, 60_000);

  it('renders parseable YAML: the policies, then their bindings', () => {
    const docs = parseYamlDocuments(renderFloorYaml(shipped)).map((d) => d.value as Json);
    expect(docs.every((d) => d['apiVersion'] === 'admissionregistration.k8s.io/v1')).toBe(true);
    const policies = new Set(docs.filter((d) => d['kind'] === 'ValidatingAdmissionPolicy').map((d) => d['metadata']['name']));
    for (const b of docs.filter((d) => d['kind'] === 'ValidatingAdmissionPolicyBinding')) expect(policies.has(b['spec']['policyName'])).toBe(true);
  });
});
