import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/engine/analyse.js';
import type { PodAnalysis } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { imagePull as rule } from '../../src/rules/image-pull.js';
import { findPodSpecs } from '../../src/workload/pod-spec.js';
import { analysisOf, config, cpuContainer, gpuContainer, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures } from './helpers.js';

const ID = 'image-pull';
const gpu = (image: string | undefined, o: Partial<V1Container> = {}): V1PodSpec => ({ containers: [gpuContainer({ image, ...o })] });
const requirePolicy = (): NamespacePolicy => policy({ images: { pullPolicy: 'IfNotPresent' } });
const enforce = (): NamespacePolicy => policy({ images: { unpinned: 'enforce' } });

/** The analyses of every Pod spec of an object of `group/Kind`. */
function analysesOf(group: string, kind: string, object: Record<string, unknown>, pol: NamespacePolicy = policy()): PodAnalysis[] {
  return findPodSpecs({ group, kind }, object).map((target) => analyse({
    target, namespace: 'team', objectMeta: object['metadata'] as never, policy: pol, config: config(), objectKind: `${group}/${kind}`,
  }));
}

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy?]>([
    ['a version tag', gpu('vllm/vllm-openai:v0.10.0')],
    ['a digest', gpu('vllm/vllm-openai@sha256:0123abcd')],
    ['a registry with a port and a tag', gpu('registry.local:5000/vllm:0.10')],
    ['a latest image in a CPU container of a GPU Pod', { containers: [gpuContainer(), cpuContainer({ name: 'side', image: 'proxy:latest' })] }],
    ['a pinned image with the defaulted IfNotPresent, pull policy required', gpu('img:1.0', { imagePullPolicy: 'IfNotPresent' }), requirePolicy()],
    ['a pinned image without a written policy (defaults to IfNotPresent), pull policy required', gpu('img:1.0'), requirePolicy()],
    ['a pinned image with Never (pre-pulled), pull policy required', gpu('img:1.0', { imagePullPolicy: 'Never' }), requirePolicy()],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, string, string[]]>([
    ['no tag (API server default Always)', gpu('vllm/vllm-openai'), 'spec.containers[0].image', ['without a tag', 'defaults imagePullPolicy to Always', 'many-GB']],
    ['the tag latest', gpu('vllm/vllm-openai:latest', { imagePullPolicy: 'Always' }), 'spec.containers[0].image', ['moving tag latest', 'imagePullPolicy Always']],
    ['a registry port but no tag', gpu('registry.local:5000/vllm'), 'spec.containers[0].image', ['without a tag']],
    ['latest with IfNotPresent written', gpu('vllm:latest', { imagePullPolicy: 'IfNotPresent' }), 'spec.containers[0].image', ['different images']],
    ['an init container that requests a GPU', { initContainers: [gpuContainer({ name: 'warmup', image: 'warm:latest' })], containers: [gpuContainer()] }, 'spec.initContainers[0].image', ['"warmup"']],
  ])('warns (advisory by default) on %s', (_n, spec, path, message) => {
    const f = expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path, message, fix: ['pin the image', '@sha256:'] });
    expect(f.advisory).toBe(true);
    const enforced = expectOne(failures(rule.check(analysisOf(spec, enforce()))), { ruleId: ID, path });
    expect(enforced.advisory).toBeUndefined();
  });

  it.each<[string, V1PodSpec, string[]]>([
    ['a pinned image with Always written', gpu('img:1.0', { imagePullPolicy: 'Always' }), ['imagePullPolicy Always']],
    ['latest plus digest without a written policy (defaults to Always)', gpu('img:latest@sha256:abc'), ["API server's default"]],
  ])('denies, when the policy requires IfNotPresent, %s', (_n, spec, message) => {
    const f = expectOne(failures(rule.check(analysisOf(spec, requirePolicy()))), { ruleId: ID, path: 'spec.containers[0].imagePullPolicy', message, fix: ['imagePullPolicy: IfNotPresent', 'spec.images.pullPolicy'] });
    expect(f.advisory).toBeUndefined();
  });

  it('reports an unpinned Argo step at the virtual spec path, not under spec.containers', () => {
    const wf = { metadata: { name: 'w' }, spec: { templates: [{ name: 'eval', container: { image: 'ghcr.io/example/eval', resources: { limits: { 'nvidia.com/gpu': 1 } } } }] } };
    const [a] = analysesOf('argoproj.io', 'WorkflowTemplate', wf);
    expectOne(failures(rule.check(a!)), { ruleId: ID, path: 'spec.templates[0].container.image' });
  });

  it('reports a KServe predictor container at its path', () => {
    const isvc = { metadata: { name: 'm' }, spec: { predictor: { containers: [{ name: 'kserve-container', image: 'vllm/vllm-openai', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } } };
    const [a] = analysesOf('serving.kserve.io', 'InferenceService', isvc);
    expectOne(failures(rule.check(a!)), { ruleId: ID, path: 'spec.predictor.containers[0].image' });
  });

  it('judges a Deployment template whose policy is absent by the default of its tag', () => {
    const d = { metadata: { name: 'd' }, spec: { template: { metadata: {}, spec: gpu('img:latest@sha256:abc') } } };
    const [a] = analysesOf('apps', 'Deployment', d, requirePolicy());
    expectOne(failures(rule.check(a!)), { ruleId: ID, path: 'spec.template.spec.containers[0].imagePullPolicy' });
  });

  it('skips a Pod that requests no accelerator, and fails its GPU twin', () => {
    expectSkipGuard(rule, analysisOf({ containers: [cpuContainer({ image: 'busybox:latest' })] }), analysisOf(gpu('busybox:latest')));
  });

  it('skips when the policy turns it off, and fails the same Pod under the default', () => {
    expectSkipGuard(rule, analysisOf(gpu('img'), policy({ images: { unpinned: 'off' } })), analysisOf(gpu('img')));
  });

  it('still checks the pull policy when unpinned images are off', () => {
    const pol = policy({ images: { unpinned: 'off', pullPolicy: 'IfNotPresent' } });
    expectPass(rule.check(analysisOf(gpu('img'), pol)));
    expectOne(failures(rule.check(analysisOf(gpu('img:1', { imagePullPolicy: 'Always' }), pol))), { ruleId: ID, path: 'spec.containers[0].imagePullPolicy' });
  });

  it('skips specs whose operator sets the image (TrainJob resourcesPerNode), and fails a twin that names one', () => {
    const tj = { metadata: { name: 't' }, spec: { trainer: { resourcesPerNode: { limits: { 'nvidia.com/gpu': '2' } } } } };
    const [a] = analysesOf('trainer.kubeflow.org', 'TrainJob', tj);
    expectSkip(rule.check(a!), 'names an image');
    expectSkipGuard(rule, analysisOf(gpu(undefined)), analysisOf(gpu('img')));
  });
});
