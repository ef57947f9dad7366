import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { containerResources as rule } from '../../src/rules/container-resources.js';
import { analysisOf, cpuContainer, gpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, withResources } from './helpers.js';

const ID = 'container-resources';
const both = (): NamespacePolicy => policy({ requirements: { memoryLimit: true, cpuRequest: true } });
const gpuWith = (limits: Record<string, unknown>, requests?: Record<string, unknown>): V1PodSpec =>
  podSpec({ containers: [withResources('main', { 'nvidia.com/gpu': '1', ...limits }, requests)] });

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['memory limit and CPU request', podSpec(), both()],
    ['CPU limit only (requests default from limits)', gpuWith({ memory: '16Gi', cpu: '4' }), both()],
    ['CPU request without CPU limit', gpuWith({ memory: '16Gi' }, { cpu: '4', 'nvidia.com/gpu': '1' }), both()],
    ['no memory limit when only CPU is required', gpuWith({ cpu: '2' }), policy({ requirements: { cpuRequest: true } })],
    ['no CPU when only memory is required', gpuWith({ memory: '16Gi' }), policy({ requirements: { memoryLimit: true } })],
    ['a CPU sidecar without resources next to a complete GPU container', podSpec({ containers: [gpuContainer(), { name: 'proxy', image: 'envoy' }] }), both()],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec, NamespacePolicy]>([
    ['a policy that requires nothing', gpuWith({}), policy(), gpuWith({}), both()],
    ['a namespace that allows no accelerators', gpuWith({}), policy({ accelerators: { allowed: false }, requirements: { memoryLimit: true, cpuRequest: true } }), gpuWith({}), both()],
    ['a CPU Pod without memory limit or CPU request', { containers: [{ name: 'main', image: 'busybox' }] }, both(), { containers: [withResources('main', { 'nvidia.com/gpu': '1' })] }, both()],
    ['a GPU init container (only app containers are checked)', { initContainers: [withResources('warmup', { 'nvidia.com/gpu': '1' })], containers: [cpuContainer()] }, both(),
      { containers: [withResources('warmup', { 'nvidia.com/gpu': '1' }), cpuContainer()] }, both()],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, pol, twin, twinPol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(twin, twinPol));
  });

  it.each<[string, V1PodSpec]>([
    ['no memory at all', gpuWith({ cpu: '4' })],
    ['a memory request but no limit', gpuWith({ cpu: '4' }, { memory: '16Gi', 'nvidia.com/gpu': '1' })],
  ])('denies a GPU container with %s', (_n, spec) => {
    expectOne(failures(rule.check(analysisOf(spec, both()))), {
      ruleId: ID,
      path: 'spec.containers[0].resources.limits.memory',
      message: ['accelerator container "main" has no memory limit', 'namespace policy requires one'],
      fix: ['set resources.limits.memory', 'starve'],
    });
  });

  it('denies a GPU container without any CPU request or limit', () => {
    expectOne(failures(rule.check(analysisOf(gpuWith({ memory: '16Gi' }), both()))), {
      ruleId: ID,
      path: 'spec.containers[0].resources.requests.cpu',
      message: ['accelerator container "main" has no CPU request', 'namespace policy requires one'],
      fix: ['set resources.requests.cpu', 'reserves CPU'],
    });
  });

  it('reports both fields of each GPU container, in container order', () => {
    const spec: V1PodSpec = { containers: [cpuContainer({ name: 'proxy' }), withResources('a', { 'nvidia.com/gpu': '1' }), withResources('b', undefined, { 'amd.com/gpu': '1' })] };
    expect(failures(rule.check(analysisOf(spec, both()))).map((f) => [f.ruleId, f.path])).toEqual([
      [ID, 'spec.containers[1].resources.limits.memory'],
      [ID, 'spec.containers[1].resources.requests.cpu'],
      [ID, 'spec.containers[2].resources.limits.memory'],
      [ID, 'spec.containers[2].resources.requests.cpu'],
    ]);
  });

  it('uses the container path when the container has no name', () => {
    const c = { ...withResources('x', { 'nvidia.com/gpu': '1', cpu: '1' }), name: undefined } as unknown as V1Container;
    const f = expectOne(failures(rule.check(analysisOf({ containers: [c] }, both()))), { ruleId: ID, path: 'spec.containers[0].resources.limits.memory' });
    expect(f.message).toContain('"containers[0]"');
  });
});

describe('container-resources: readinessProbe', () => {
  const required = (): ReturnType<typeof policy> => policy({ requirements: { readinessProbe: true } });
  it('denies an accelerator container without a readinessProbe when the policy requires one', () => {
    const findings = failures(rule.check(analysisOf({ containers: [gpuContainer()] }, required())));
    expect(findings.map((f) => [f.ruleId, f.path])).toEqual([['container-resources', 'spec.containers[0].readinessProbe']]);
    expect(findings[0]?.fix).toContain('readinessProbe');
  });
  it('allows one with a readinessProbe', () => {
    const c = gpuContainer({ readinessProbe: { httpGet: { path: '/health', port: 8000 } } });
    expectPass(rule.check(analysisOf({ containers: [c] }, required())));
  });
  it('skips CPU containers and policies that do not require it', () => {
    expectSkip(rule.check(analysisOf({ containers: [gpuContainer(), cpuContainer({ name: 'sidecar' })] }, policy())));
    expectSkip(rule.check(analysisOf({ containers: [cpuContainer()] }, required())));
  });
});
