import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AcceleratorMatcher, analyseAccelerators, containerRefs, DEFAULT_ACCELERATOR_RESOURCES } from '../../src/workload/accelerators.js';
import { globMatch } from '../../src/util/glob.js';
import { cpuContainer, gpuContainer } from '../support/fixtures.js';
import { limitOnly, sidecar, withResources } from '../rules/helpers.js';

const matcher = (): AcceleratorMatcher => new AcceleratorMatcher(DEFAULT_ACCELERATOR_RESOURCES);

describe('globMatch', () => {
  it.each<[string, string, boolean]>([
    ['nvidia.com/gpu', 'nvidia.com/gpu', true],
    ['nvidia.com/gpu', 'nvidia.com/gpu.shared', false],
    ['nvidia.com/mig-*', 'nvidia.com/mig-1g.5gb', true],
    ['nvidia.com/mig-*', 'nvidia.com/mig-', true],
    ['nvidia.com/mig-*', 'nvidia.com/gpu', false],
    ['*', 'anything', true],
    ['*.com/gpu', 'amd.com/gpu', true],
    ['nvidia.com/mig-*g.*gb', 'nvidia.com/mig-3g.20gb', true],
    ['nvidia.com/mig-*g.*gb', 'nvidia.com/mig-3g.20', false],
    ['ab*ab', 'ab', false],
    ['a*bc*c', 'abc', false],
    ['a*bc*c', 'abcc', true],
  ])('%s ~ %s -> %s', (pattern, name, want) => {
    expect(globMatch(pattern, name)).toBe(want);
  });
});

describe('AcceleratorMatcher (defaults)', () => {
  it.each<[string, boolean]>([
    ['nvidia.com/gpu', true],
    ['nvidia.com/gpu.shared', true],
    ['nvidia.com/mig-1g.5gb', true],
    ['nvidia.com/mig-3g.20gb', true],
    ['amd.com/gpu', true],
    ['gpu.intel.com/i915', true],
    ['gpu.intel.com/i915_monitoring', false],
    ['gpu.intel.com/xe', true],
    ['google.com/tpu', true],
    ['aws.amazon.com/neuroncore', true],
    ['habana.ai/gaudi', true],
    ['cpu', false],
    ['memory', false],
    ['ephemeral-storage', false],
    ['hugepages-2Mi', false],
    ['example.com/foo', false],
  ])('%s -> %s', (name, want) => {
    const m = matcher();
    expect(m.matches(name)).toBe(want);
    expect(m.matches(name)).toBe(want); // cached answer is the same
  });

  it('uses configured patterns only, and the name heuristic unless it is off', () => {
    const m = new AcceleratorMatcher(['example.com/fpga-*']);
    expect(m.matches('example.com/fpga-u250')).toBe(true);
    expect(m.classify('nvidia.com/gpu')).toBe('assumed');
    expect(new AcceleratorMatcher(['example.com/fpga-*'], { guess: false }).matches('nvidia.com/gpu')).toBe(false);
  });
});

describe('containerRefs', () => {
  it('lists init containers first, marks restartable ones as sidecars, skips junk', () => {
    const spec = {
      initContainers: [cpuContainer({ name: 'init' }), cpuContainer({ name: 'side', restartPolicy: 'Always' })],
      containers: [null, cpuContainer({ name: 'app' })],
    } as unknown as V1PodSpec;
    expect(containerRefs(spec).map((r) => [r.container.name, r.list, r.index, r.sidecar, r.path])).toEqual([
      ['init', 'initContainers', 0, false, 'initContainers[0]'],
      ['side', 'initContainers', 1, true, 'initContainers[1]'],
      ['app', 'containers', 1, false, 'containers[1]'],
    ]);
  });
});

describe('analyseAccelerators', () => {
  it('records limit and request of each accelerator resource per container', () => {
    const a = analyseAccelerators({ containers: [cpuContainer({ name: 'proxy' }), gpuContainer({}, '2')] }, matcher());
    expect(a.isAcceleratorPod).toBe(true);
    expect(a.resources).toEqual(['nvidia.com/gpu']);
    expect(a.uses).toHaveLength(1);
    expect(a.uses[0]).toMatchObject({ resource: 'nvidia.com/gpu', limit: '2', request: '2', hasLimit: true, hasRequest: true });
    expect(a.uses[0]?.ref.path).toBe('containers[1]');
    expect(a.acceleratorContainers.map((r) => r.path)).toEqual(['containers[1]']);
    expect(a.perPod.get('nvidia.com/gpu')).toBe(2);
  });

  it.each<[string, V1Container, boolean, boolean]>([
    ['request without limit', withResources('c', undefined, { 'nvidia.com/gpu': '1' }), false, true],
    ['limit only (template)', limitOnly('c', '1'), true, false],
    ['number quantity', limitOnly('c', 1), true, false],
  ])('%s', (_n, c, hasLimit, hasRequest) => {
    const a = analyseAccelerators({ containers: [c] }, matcher());
    expect(a.uses[0]).toMatchObject({ hasLimit, hasRequest });
    expect(a.perPod.get('nvidia.com/gpu')).toBe(1);
  });

  it.each<[string, V1PodSpec]>([
    ['CPU only', { containers: [cpuContainer()] }],
    ['no resources', { containers: [{ name: 'c' }] }],
    ['resources not an object', { containers: [{ name: 'c', resources: 'x' as unknown as V1Container['resources'] }] }],
    ['monitoring resource only', { containers: [limitOnly('c', '1', 'gpu.intel.com/i915_monitoring')] }],
  ])('%s is not an accelerator Pod', (_n, spec) => {
    const a = analyseAccelerators(spec, matcher());
    expect(a.isAcceleratorPod).toBe(false);
    expect(a.uses).toEqual([]);
    expect(a.perPod.size).toBe(0);
  });

  it('an init container alone makes an accelerator Pod but not an accelerator container', () => {
    const a = analyseAccelerators({ initContainers: [limitOnly('warm', '1')], containers: [cpuContainer()] }, matcher());
    expect(a.isAcceleratorPod).toBe(true);
    expect(a.acceleratorContainers).toEqual([]);
    expect(a.uses[0]?.ref.path).toBe('initContainers[0]');
  });

  it('lists several resources sorted', () => {
    const a = analyseAccelerators({ containers: [limitOnly('a', '1', 'nvidia.com/mig-1g.5gb'), limitOnly('b', '2', 'amd.com/gpu')] }, matcher());
    expect(a.resources).toEqual(['amd.com/gpu', 'nvidia.com/mig-1g.5gb']);
    expect([...a.perPod]).toEqual([['amd.com/gpu', 2], ['nvidia.com/mig-1g.5gb', 1]]);
  });

  // effective per-Pod count = max(sum(containers) + sum(sidecars), max_i(init_i + sidecars started before i))
  it.each<[string, V1PodSpec, number]>([
    ['two app containers add up', { containers: [limitOnly('a', '2'), limitOnly('b', '3')] }, 5],
    ['init container larger than the app', { initContainers: [limitOnly('i', '4')], containers: [limitOnly('a', '1')] }, 4],
    ['init containers do not add up with each other', { initContainers: [limitOnly('i1', '2'), limitOnly('i2', '3')], containers: [limitOnly('a', '1')] }, 3],
    ['init smaller than the app', { initContainers: [limitOnly('i', '1')], containers: [limitOnly('a', '2')] }, 2],
    ['sidecar adds to the app', { initContainers: [sidecar('s', '1')], containers: [limitOnly('a', '2')] }, 3],
    ['sidecar before an init container adds to it', { initContainers: [sidecar('s', '2'), limitOnly('i', '3')], containers: [limitOnly('a', '2')] }, 5],
    ['sidecar after an init container does not', { initContainers: [limitOnly('i', '3'), sidecar('s', '2')], containers: [limitOnly('a', '2')] }, 4],
    ['only earlier sidecars count', { initContainers: [sidecar('s1', '1'), limitOnly('i', '4'), sidecar('s2', '2')], containers: [] }, 5],
    ['limit wins over a differing request', { containers: [withResources('a', { 'nvidia.com/gpu': '2' }, { 'nvidia.com/gpu': '1' })] }, 2],
    ['request counts when there is no limit', { containers: [withResources('a', undefined, { 'nvidia.com/gpu': '2' })] }, 2],
    ['zero, negative and invalid count as nothing', { containers: [limitOnly('a', '0'), limitOnly('b', '-1'), limitOnly('c', 'x'), limitOnly('d', '1')] }, 1],
    ['quantities with exponents and milli', { containers: [limitOnly('a', '1e1'), limitOnly('b', '2000m'), limitOnly('c', 3)] }, 15],
  ])('%s -> %d', (_n, spec, want) => {
    expect(analyseAccelerators(spec, matcher()).perPod.get('nvidia.com/gpu')).toBe(want);
  });
});
