import type { V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { GpuPool, NamespacePolicy } from '../../src/policy/types.js';
import { poolTolerations as rule } from '../../src/rules/pool-tolerations.js';
import { analysisOf, config, cpuContainer, defaultTolerations, gpuContainer, gpuToleration, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, GKE, limitOnly, partial } from './helpers.js';

const ID = 'pool-tolerations';
const GPU_FIX = '{"key":"nvidia.com/gpu","operator":"Equal","value":"present","effect":"NoSchedule"}';
const AMD_FIX = '{"key":"amd.com/gpu","operator":"Exists","effect":"NoSchedule"}';
const withDefaults = (...t: V1Toleration[]): V1Toleration[] => [...(defaultTolerations() ?? []), ...t];
const amdPod = (o: Partial<V1PodSpec> = {}): V1PodSpec => podSpec({ containers: [limitOnly('main', '1', 'amd.com/gpu')], ...o });

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['the exact GPU toleration', podSpec({ tolerations: withDefaults(gpuToleration()) })],
    ['operator omitted (Equal) with the value', podSpec({ tolerations: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] })],
    ['empty operator (Equal) with the value', podSpec({ tolerations: [{ key: 'nvidia.com/gpu', operator: '', value: 'present', effect: 'NoSchedule' }] })],
    ['Exists on the key (ExtendedResourceToleration)', podSpec({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] })],
    ['Exists on the key with an empty effect (all effects)', podSpec({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] })],
    ['Equal with the value and an empty effect', podSpec({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present' }] })],
    ['empty key + Exists (tolerates everything)', podSpec({ tolerations: [{ operator: 'Exists' }] })],
    ['AMD Exists toleration', amdPod({ tolerations: [{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] })],
    ['AMD Equal toleration without value for a valueless taint', amdPod({ tolerations: [{ key: 'amd.com/gpu', operator: 'Equal', effect: 'NoSchedule' }] })],
    ['a GPU Pod selecting L4 that tolerates the L4 taint', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, tolerations: [gpuToleration()] })],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec, NamespacePolicy]>([
    ['a CPU Pod without tolerations', { containers: [cpuContainer()] }, policy(), podSpec(), policy()],
    ['a gated Pod (the queue controller adds tolerations)', podSpec({ schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] }), policy(), podSpec(), policy()],
    ['a namespace that allows no accelerators', podSpec(), policy({ accelerators: { allowed: false } }), podSpec(), policy()],
    ['a Pod with no usable pool (pool-selection reports it)', podSpec({ containers: [limitOnly('main', '1', 'google.com/tpu')] }), policy(), podSpec(), policy()],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, pol, twin, twinPol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(twin, twinPol));
  });

  it('skips a partial template (tolerations live elsewhere), and fails the same spec when it is whole', () => {
    const a = analysisOf(podSpec());
    expectSkipGuard(rule, partial(a), a);
  });

  it.each<[string, V1Toleration[] | undefined]>([
    ['no tolerations', undefined],
    ['only the default tolerations', withDefaults()],
    ['Equal with the wrong value', [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]],
    ['Equal without a value', [{ key: 'nvidia.com/gpu', operator: 'Equal', effect: 'NoSchedule' }]],
    ['the wrong effect', [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }]],
    ['PreferNoSchedule effect', [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'PreferNoSchedule' }]],
    ['the AKS taint key', [{ key: 'sku', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }]],
    ['empty key with Exists but only NoExecute', [{ operator: 'Exists', effect: 'NoExecute' }]],
  ])('denies a GPU Pod with %s', (_n, tolerations) => {
    const spec = podSpec(tolerations ? { tolerations } : {});
    expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID,
      path: 'spec.tolerations',
      message: ['does not tolerate the taints of any pool it may land on', 'a100 (nvidia.com/gpu=present:NoSchedule); l4 (nvidia.com/gpu=present:NoSchedule)', 'would stay Pending'],
      fix: [`add tolerations ${GPU_FIX}`, 'mutations.tolerations'],
    });
  });

  it('denies an AMD Pod tolerating only the NVIDIA taint and proposes an Exists toleration', () => {
    expectOne(failures(rule.check(analysisOf(amdPod({ tolerations: [gpuToleration()] })))), {
      ruleId: ID,
      path: 'spec.tolerations',
      message: ['mi300x (amd.com/gpu:NoSchedule)'],
      fix: [`add tolerations ${AMD_FIX}`],
    });
  });

  it('lists only the pools the Pod may land on', () => {
    const spec = podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } });
    const f = expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path: 'spec.tolerations', message: ['l4 (nvidia.com/gpu=present:NoSchedule)'] });
    expect(f.message).not.toContain('a100');
  });

  it('proposes the tolerations of the pool with the fewest missing, ignoring PreferNoSchedule', () => {
    const custom: GpuPool[] = [
      { name: 'big', nodeLabels: { [GKE]: 'big' }, resources: ['nvidia.com/gpu'], taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }, { key: 'c', effect: 'NoSchedule' }] },
      { name: 'small', nodeLabels: { [GKE]: 'small' }, resources: ['nvidia.com/gpu'], taints: [{ key: 'c', effect: 'NoSchedule' }, { key: 'd', effect: 'NoSchedule' }, { key: 'soft', effect: 'PreferNoSchedule' }] },
    ];
    const spec = podSpec({ tolerations: [{ key: 'c', operator: 'Exists' }, { key: 'b', operator: 'Exists', effect: 'NoSchedule' }] });
    expectOne(failures(rule.check(analysisOf(spec, policy(), config(custom)))), {
      ruleId: ID,
      path: 'spec.tolerations',
      message: ['big (a=1:NoSchedule, b:NoExecute); small (d:NoSchedule)'],
      fix: ['add tolerations {"key":"d","operator":"Exists","effect":"NoSchedule"} (mutations.tolerations adds them only when'],
    });
  });

  it('allows a pool whose only taint is PreferNoSchedule', () => {
    const soft: GpuPool[] = [{ name: 'soft', nodeLabels: { [GKE]: 'x' }, resources: ['nvidia.com/gpu'], taints: [{ key: 'gpu', effect: 'PreferNoSchedule' }] }];
    expectPass(rule.check(analysisOf(podSpec(), policy(), config(soft))));
  });

  it('counts a GPU init container as making an accelerator Pod', () => {
    const spec: V1PodSpec = { initContainers: [gpuContainer({ name: 'warmup' })], containers: [cpuContainer()] };
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path: 'spec.tolerations' });
  });
});
