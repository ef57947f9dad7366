/**
 * One suite for a folder of GPU workload manifests, admitted as the API server would (mutate, apply
 * the patch, validate), plus broken variants of each: every variant must be denied at the path of
 * the Pod spec it broke. Used for the project's fixtures and for the optional external corpus.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { parsePolicies } from '../../src/policy/parse.js';
import { loadPolicyDir, readPolicyFiles } from '../../src/server/policy-files.js';
import { contextOf } from '../../src/audit/run.js';
import type { PolicySet } from '../../src/policy/types.js';
import type { ClusterCache } from '../../src/cluster/cache.js';
import { engineFor } from '../../src/engine/build.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { POLICIES_DIR, shippedEngine } from './app.js';
import { admit, groupOf, type K8sObject, loadManifest, publicManifests, requestFor, summary } from './corpus.js';

/**
 * The file's other objects (claim templates, claims, namespaces) as the cluster view, as `audit`
 * reads them. The suites judge every workload in the namespace they name, so the file's namespaced
 * context objects move there with them.
 */
export function contextFor(file: string, dir: string | undefined, ns: string): ClusterCache {
  const sources = loadManifest(file, dir).map((object, i) => {
    const o = object as unknown as Record<string, unknown>;
    const moved = o['kind'] === 'Namespace' || o['kind'] === 'DeviceClass' ? o : { ...o, metadata: { ...(o['metadata'] as object), namespace: ns } };
    return { file, line: 1, index: i + 1, object: moved };
  });
  return contextOf(sources, ns);
}

/** The accelerator objects of a manifest file (the ones carrying Pod specs). */
export function workloads(file: string, dir?: string): K8sObject[] {
  return loadManifest(file, dir).filter((o) => findPodSpecs({ group: groupOf(o.apiVersion), kind: o.kind }, o).length > 0);
}

export function admitted(engine: Engine, obj: K8sObject, ns = 'research'): string {
  return summary(admit(engine, requestFor(obj, ns)).validated);
}

const GPU_KEYS = /^(nvidia\.com\/|amd\.com\/gpu|google\.com\/tpu|habana\.ai\/|gpu\.intel\.com\/|aws\.amazon\.com\/neuron)/;

/** Removes every accelerator quantity anywhere in the object (a chart refactor dropped them). */
function dropAccelerators(v: unknown): void {
  if (Array.isArray(v)) return v.forEach(dropAccelerators);
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  for (const [k, child] of Object.entries(o)) {
    if ((k === 'limits' || k === 'requests') && child && typeof child === 'object') {
      for (const r of Object.keys(child)) if (GPU_KEYS.test(r)) delete (child as Record<string, unknown>)[r];
    } else if (k === 'resourceClaims' || k === 'claims') delete o[k];
    else dropAccelerators(child);
  }
}

/** The objects holding each Pod spec (for KServe, the component that embeds it). */
function specHolders(obj: K8sObject): { path: string; spec: Record<string, unknown> }[] {
  return findPodSpecs({ group: groupOf(obj.apiVersion), kind: obj.kind }, obj).map((t) => {
    let v: unknown = obj;
    for (const seg of t.pointer.split('/').slice(1)) v = (v as Record<string, unknown>)[seg.replace(/~1/g, '/')];
    return { path: t.path, spec: v as Record<string, unknown> };
  });
}

/**
 * For every manifest file of `dir`: the verdict of the shipped policies in `research` must be
 * `expected[file]`, and the broken variants must be denied where they were broken.
 */
export function describeManifests(dir: string, expected: Record<string, string>): void {
  let shippedSet: PolicySet;
  let noTolerationSet: PolicySet;

  beforeAll(async () => {
    shippedSet = await loadPolicyDir(POLICIES_DIR);
    const files = (await readPolicyFiles(POLICIES_DIR)).map((f) =>
      f.path.endsWith('research.yaml') ? { ...f, text: f.text.replace('  mode: enforce\n', '  mode: enforce\n  mutations: {tolerations: false}\n') } : f);
    noTolerationSet = parsePolicies(files);
  });

  it('every manifest has an expected verdict', () => {
    expect(publicManifests(dir)).toEqual(Object.keys(expected).sort());
  });

  describe.each(publicManifests(dir))('%s', (file) => {
    const objects = (): K8sObject[] => workloads(file, dir);
    // The file's other objects (claim templates, namespaces) inform the judgement, as in `audit`.
    const context = (ns: string): ClusterCache => contextFor(file, dir, ns);
    const shipped = { for: (ns: string): Engine => engineFor(shippedSet, [], context(ns)) };

    it('is judged by the shipped policies as documented', () => {
      const verdicts = objects().map((o) => admitted(shipped.for('research'), o));
      expect(verdicts.length).toBeGreaterThan(0);
      expect([...new Set(verdicts)].join(' / ')).toBe(expected[file]);
    });

    it('is denied in a namespace that allows no accelerators', () => {
      for (const o of objects()) expect(admitted(shipped.for('default'), o, 'default')).toMatch(/^denied: .*accelerator-(allowed|limits)/);
    });

    it('broken: the GPU limit dropped but GPU nodes still selected -> gpu-squatting at each template', () => {
      for (const o of objects()) {
        const broken = structuredClone(o);
        dropAccelerators(broken);
        const holders = specHolders(broken);
        for (const h of holders) h.spec['nodeSelector'] = { ...(h.spec['nodeSelector'] as object), 'cloud.google.com/gke-accelerator': 'nvidia-l4' };
        const v = admit(shipped.for('research'), requestFor(broken, 'research')).validated;
        const paths = v.denials.filter((f) => f.ruleId === 'gpu-squatting').map((f) => f.path);
        for (const h of holders) expect(paths.some((p) => p.startsWith(`${h.path}.nodeSelector[`)), `${h.path}: ${paths.join()}`).toBe(true);
      }
    });

    // A manifest denied as written cannot show what a single broken field does.
    if (expected[file]?.startsWith('denied')) return;

    it('broken: nodeSelector and required affinity contradict -> node-selection at each template', () => {
      for (const o of objects()) {
        const broken = structuredClone(o);
        const holders = specHolders(broken);
        for (const h of holders) {
          h.spec['nodeSelector'] = { 'cloud.google.com/gke-accelerator': 'nvidia-l4' };
          h.spec['affinity'] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'cloud.google.com/gke-accelerator', operator: 'In', values: ['nvidia-a100-80gb'] }] }] } } };
        }
        const v = admit(shipped.for('research'), requestFor(broken, 'research')).validated;
        const paths = v.denials.filter((f) => f.ruleId === 'node-selection').map((f) => f.path);
        const accelerated = holders.filter((h) => JSON.stringify(h.spec).match(/nvidia\.com|google\.com\/tpu|amd\.com|habana|resourceClaims/));
        expect(accelerated.length).toBeGreaterThan(0);
        for (const h of accelerated) expect(paths).toContain(`${h.path}.nodeSelector[cloud.google.com/gke-accelerator]`);
      }
    });

    it('broken: tolerations removed -> Pods get them from mutation; denied where the policy turns that off', () => {
      for (const o of objects()) {
        const broken = structuredClone(o);
        const holders = specHolders(broken);
        for (const h of holders) delete h.spec['tolerations'];
        const fixed = admit(shipped.for('research'), requestFor(broken, 'research')).validated;
        expect(fixed.denials).toEqual([]);
        const denied = admit(engineFor(noTolerationSet, [], context('research')), requestFor(broken, 'research')).validated;
        expect(denied.denials.map((f) => f.ruleId)).toContain('pool-tolerations');
        for (const f of denied.denials.filter((x) => x.ruleId === 'pool-tolerations')) {
          expect(holders.map((h) => `${h.path}.tolerations`)).toContain(f.path);
        }
      }
    });
  });
}

/**
 * Template handling that holds for any folder with a vLLM-style Deployment missing the pool's
 * tolerations and a PyTorchJob: warned with what the Pods will receive, not patched unless the
 * policy turns template mutation on, findings named by the replica's map key.
 */
export function describeTemplateSpecifics(dir: string, files: { deployment: string; pytorchJob: string }): void {
  let shipped: Engine;
  beforeAll(async () => {
    shipped = await shippedEngine();
  });

  it('a template missing tolerations is warned with what its Pods will receive', () => {
    const [deployment] = workloads(files.deployment, dir);
    const v = admit(shipped, requestFor(deployment!, 'inference')).validated;
    const w = v.warnings.find((f) => f.ruleId === 'pool-tolerations');
    expect(w?.path).toBe('spec.template.spec.tolerations');
    expect(w?.message).toContain('its Pods will receive: tolerate nvidia.com/gpu=present:NoSchedule of pool a100-80gb');
  });

  it('templates are not patched unless the policy turns template mutation on', async () => {
    const [deployment] = workloads(files.deployment, dir);
    expect(shipped.mutate(requestFor(deployment!, 'inference')).patch).toEqual([]);
    const policyFiles = (await readPolicyFiles(POLICIES_DIR)).map((f) =>
      f.path.endsWith('inference.yaml') ? { ...f, text: f.text.replace('  mode: enforce\n', '  mode: enforce\n  mutations: {templates: true}\n') } : f);
    const patch = engineFor(parsePolicies(policyFiles)).mutate(requestFor(deployment!, 'inference')).patch;
    expect(patch.map((p) => p.path)).toContain('/spec/template/spec/tolerations');
    expect(patch.every((p) => p.path.startsWith('/spec/template/spec/'))).toBe(true);
  });

  it('a PyTorchJob reports each replica template by its map key', () => {
    const [job] = workloads(files.pytorchJob, dir);
    const v = admit(shipped, requestFor(job!, 'inference')).validated;
    expect(v.denials.map((f) => f.path)).toContain('spec.pytorchReplicaSpecs.Master.template.spec.containers[0].resources.limits.memory');
  });
}

/**
 * A DRA Pod (claims, no extended resource): an accelerator Pod when its claim template is known
 * (here: from the same file), and offline, without the template, warned as unclassifiable —
 * neither guessed nor silent.
 */
export function describeDraSpecifics(dir: string, file: string, template: string): void {
  let set: PolicySet;
  beforeAll(async () => {
    set = await loadPolicyDir(POLICIES_DIR);
  });
  const pod = (): K8sObject => workloads(file, dir).find((o) => o.kind === 'Pod')!;

  it('a DRA Pod counts as an accelerator Pod when its claim template is known', () => {
    const { mutated, validated } = admit(engineFor(set, [], contextFor(file, dir, 'research')), requestFor(pod(), 'research'));
    expect(mutated.notes.map((n) => n.mutator)).toContain('termination-grace');
    expect(mutated.assumptions).toEqual([]);
    expect(validated.denials).toEqual([]);
    const denied = admit(engineFor(set, [], contextFor(file, dir, 'default')), requestFor(pod(), 'default')).validated;
    expect(denied.denials.map((f) => f.path)).toContain('spec.resourceClaims[0]');
  });

  it('offline, a claim whose template nobody can see is warned as unclassifiable, neither guessed nor silent', () => {
    const { mutated, validated } = admit(engineFor(set), requestFor(pod(), 'default'));
    expect(mutated.assumptions.join()).toContain(`ResourceClaimTemplate ${template} not counted as an accelerator`);
    expect(validated.denials).toEqual([]);
    expect(validated.warnings.map((f) => [f.ruleId, f.path])).toContainEqual(['accelerator-allowed', 'spec.resourceClaims[0]']);
  });
}
