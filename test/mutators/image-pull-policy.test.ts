import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mutatePod } from '../../src/engine/evaluate.js';
import { analyse } from '../../src/engine/analyse.js';
import { imagePullPolicyMutator as m } from '../../src/mutators/image-pull-policy.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { analysisOf, config, cpuContainer, createRequest, engine, gpuContainer, pod, policy } from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

const required = (extra: Parameters<typeof policy>[0] = {}): NamespacePolicy => policy({ ...extra, images: { pullPolicy: 'IfNotPresent' } });
const gpu = (image: string, o: Partial<V1Container> = {}): V1Container => gpuContainer({ image, ...o });

interface Case {
  name: string;
  spec: V1PodSpec;
  policy?: NamespacePolicy;
  /** imagePullPolicy of each container afterwards, initContainers first. */
  after: Array<string | undefined>;
  enabled?: boolean;
}

const cases: Case[] = [
  { name: 'a pinned image pulled with Always', spec: { containers: [gpu('vllm:0.10', { imagePullPolicy: 'Always' })] }, after: ['IfNotPresent'] },
  { name: 'latest plus a digest, policy absent (defaults to Always)', spec: { containers: [gpu('vllm:latest@sha256:abc')] }, after: ['IfNotPresent'] },
  { name: 'an init container that requests a GPU', spec: { initContainers: [gpu('warm:1', { name: 'warm', imagePullPolicy: 'Always' })], containers: [gpu('vllm:1')] }, after: ['IfNotPresent', undefined] },
  // left alone
  { name: 'a pinned image already IfNotPresent', spec: { containers: [gpu('vllm:0.10', { imagePullPolicy: 'IfNotPresent' })] }, after: ['IfNotPresent'] },
  { name: 'a pinned image with Never (pre-pulled)', spec: { containers: [gpu('vllm:0.10', { imagePullPolicy: 'Never' })] }, after: ['Never'] },
  { name: 'an unpinned image: IfNotPresent would freeze a moving tag', spec: { containers: [gpu('vllm:latest', { imagePullPolicy: 'Always' })] }, after: ['Always'] },
  { name: 'an untagged image', spec: { containers: [gpu('vllm', { imagePullPolicy: 'Always' })] }, after: ['Always'] },
  { name: 'a CPU sidecar with Always', spec: { containers: [gpu('vllm:1'), cpuContainer({ name: 'side', image: 'proxy:1', imagePullPolicy: 'Always' })] }, after: [undefined, 'Always'] },
  // off
  { name: 'no images.pullPolicy in the policy', spec: { containers: [gpu('vllm:1', { imagePullPolicy: 'Always' })] }, policy: policy(), after: ['Always'], enabled: false },
  { name: 'mutations.imagePullPolicy false', spec: { containers: [gpu('vllm:1', { imagePullPolicy: 'Always' })] }, policy: required({ mutations: { imagePullPolicy: false } }), after: ['Always'], enabled: false },
];

describe('image-pull-policy mutator', () => {
  it.each(cases)('$name', (c) => {
    const pol = c.policy ?? required();
    const r = runMutator(m, c.spec, pol);
    expect(r.enabled).toBe(c.enabled ?? true);
    const all = [...(r.spec.initContainers ?? []), ...(r.spec.containers ?? [])];
    expect(all.map((x) => x.imagePullPolicy)).toEqual(c.after);
    expect(r.notes.length > 0).toBe(r.changed);
    expectIdempotent(m, r.spec, pol);
  });

  it('patches only the container it changed, at the Pod path', () => {
    const spec: V1PodSpec = { containers: [gpu('vllm:1', { imagePullPolicy: 'Always' }), cpuContainer({ name: 'side' })] };
    const out = mutatePod(analysisOf(spec, required()));
    expect(out.patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' });
    expect(out.patch.some((p) => p.path.includes('/containers/1'))).toBe(false);
    expect(out.spec.containers[1]).toBe(spec.containers[1]);
  });

  it('patches a Deployment template at its pointer when templates are mutated', () => {
    const d = { metadata: { name: 'd' }, spec: { template: { metadata: {}, spec: { containers: [gpu('vllm:1', { imagePullPolicy: 'Always' })] } } } };
    const [target] = findPodSpecs({ group: 'apps', kind: 'Deployment' }, d);
    const out = mutatePod(analyse({ target: target!, namespace: 'team', policy: required({ mutations: { templates: true } }), config: config() }));
    expect(out.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' });
  });

  it('leaves virtual specs alone (their containers are not at spec.containers)', () => {
    const isvc = { metadata: { name: 'm' }, spec: { predictor: { containers: [{ name: 'c', image: 'vllm:1', imagePullPolicy: 'Always', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } } };
    const [target] = findPodSpecs({ group: 'serving.kserve.io', kind: 'InferenceService' }, isvc);
    const a = analyse({ target: target!, namespace: 'team', policy: required(), config: config() });
    expect(m.apply({ ...target!.spec }, a, undefined as never).notes).toEqual([]);
  });
});

describe('image pull policy through the engine', () => {
  const e = engine([policy({ images: { pullPolicy: 'IfNotPresent' } })]);
  const deployment = (imagePullPolicy: string) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'team' },
    spec: { template: { spec: { containers: [gpuContainer({ image: 'vllm:1', imagePullPolicy })] } } },
  });

  it('a template finding the Pod mutation fixes is a warning saying what the Pods will receive', () => {
    const v = e.validate({ ...createRequest(deployment('Always')), kind: { group: 'apps', kind: 'Deployment' } });
    expect(v.denials.map((f) => f.ruleId)).not.toContain('image-pull');
    const w = v.warnings.find((f) => f.ruleId === 'image-pull');
    expect(w?.message).toContain('will receive');
  });

  it('patches the Pod the template creates', () => {
    const v = e.mutate(createRequest(pod({ containers: [gpuContainer({ image: 'vllm:1', imagePullPolicy: 'Always' })] })));
    expect(v.patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/imagePullPolicy', value: 'IfNotPresent' });
  });
});
