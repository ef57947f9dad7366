import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { GpuPool, NamespacePolicy } from '../../src/policy/types.js';
import { acceleratorQuantity as rule } from '../../src/rules/accelerator-quantity.js';
import { analysisOf, config, cpuContainer, gpuContainer, podSpec, policy, pools } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, GKE, limitOnly, sidecar } from './helpers.js';

const ID = 'accelerator-quantity';
const MAIN = 'spec.containers[0].resources.limits[nvidia.com/gpu]';
const l4 = { [GKE]: 'nvidia-l4' };
const a100 = { [GKE]: 'nvidia-a100-80gb' };
const nsMax = (n: number): NamespacePolicy => policy({ accelerators: { maxPerPod: n } });

describe(ID, () => {
  it.each<[string, V1PodSpec, NamespacePolicy]>([
    ['8 GPUs unconstrained (a100 holds 8)', podSpec({ containers: [gpuContainer({}, '8')] }), policy()],
    ['4 GPUs on L4 (holds 4)', podSpec({ nodeSelector: l4, containers: [gpuContainer({}, '4')] }), policy()],
    ['number 4 on L4', podSpec({ nodeSelector: l4, containers: [limitOnly('main', 4)] }), policy()],
    ['8 GPUs on A100', podSpec({ nodeSelector: a100, containers: [gpuContainer({}, 8)] }), policy()],
    ['exactly the namespace maximum', podSpec({ containers: [gpuContainer({}, '2')] }), nsMax(2)],
    ['two containers within the namespace maximum', podSpec({ containers: [gpuContainer({}, '1'), gpuContainer({ name: 'b' }, '1')] }), nsMax(2)],
    ['7 MIG slices on the MIG pool (holds 7)', podSpec({ containers: [gpuContainer({}, '7', 'nvidia.com/mig-1g.5gb')] }), policy()],
    ['any number where a pool sets no maximum', podSpec({ containers: [gpuContainer({}, '64', 'amd.com/gpu')] }), policy()],
    ['init container no larger than the pool', podSpec({ nodeSelector: l4, initContainers: [limitOnly('init', '4')], containers: [gpuContainer({}, '2')] }), policy()],
    ['sidecar after the init container', podSpec({ nodeSelector: l4, initContainers: [limitOnly('init', '3'), sidecar('side', '2')], containers: [gpuContainer({}, '2')] }), policy()],
    ['pools the namespace may not use are ignored when it may use one', podSpec({ containers: [gpuContainer({}, '4')] }), policy({ accelerators: { pools: ['l4'] } })],
    ['"0" counts as nothing (accelerator-limits reports it)', podSpec({ containers: [gpuContainer({}, '0')] }), nsMax(1)],
  ])('allows %s', (_n, spec, pol) => {
    expectPass(rule.check(analysisOf(spec, pol)));
  });

  it.each<[string, V1PodSpec, NamespacePolicy, V1PodSpec, NamespacePolicy]>([
    ['a CPU Pod', { containers: [cpuContainer()] }, nsMax(1), podSpec({ containers: [gpuContainer({}, '2')] }), nsMax(1)],
    ['a namespace that allows no accelerators', podSpec({ containers: [gpuContainer({}, '64')] }), policy({ accelerators: { allowed: false, maxPerPod: 1 } }),
      podSpec({ containers: [gpuContainer({}, '64')] }), policy({ accelerators: { maxPerPod: 1 } })],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, pol, twin, twinPol) => {
    expectSkipGuard(rule, analysisOf(spec, pol), analysisOf(twin, twinPol));
  });

  it.each<[string, V1PodSpec, number, string]>([
    ['one container over the namespace maximum', podSpec({ containers: [gpuContainer({}, '3')] }), 3, MAIN],
    ['two containers adding up over it', podSpec({ containers: [gpuContainer({}, '2'), gpuContainer({ name: 'b' }, '1')] }), 3, MAIN],
    ['an init container over it', podSpec({ initContainers: [limitOnly('init', '4')], containers: [gpuContainer({}, '1')] }), 4, 'spec.initContainers[0].resources.limits[nvidia.com/gpu]'],
    ['a sidecar plus the app over it', podSpec({ initContainers: [sidecar('side', '1')], containers: [gpuContainer({}, '2')] }), 3, 'spec.initContainers[0].resources.limits[nvidia.com/gpu]'],
    ['"1e3"', podSpec({ containers: [limitOnly('main', '1e3')] }), 1000, MAIN],
    ['"2Gi"', podSpec({ containers: [limitOnly('main', '2Gi')] }), 2 ** 31, MAIN],
  ])('denies %s the namespace maximum of 2', (_n, spec, count, path) => {
    expectOne(failures(rule.check(analysisOf(spec, nsMax(2)))), {
      ruleId: ID,
      path,
      message: [`requests ${count} nvidia.com/gpu in total`, 'more than the 2 per Pod namespace team allows'],
      fix: ['at most 2 per Pod', 'split the work'],
    });
  });

  it.each<[string, V1PodSpec, number, string, number]>([
    ['9 GPUs unconstrained', podSpec({ containers: [gpuContainer({}, '9')] }), 9, 'a100 (8), l4 (4)', 8],
    ['5 GPUs on L4', podSpec({ nodeSelector: l4, containers: [gpuContainer({}, '5')] }), 5, 'l4 (4)', 4],
    ['2 + 3 containers on L4', podSpec({ nodeSelector: l4, containers: [gpuContainer({}, '2'), gpuContainer({ name: 'b' }, '3')] }), 5, 'l4 (4)', 4],
    ['sidecar before an init container on L4', podSpec({ nodeSelector: l4, initContainers: [sidecar('side', '2'), limitOnly('init', '3')], containers: [gpuContainer({}, '2')] }), 5, 'l4 (4)', 4],
    ['8 MIG slices', podSpec({ containers: [gpuContainer({}, '8', 'nvidia.com/mig-1g.5gb')] }), 8, 'mig (7)', 7],
  ])('denies %s over what a node of its pools holds', (_n, spec, count, names, best) => {
    const findings = failures(rule.check(analysisOf(spec, policy())));
    const resource = spec.containers[0]?.resources?.limits?.['nvidia.com/mig-1g.5gb'] ? 'nvidia.com/mig-1g.5gb' : 'nvidia.com/gpu';
    const first = spec.initContainers?.length ? 'spec.initContainers[0]' : 'spec.containers[0]';
    expectOne(findings, {
      ruleId: ID,
      path: `${first}.resources.limits[${resource}]`,
      message: [`requests ${count} ${resource} in total`, `more than any node of its pools holds: ${names}`],
      fix: [`at most ${best} per Pod`, 'one node can hold it'],
    });
  });

  it('uses the pools offering the resource when the namespace may use none of them', () => {
    const spec = podSpec({ nodeSelector: l4, containers: [gpuContainer({}, '5')] });
    const f = expectOne(failures(rule.check(analysisOf(spec, policy({ accelerators: { pools: ['mi300x'] } })))), { ruleId: ID, path: MAIN });
    expect(f.message).toContain('l4 (4)');
  });

  it('does not bound the count when one candidate pool has no maximum', () => {
    const open: GpuPool[] = [...pools(), { name: 'h100', nodeLabels: { [GKE]: 'nvidia-h100-80gb' }, taints: [], resources: ['nvidia.com/gpu'] }];
    expectPass(rule.check(analysisOf(podSpec({ containers: [gpuContainer({}, '16')] }), policy(), config(open))));
  });

  it('reports each resource over the maximum separately', () => {
    const spec = podSpec({ containers: [gpuContainer({}, '3'), gpuContainer({ name: 'amd' }, '3', 'amd.com/gpu')] });
    expect(failures(rule.check(analysisOf(spec, nsMax(2)))).map((f) => f.path)).toEqual([
      'spec.containers[1].resources.limits[amd.com/gpu]',
      MAIN,
    ]);
  });
});
