import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { GpuPool, NamespacePolicy } from '../../src/policy/types.js';
import { poolSelection as rule } from '../../src/rules/pool-selection.js';
import { analysisOf, config, cpuContainer, gpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, expr, failures, GKE, limitOnly, partial, required } from './helpers.js';

const ID = 'pool-selection';
const MIG = 'nvidia.com/mig-1g.5gb';
const PRODUCT = 'nvidia.com/gpu.product';
const migPod = (o: Partial<V1PodSpec> = {}): V1PodSpec => podSpec({ containers: [gpuContainer({}, '1', MIG)], ...o });
const gated = (): V1PodSpec['schedulingGates'] => [{ name: 'kueue.x-k8s.io/admission' }];
const MIG_HINT = 'mig (nvidia.com/gpu.product=NVIDIA-A100-SXM4-40GB,nvidia.com/mig.strategy=mixed; taints nvidia.com/gpu=present:NoSchedule)';
const L4_HINT = `l4 (${GKE}=nvidia-l4; taints nvidia.com/gpu=present:NoSchedule)`;

/** A catalogue where every pool defines the GKE label, so a foreign value matches none. */
function gkePools(): GpuPool[] {
  return [
    { name: 'a100', nodeLabels: { [GKE]: 'nvidia-a100-80gb' }, taints: [], resources: ['nvidia.com/gpu'] },
    { name: 'l4', nodeLabels: { [GKE]: 'nvidia-l4' }, taints: [], resources: ['nvidia.com/gpu'] },
  ];
}

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['an unconstrained GPU Pod', podSpec(), policy()],
    ['L4 by nodeSelector', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } }), policy()],
    ['A100 or L4 by affinity', podSpec({ affinity: required([expr(GKE, 'In', ['nvidia-l4', 'nvidia-a100-80gb'])]) }), policy()],
    ['one ORed term on an offering pool', podSpec({ affinity: required([expr(GKE, 'In', ['nvidia-t4']), expr(PRODUCT, 'In', ['T4'])], [expr(GKE, 'In', ['nvidia-l4'])]) }), policy()],
    ['MIG slices on the MIG product', migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-A100-SXM4-40GB' } }), policy()],
    ['MIG slices with a label key no pool defines (open, not a mismatch)', migPod({ nodeSelector: { 'node.kubernetes.io/instance-type': 'a2-highgpu-1g' } }), policy()],
    ['an unconstrained Pod in a namespace restricted to L4', podSpec(), policy({ accelerators: { pools: ['l4'] } })],
    ['AMD GPUs on the MI300X pool', podSpec({ containers: [limitOnly('main', '8', 'amd.com/gpu')], nodeSelector: { 'amd.com/gpu.product-name': 'MI300X' } }), policy()],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec, NamespacePolicy]>([
    ['a CPU Pod selecting an unknown GPU', { containers: [cpuContainer()], nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }, policy(), migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }), policy()],
    ['a gated Pod (the queue controller will select)', migPod({ schedulingGates: gated(), nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }), policy(), migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }), policy()],
    ['a gated TPU Pod', podSpec({ containers: [limitOnly('main', '4', 'google.com/tpu')], schedulingGates: gated() }), policy(), podSpec({ containers: [limitOnly('main', '4', 'google.com/tpu')] }), policy()],
    ['a namespace that allows no accelerators', migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }), policy({ accelerators: { allowed: false } }), migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }), policy()],
    ['a contradictory selection (node-selection reports it)', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'DoesNotExist')]) }), policy({ accelerators: { pools: ['a100'] } }),
      podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } }), policy({ accelerators: { pools: ['a100'] } })],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, pol, twin, twinPol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(twin, twinPol));
  });

  it('skips a partial template (selection lives elsewhere), and fails the same spec when it is whole', () => {
    const a = analysisOf(migPod({ nodeSelector: { [PRODUCT]: 'NVIDIA-L4' } }));
    expectSkipGuard(rule, partial(a), a);
  });

  it('skips when the cluster defines no pools, and fails the same Pod against a catalogue that offers no TPU', () => {
    const tpu = (): V1PodSpec => podSpec({ containers: [limitOnly('main', '1', 'google.com/tpu')] });
    expectSkipGuard(rule, analysisOf(tpu(), policy(), config([])), analysisOf(tpu(), policy(), config()));
  });

  it('denies MIG slices that select a non-MIG product', () => {
    const spec = migPod({ nodeSelector: { [GKE]: 'nvidia-l4', [PRODUCT]: 'NVIDIA-L4' } });
    expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID,
      path: `spec.nodeSelector[${GKE}]`,
      message: [`${GKE}=nvidia-l4 / ${PRODUCT}=NVIDIA-L4 matches no GpuPool`, 'would stay Pending'],
      fix: [`select a pool that offers it: ${MIG_HINT}`],
    });
  });

  it('denies MIG slices whose affinity excludes the MIG pool', () => {
    const spec = migPod({ affinity: required([expr('nvidia.com/mig.strategy', 'DoesNotExist')]) });
    const f = expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path: 'spec.affinity.nodeAffinity', message: ['do not offer nvidia.com/mig-1g.5gb'], fix: [MIG_HINT] });
    expect(f.message).not.toContain('mig,');
  });

  it.each<[string, V1PodSpec, string, string]>([
    ['a TPU nobody offers', podSpec({ containers: [limitOnly('main', '4', 'google.com/tpu')] }), 'no pool of the catalogue offers google.com/tpu', 'request a resource one of your pools offers'],
    ['NVIDIA and AMD GPUs in one Pod', podSpec({ containers: [gpuContainer(), limitOnly('amd', '1', 'amd.com/gpu')] }), 'no pool of the catalogue offers amd.com/gpu + nvidia.com/gpu', 'request a resource one of your pools offers'],
  ])('denies %s', (_n, spec, message, fix) => {
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path: 'spec.nodeSelector', message: [message, 'would stay Pending'], fix: [fix] });
  });

  it.each<[string, V1PodSpec, string]>([
    ['by nodeSelector', podSpec({ nodeSelector: { [GKE]: 'nvidia-h100-80gb' } }), `spec.nodeSelector[${GKE}]`],
    ['by affinity', podSpec({ affinity: required([expr(GKE, 'In', ['nvidia-h100-80gb', 'nvidia-t4'])]) }), 'spec.affinity.nodeAffinity'],
  ])('denies a selection that matches no pool %s', (_n, spec, path) => {
    expectOne(failures(rule.check(analysisOf(spec, policy(), config(gkePools())))), {
      ruleId: ID,
      path,
      message: ['matches no GpuPool (pools: a100, l4)', 'would stay Pending'],
      fix: [`select a pool that offers it: a100 (${GKE}=nvidia-a100-80gb); l4 (${GKE}=nvidia-l4)`],
    });
  });

  it('denies a pool the namespace may not use and points to one it may', () => {
    const spec = podSpec({ nodeSelector: { [GKE]: 'nvidia-a100-80gb' } });
    expectOne(failures(rule.check(analysisOf(spec, policy({ accelerators: { pools: ['l4'] } })))), {
      ruleId: ID,
      path: `spec.nodeSelector[${GKE}]`,
      message: ['pool a100 may not be used by namespace team (allowed pools: l4)'],
      fix: [`select a pool that offers it: ${L4_HINT}`],
    });
  });

  it('denies when no allowed pool offers the resource at all', () => {
    expectOne(failures(rule.check(analysisOf(podSpec(), policy({ accelerators: { pools: ['mi300x'] } })))), {
      ruleId: ID,
      path: 'spec.nodeSelector',
      message: ['pools a100, l4 may not be used by namespace team (allowed pools: mi300x)'],
      fix: ['use one of the allowed pools: mi300x'],
    });
  });
});
