import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { acceleratorAllowed as rule } from '../../src/rules/accelerator-allowed.js';
import { analysisOf, config, cpuContainer, gpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, limitOnly } from './helpers.js';

const ID = 'accelerator-allowed';
const noAccelerators = (): NamespacePolicy => policy({ accelerators: { allowed: false } });
const only = (...resources: string[]): NamespacePolicy => policy({ accelerators: { resources } });

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['any accelerator when the policy lists no resources', podSpec(), policy()],
    ['AMD when the policy lists no resources', podSpec({ containers: [gpuContainer({}, '1', 'amd.com/gpu')] }), policy()],
    ['a listed resource', podSpec(), only('nvidia.com/gpu')],
    ['a MIG slice through a glob', podSpec({ containers: [gpuContainer({}, '1', 'nvidia.com/mig-1g.5gb')] }), only('nvidia.com/mig-*')],
    ['two resources, both listed', podSpec({ containers: [gpuContainer(), limitOnly('b', '1', 'amd.com/gpu')] }), only('amd.com/gpu', 'nvidia.com/gpu')],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec]>([
    ['a CPU Pod where accelerators are forbidden', { containers: [cpuContainer()] }, noAccelerators(), podSpec()],
    ['a CPU Pod where only MIG is allowed', { containers: [cpuContainer()] }, only('nvidia.com/mig-*'), podSpec()],
  ])('skips %s, and fails the same Pod requesting a GPU', (_n, spec, pol, gpu) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(gpu, pol));
  });

  it.each<[string, V1PodSpec, string, string]>([
    ['an app container', podSpec(), 'spec.containers[0].resources.limits[nvidia.com/gpu]', 'main'],
    ['an init container', { initContainers: [limitOnly('warmup', '1')], containers: [cpuContainer()] }, 'spec.initContainers[0].resources.limits[nvidia.com/gpu]', 'warmup'],
    ['a TPU', podSpec({ containers: [cpuContainer(), gpuContainer({ name: 'tpu' }, '4', 'google.com/tpu')] }), 'spec.containers[1].resources.limits[google.com/tpu]', 'tpu'],
  ])('denies %s in a namespace that allows no accelerators', (_n, spec, path, name) => {
    const resource = /\[([^\]]+)\]$/.exec(path)?.[1] ?? '';
    expectOne(failures(rule.check(analysisOf(spec, noAccelerators()))), {
      ruleId: ID,
      path,
      message: ['namespace team may not use accelerators', `container "${name}"`, resource],
      fix: ['remove the accelerator request', 'namespace whose policy allows accelerators'],
    });
  });

  it('denies every accelerator use when none are allowed', () => {
    const spec = podSpec({ containers: [gpuContainer({ name: 'a' }), gpuContainer({ name: 'b' }, '1', 'amd.com/gpu')] });
    expect(failures(rule.check(analysisOf(spec, noAccelerators()))).map((f) => f.path)).toEqual([
      'spec.containers[0].resources.limits[nvidia.com/gpu]',
      'spec.containers[1].resources.limits[amd.com/gpu]',
    ]);
  });

  it.each<[string, string, NamespacePolicy, string]>([
    ['full GPUs where only MIG slices are allowed', 'nvidia.com/gpu', only('nvidia.com/mig-*'), 'nvidia.com/mig-*'],
    ['a MIG slice where only full GPUs are allowed', 'nvidia.com/mig-3g.20gb', only('nvidia.com/gpu'), 'nvidia.com/gpu'],
    ['AMD where NVIDIA resources are allowed', 'amd.com/gpu', only('nvidia.com/gpu', 'nvidia.com/gpu.shared'), 'nvidia.com/gpu, nvidia.com/gpu.shared'],
    ['a shared GPU where only whole GPUs are allowed', 'nvidia.com/gpu.shared', only('nvidia.com/gpu'), 'nvidia.com/gpu'],
  ])('denies %s', (_n, resource, pol, listed) => {
    expectOne(failures(rule.check(analysisOf(podSpec({ containers: [gpuContainer({}, '1', resource)] }), pol))), {
      ruleId: ID,
      path: `spec.containers[0].resources.limits[${resource}]`,
      message: ['container "main"', `requests ${resource}`, 'namespace team may not use'],
      fix: [`request one of: ${listed}`],
    });
  });

  describe('GPU shares requested by annotation (KAI-Scheduler gpu-fraction / gpu-memory)', () => {
    const cpu = (): V1PodSpec => ({ containers: [cpuContainer()] });
    const shared = (key = 'gpu-fraction', value = '0.5'): Record<string, unknown> => ({ annotations: { [key]: value } });

    it.each<[string, NamespacePolicy]>([
      ['where accelerators are allowed', policy()],
      ['where nvidia.com/gpu is allowed', only('nvidia.com/gpu')],
    ])('allows a gpu-fraction Pod %s', (_n, pol) => {
      expectPass(rule.check(analysisOf(cpu(), pol, undefined, shared())));
    });

    it.each(['gpu-fraction', 'gpu-memory'])('denies a %s Pod in a namespace that allows no accelerators', (key) => {
      expectOne(failures(rule.check(analysisOf(cpu(), noAccelerators(), undefined, shared(key, '2000')))), {
        ruleId: ID,
        path: `metadata.annotations[${key}]`,
        message: ['namespace team may not use accelerators', `annotation ${key}`, 'nvidia.com/gpu'],
        fix: [`remove the ${key} annotation`],
      });
    });

    it('denies it where only another vendor is allowed', () => {
      expectOne(failures(rule.check(analysisOf(cpu(), only('amd.com/gpu'), undefined, shared()))), {
        ruleId: ID, path: 'metadata.annotations[gpu-fraction]', message: ['which namespace team may not use'], fix: ['request one of: amd.com/gpu'],
      });
    });

    it('skips the Pod without the annotation, and fails the same Pod with it', () => {
      expectSkipGuard(rule, analysisOf(cpu(), noAccelerators(), undefined, { annotations: { team: 'a' } }), analysisOf(cpu(), noAccelerators(), undefined, shared()));
    });
  });

  describe('resource claims of a class that cannot be told', () => {
    it('offline (no view lists claims), warns that it cannot be classified, even where claims are assumed', () => {
      const [f, ...rest] = failures(rule.check(analysisOf({
        containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }],
        resourceClaims: [{ name: 'g', resourceClaimTemplateName: 'unknown-template' }],
      } as V1PodSpec, noAccelerators())));
      expect(rest).toEqual([]);
      expect(f).toMatchObject({ ruleId: ID, path: 'spec.resourceClaims[0]', advisory: true });
      expect(f?.fix).toContain('cluster view');
    });

    const claimed = (): V1PodSpec => ({
      containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }],
      resourceClaims: [{ name: 'g', resourceClaimTemplateName: 'unknown-template' }],
    } as V1PodSpec);

    it('warns (never silently passes) when assumeClaimsAreAccelerators is false', () => {
      const pol = policy({ accelerators: { allowed: false, assumeClaimsAreAccelerators: false } });
      const [f, ...rest] = failures(rule.check(analysisOf(claimed(), pol)));
      expect(rest).toEqual([]);
      expect(f).toMatchObject({ ruleId: ID, path: 'spec.resourceClaims[0]', advisory: true });
      expect(f?.message).toContain('cannot be classified');
    });

    it('denies it where accelerators are not allowed when claims are assumed to be accelerators (the default) and a live view lists claims', () => {
      const live = { ...config(), claims: { deviceClasses: () => undefined, claimsListed: () => true } };
      const [f] = failures(rule.check(analysisOf(claimed(), noAccelerators(), live)));
      expect(f).toMatchObject({ ruleId: ID, path: 'spec.resourceClaims[0]' });
      expect(f?.advisory).toBeUndefined();
    });
  });
});
