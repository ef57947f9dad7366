import type { V1Toleration } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { PoolTaint } from '../../src/policy/types.js';
import { describeTaint, repelling, tolerates, tolerationFor, untolerated } from '../../src/scheduling/tolerations.js';
import { defaultTolerations, GPU_TAINT, gpuToleration } from '../support/fixtures.js';

const gpu = (): PoolTaint => ({ ...GPU_TAINT });
const amd = (): PoolTaint => ({ key: 'amd.com/gpu', effect: 'NoSchedule' });
const noExec = (): PoolTaint => ({ key: 'nvidia.com/gpu', value: 'present', effect: 'NoExecute' });

describe('tolerates (Kubernetes ToleratesTaint)', () => {
  it.each<[string, V1Toleration, PoolTaint, boolean]>([
    ['Equal with the same value', gpuToleration(), gpu(), true],
    ['operator omitted means Equal', { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }, gpu(), true],
    ['empty operator means Equal', { key: 'nvidia.com/gpu', operator: '', value: 'present', effect: 'NoSchedule' }, gpu(), true],
    ['empty operator, wrong value', { key: 'nvidia.com/gpu', operator: '', value: 'true', effect: 'NoSchedule' }, gpu(), false],
    ['Equal with a wrong value', { key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }, gpu(), false],
    ['Equal without value vs valued taint', { key: 'nvidia.com/gpu', operator: 'Equal', effect: 'NoSchedule' }, gpu(), false],
    ['Equal without value vs taint without value', { key: 'amd.com/gpu', operator: 'Equal', effect: 'NoSchedule' }, amd(), true],
    ['Equal with empty value vs taint without value', { key: 'amd.com/gpu', operator: 'Equal', value: '', effect: 'NoSchedule' }, amd(), true],
    ['Exists ignores the value', { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, gpu(), true],
    ['Exists on another key', { key: 'amd.com/gpu', operator: 'Exists' }, gpu(), false],
    ['empty effect matches NoSchedule', { key: 'nvidia.com/gpu', operator: 'Exists' }, gpu(), true],
    ['empty effect matches NoExecute', { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present' }, noExec(), true],
    ['other effect', { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, gpu(), false],
    ['PreferNoSchedule toleration vs NoSchedule taint', { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'PreferNoSchedule' }, gpu(), false],
    ['empty key + Exists tolerates everything', { operator: 'Exists' }, gpu(), true],
    ['empty key + Exists tolerates a valueless taint', { operator: 'Exists' }, amd(), true],
    ['empty key + Exists still checks the effect', { operator: 'Exists', effect: 'NoExecute' }, gpu(), false],
    ['empty key + Exists + effect', { operator: 'Exists', effect: 'NoExecute' }, noExec(), true],
    ['empty key without Exists is invalid and matches nothing', { operator: 'Equal', value: 'present' }, gpu(), false],
    ['unknown operator', { key: 'nvidia.com/gpu', operator: 'Gte', value: 'present' }, gpu(), false],
    ['default not-ready toleration', defaultTolerations()?.[0] as V1Toleration, gpu(), false],
  ])('%s', (_name, t, taint, want) => {
    expect(tolerates(t, taint)).toBe(want);
  });

  it('ignores a null toleration', () => {
    expect(tolerates(null as unknown as V1Toleration, gpu())).toBe(false);
  });
});

describe('repelling / untolerated', () => {
  it('drops PreferNoSchedule taints only', () => {
    const soft: PoolTaint = { key: 'spot', value: 'true', effect: 'PreferNoSchedule' };
    expect(repelling([gpu(), soft, noExec()])).toEqual([gpu(), noExec()]);
  });

  it.each<[string, V1Toleration[] | undefined, PoolTaint[], PoolTaint[]]>([
    ['no tolerations at all', undefined, [gpu(), noExec()], [gpu(), noExec()]],
    ['defaults only', defaultTolerations(), [gpu()], [gpu()]],
    ['the GPU toleration', [...(defaultTolerations() ?? []), gpuToleration()], [gpu()], []],
    ['NoSchedule tolerated but not NoExecute', [gpuToleration()], [gpu(), noExec()], [noExec()]],
    ['wildcard', [{ operator: 'Exists' }], [gpu(), amd(), noExec()], []],
    ['PreferNoSchedule never needs tolerating', [], [{ key: 'x', effect: 'PreferNoSchedule' }], []],
    ['non-array tolerations', 'oops' as unknown as V1Toleration[], [amd()], [amd()]],
  ])('%s', (_name, tolerations, taints, want) => {
    expect(untolerated(tolerations, taints)).toEqual(want);
  });
});

describe('tolerationFor / describeTaint', () => {
  it.each<[PoolTaint, V1Toleration, string]>([
    [gpu(), { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }, 'nvidia.com/gpu=present:NoSchedule'],
    [amd(), { key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, 'amd.com/gpu:NoSchedule'],
    [{ key: 'sku', value: '', effect: 'NoExecute' }, { key: 'sku', operator: 'Exists', effect: 'NoExecute' }, 'sku:NoExecute'],
  ])('%j', (taint, toleration, text) => {
    expect(tolerationFor(taint)).toEqual(toleration);
    expect(tolerates(tolerationFor(taint), taint)).toBe(true);
    expect(describeTaint(taint)).toBe(text);
  });
});
