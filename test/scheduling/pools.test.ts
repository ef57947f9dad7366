import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { acceleratorPin, candidatePools, poolAllowed, poolOffers } from '../../src/scheduling/pools.js';
import { alternatives, selectionOf } from '../../src/scheduling/selectors.js';
import { policy, pools } from '../support/fixtures.js';
import { expr, GKE, required } from '../rules/helpers.js';

function altsOf(spec: Omit<V1PodSpec, 'containers'>): ReturnType<typeof alternatives> {
  const full: V1PodSpec = { containers: [], ...spec };
  return alternatives(selectionOf(full), full);
}

const names = (list: { name: string }[]): string[] => list.map((p) => p.name);

describe('poolOffers / poolAllowed', () => {
  it.each<[string, string, boolean]>([
    ['a100', 'nvidia.com/gpu', true],
    ['a100', 'nvidia.com/mig-1g.5gb', false],
    ['mig', 'nvidia.com/mig-1g.5gb', true],
    ['mig', 'nvidia.com/mig-1g.10gb', false],
    ['mig', 'nvidia.com/gpu', false],
    ['mi300x', 'amd.com/gpu', true],
  ])('%s offers %s: %s', (pool, resource, want) => {
    expect(poolOffers(pools().find((p) => p.name === pool) ?? pools()[0]!, resource)).toBe(want);
  });

  it('allows every pool when the policy lists none, else only the listed ones', () => {
    const [a100, l4] = pools();
    expect(poolAllowed(policy(), a100!)).toBe(true);
    expect(poolAllowed(policy({ accelerators: { pools: ['l4'] } }), a100!)).toBe(false);
    expect(poolAllowed(policy({ accelerators: { pools: ['l4'] } }), l4!)).toBe(true);
  });
});

describe('candidatePools', () => {
  it.each<[string, Omit<V1PodSpec, 'containers'>, string[], string[], string[], string[]]>([
    ['unconstrained GPU', {}, ['nvidia.com/gpu'], ['a100', 'l4', 'mig', 'mi300x'], ['a100', 'l4'], ['l4']],
    // Closed world for the catalogue's keys: a pool that does not carry the key does not match.
    ['L4 by nodeSelector (a pool without the key is not a candidate)', { nodeSelector: { [GKE]: 'nvidia-l4' } }, ['nvidia.com/gpu'], ['l4'], ['l4'], ['l4']],
    ['MIG by product', { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' } }, ['nvidia.com/mig-1g.5gb'], ['mig'], ['mig'], []],
    ['MIG slice selecting a non-MIG product', { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' } }, ['nvidia.com/mig-1g.5gb'], [], [], []],
    ['A100 by affinity', { affinity: required([expr(GKE, 'In', ['nvidia-a100-80gb'])]) }, ['nvidia.com/gpu'], ['a100'], ['a100'], []],
    ['NotIn keeps the pools without the key', { affinity: required([expr(GKE, 'NotIn', ['nvidia-a100-80gb'])]) }, ['nvidia.com/gpu'], ['l4', 'mig', 'mi300x'], ['l4'], ['l4']],
    ['a key no pool defines stays open', { nodeSelector: { 'node.kubernetes.io/instance-type': 'g5.8xlarge' } }, ['nvidia.com/gpu'], ['a100', 'l4', 'mig', 'mi300x'], ['a100', 'l4'], ['l4']],
    ['two resources no pool offers together', {}, ['amd.com/gpu', 'nvidia.com/gpu'], ['a100', 'l4', 'mig', 'mi300x'], [], []],
  ])('%s', (_n, spec, resources, selected, offering, usable) => {
    const c = candidatePools(altsOf(spec), resources, pools(), policy({ accelerators: { pools: ['l4', 'mi300x'] } }));
    expect(names(c.selected)).toEqual(selected);
    expect(names(c.offering)).toEqual(offering);
    expect(names(c.usable)).toEqual(usable);
  });
});

describe('acceleratorPin', () => {
  it.each<[string, Omit<V1PodSpec, 'containers'>, string | undefined]>([
    ['nothing', {}, undefined],
    ['GKE accelerator label', { nodeSelector: { [GKE]: 'nvidia-h100-80gb' } }, GKE],
    ['gpu.present=true', { nodeSelector: { 'nvidia.com/gpu.present': 'true' } }, 'nvidia.com/gpu.present'],
    ['gpu.present=false', { nodeSelector: { 'nvidia.com/gpu.present': 'false' } }, undefined],
    ['Karpenter gpu-count Gt 0', { affinity: required([expr('karpenter.k8s.aws/instance-gpu-count', 'Gt', ['0'])]) }, 'karpenter.k8s.aws/instance-gpu-count'],
    ['Karpenter gpu-count Gt -1 (admits 0)', { affinity: required([expr('karpenter.k8s.aws/instance-gpu-count', 'Gt', ['-1'])]) }, undefined],
    ['Karpenter gpu-count Lt 1', { affinity: required([expr('karpenter.k8s.aws/instance-gpu-count', 'Lt', ['1'])]) }, undefined],
    ['Exists on a well-known key', { affinity: required([expr('nvidia.com/gpu.product', 'Exists')]) }, 'nvidia.com/gpu.product'],
    ['NotIn on a well-known key', { affinity: required([expr(GKE, 'NotIn', ['nvidia-l4'])]) }, undefined],
    ['pool-only label value', { nodeSelector: { 'amd.com/gpu.product-name': 'MI300X' } }, 'amd.com/gpu.product-name'],
    ['pool-only label, other value', { nodeSelector: { 'amd.com/gpu.product-name': 'MI250' } }, undefined],
    ['unrelated label', { nodeSelector: { disktype: 'ssd' } }, undefined],
    ['every ORed term pins', { affinity: required([expr(GKE, 'Exists')], [expr('nvidia.com/gpu.present', 'In', ['true'])]) }, GKE],
    ['one ORed term is free', { affinity: required([expr(GKE, 'Exists')], [expr('disktype', 'In', ['ssd'])]) }, undefined],
  ])('%s -> %s', (_n, spec, key) => {
    expect(acceleratorPin(altsOf(spec), pools())?.key).toBe(key);
  });
});
