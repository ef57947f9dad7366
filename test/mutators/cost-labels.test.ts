import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/engine/analyse.js';
import { parseManifests } from '../../src/audit/input.js';
import { auditObject, contextOf } from '../../src/audit/run.js';
import { engineFor } from '../../src/engine/build.js';
import { Engine } from '../../src/engine/engine.js';
import { mutatePod } from '../../src/engine/evaluate.js';
import { PodMetaEdit } from '../../src/engine/meta-edit.js';
import { costLabelsMutator as m } from '../../src/mutators/cost-labels.js';
import { type NamespaceLabelSource, PolicyResolver } from '../../src/policy/resolve.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { config, cpuContainer, createRequest, gpuContainer, pod, policy, policySet } from '../support/fixtures.js';

const copying = (fromNamespace: string[], extra: Parameters<typeof policy>[0] = {}): NamespacePolicy =>
  policy({ ...extra, costLabels: { required: [], fromNamespace } });
const gpu = (): V1PodSpec => ({ containers: [gpuContainer()] });

/** Runs the mutator on a Pod's metadata as mutatePod does; returns the labels afterwards and the notes. */
function run(labels: Record<string, string> | undefined, pol: NamespacePolicy, ns: Record<string, string> | undefined, spec: V1PodSpec = gpu()) {
  const object = pod(spec, labels ? { labels } : {});
  const [target] = findPodSpecs({ group: '', kind: 'Pod' }, object);
  const a = analyse({ target: target!, namespace: 'team', objectMeta: object['metadata'] as V1ObjectMeta, policy: pol, config: config(), ...(ns ? { namespaceLabels: ns } : {}) });
  const meta = new PodMetaEdit(target!.metadata, target!.metadataPointer);
  const enabled = m.enabled(pol);
  const r = enabled ? m.apply({ ...target!.spec }, a, meta) : { notes: [], warnings: [] };
  return { enabled, labels: meta.metadata()?.labels, notes: r.notes, patch: meta.patch(), a };
}

describe('cost-labels mutator', () => {
  it.each<[string, Record<string, string> | undefined, NamespacePolicy, Record<string, string> | undefined, Record<string, string> | undefined, number]>([
    ['copies the namespace label onto a Pod without labels', undefined, copying(['team']), { team: 'ml', other: 'x' }, { team: 'ml' }, 1],
    ['adds to the Pod labels it has', { app: 'vllm' }, copying(['team', 'cost-center']), { team: 'ml', 'cost-center': 'cc-7' }, { app: 'vllm', team: 'ml', 'cost-center': 'cc-7' }, 2],
    ['never overwrites the Pod own value', { team: 'search' }, copying(['team']), { team: 'ml' }, { team: 'search' }, 0],
    ['never overwrites an empty value the Pod set', { team: '' }, copying(['team']), { team: 'ml' }, { team: '' }, 0],
    ['copies only what the namespace has', undefined, copying(['team', 'cost-center']), { team: 'ml' }, { team: 'ml' }, 1],
    ['offline: no namespace labels, nothing to copy', undefined, copying(['team']), undefined, undefined, 0],
  ])('%s', (_n, labels, pol, ns, after, notes) => {
    const r = run(labels, pol, ns);
    expect(r.enabled).toBe(true);
    expect(r.labels).toEqual(after);
    expect(r.notes).toHaveLength(notes);
    if (notes > 0) expect(r.notes[0]!.path).toMatch(/^metadata\.labels\[/);
    // Idempotent: a second pass over the result changes nothing.
    expect(run(after, pol, ns).notes).toEqual([]);
  });

  it('is off without fromNamespace or with mutations.costLabels false', () => {
    expect(m.enabled(policy())).toBe(false);
    expect(m.enabled(copying(['team'], { mutations: { costLabels: false } }))).toBe(false);
  });

  it('leaves a CPU Pod alone (mutatePod mutates accelerator Pods only)', () => {
    const r = run(undefined, copying(['team']), { team: 'ml' }, { containers: [cpuContainer()] });
    expect(mutatePod(r.a).patch).toEqual([]);
  });

  it('patches a Deployment template only when templates are mutated, at the template metadata', () => {
    const d = { metadata: { name: 'd' }, spec: { template: { spec: gpu() } } };
    const [target] = findPodSpecs({ group: 'apps', kind: 'Deployment' }, d);
    const a = analyse({ target: target!, namespace: 'team', policy: copying(['team'], { mutations: { templates: true } }), config: config(), namespaceLabels: { team: 'ml' } });
    const out = mutatePod(a);
    expect(out.patch).toContainEqual({ op: 'add', path: '/spec/template/metadata', value: { labels: { team: 'ml' } } });
    expect(out.notes[0]!.path).toBe('spec.template.metadata.labels[team]');
  });
});

describe('cost labels through the engine', () => {
  const namespaces: NamespaceLabelSource = { labels: (ns) => (ns === 'team' ? { team: 'ml', 'kubernetes.io/metadata.name': 'team' } : undefined), version: 1 };
  const pol = policy({ costLabels: { required: ['team'], fromNamespace: ['team'] } });
  const engine = new Engine(new PolicyResolver(policySet([pol]), namespaces), config());

  it('copies team=ml from the namespace onto a GPU Pod', () => {
    const v = engine.mutate(createRequest(pod(gpu())));
    expect(v.patch).toContainEqual({ op: 'add', path: '/metadata/labels', value: { team: 'ml' } });
    expect(v.notes.map((n) => n.mutator)).toContain('cost-labels');
  });

  it('keeps the label a Pod sets itself', () => {
    const v = engine.mutate(createRequest(pod(gpu(), { labels: { team: 'search' } })));
    expect(v.patch.filter((p) => p.path.startsWith('/metadata'))).toEqual([]);
  });

  it('denies a GPU Pod in a namespace without the label, and passes its Deployment template where the namespace has it', () => {
    const v = engine.validate(createRequest(pod(gpu()), 'elsewhere'));
    // `elsewhere` is governed by no policy: nothing is judged.
    expect(v.denials).toEqual([]);
    const bare = engine.validate(createRequest(pod(gpu())));
    expect(bare.denials.map((f) => f.ruleId)).toContain('cost-labels');
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'team' }, spec: { template: { spec: gpu() } } };
    const t = engine.validate({ ...createRequest(d), kind: { group: 'apps', kind: 'Deployment' } });
    expect([...t.denials, ...t.warnings].map((f) => f.ruleId)).not.toContain('cost-labels');
  });
});

describe('cost labels in the audit', () => {
  const pol = policy({ costLabels: { required: ['team'], fromNamespace: ['team'] } });
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: team}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.10.0
          resources: {limits: {nvidia.com/gpu: "1"}}
`;
  const namespace = `apiVersion: v1
kind: Namespace
metadata: {name: team, labels: {team: ml}}
`;
  const audit = (text: string) => {
    const sources = parseManifests('in.yaml', text);
    const e = engineFor(policySet([pol]), [], contextOf(sources));
    return sources.filter((s) => s.object['kind'] === 'Deployment').map((s) => auditObject(e, s, 'team'))[0]!;
  };

  it('reports an accelerator workload without the label when the namespace does not provide it', () => {
    const r = audit(deployment);
    expect([...r.violations, ...r.warnings].map((f) => f.ruleId)).toContain('cost-labels');
  });

  it('counts the label the Pods will receive from a Namespace object of the input', () => {
    const r = audit(`${deployment}---\n${namespace}`);
    expect([...r.violations, ...r.warnings, ...r.recorded].map((f) => f.ruleId)).not.toContain('cost-labels');
  });
});
