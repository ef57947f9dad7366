import type { V1PodSpec, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deviceHostpath as rule, devicePath } from '../../src/rules/device-hostpath.js';
import { analysisOf, config, cpuContainer, gpuContainer, gpuToleration, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkipGuard, failures, partial } from './helpers.js';

const ID = 'device-hostpath';
const host = (path: string, name = 'v'): V1Volume => ({ name, hostPath: { path } });
const gpu = (...volumes: V1Volume[]): V1PodSpec => ({ containers: [gpuContainer()], volumes });
const cpu = (...volumes: V1Volume[]): V1PodSpec => ({ containers: [cpuContainer()], volumes });

describe(ID, () => {
  it.each<[string, string | undefined]>([
    ['/dev', '/dev'], ['/dev/', '/dev'], ['//dev//', '/dev'], ['/', '/'], ['/dev/..', '/'], ['/var/../dev', '/dev'],
    ['/dev/nvidia0', '/dev/nvidia0'], ['/dev/nvidiactl', '/dev/nvidiactl'], ['/dev/nvidia-caps/', '/dev/nvidia-caps'],
    ['/dev/dri', '/dev/dri'], ['/dev/dri/renderD128', '/dev/dri/renderD128'], ['/dev/kfd', '/dev/kfd'], ['/dev/accel/accel0', '/dev/accel/accel0'],
    ['/dev/neuron0', '/dev/neuron0'], ['/dev/vfio/12', '/dev/vfio/12'], ['/dev/./nvidia0', '/dev/nvidia0'],
    ['/dev/shm', undefined], ['/dev/null', undefined], ['/dev/fuse', undefined], ['/var/log', undefined], ['/device', undefined],
    ['/var/lib/dev', undefined], ['dev', undefined],
  ])('devicePath(%s) = %s', (raw, want) => {
    expect(devicePath(raw)).toBe(want);
  });

  it.each<[string, V1PodSpec]>([
    ['a GPU Pod with /dev/shm and /var/log hostPaths', gpu(host('/dev/shm'), host('/var/log', 'logs'))],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, string, string[]]>([
    ['/dev in a GPU Pod', gpu(host('/dev')), 'spec.volumes[0].hostPath.path', ['"/dev"', 'every device of the node', 'requests an accelerator']],
    ['/dev/ (trailing slash)', gpu(host('/dev/')), 'spec.volumes[0].hostPath.path', ['"/dev/"']],
    ['/ (the node root)', gpu(host('/')), 'spec.volumes[0].hostPath.path', ['the root of the node']],
    ['/var/.. (the root, normalised)', gpu(host('/var/..')), 'spec.volumes[0].hostPath.path', ['the root of the node']],
    ['/dev/nvidia0 beside a harmless hostPath', gpu(host('/var/log', 'logs'), host('/dev/nvidia0')), 'spec.volumes[1].hostPath.path', ['accelerator device /dev/nvidia0']],
    ['/dev/dri', gpu(host('/dev/dri')), 'spec.volumes[0].hostPath.path', ['/dev/dri']],
    ['/dev/kfd', gpu(host('/dev/kfd')), 'spec.volumes[0].hostPath.path', ['/dev/kfd']],
    ['/dev/neuron0', gpu(host('/dev/neuron0')), 'spec.volumes[0].hostPath.path', ['/dev/neuron0']],
    ['/dev on a CPU Pod tolerating the GPU taint', { ...cpu(host('/dev')), tolerations: [gpuToleration()] }, 'spec.volumes[0].hostPath.path', ['can land on GPU pool a100']],
  ])('denies %s', (_n, spec, path, message) => {
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path, message, fix: ['remove the hostPath volume'] });
  });

  it.each<[string, V1PodSpec, V1PodSpec]>([
    ['a Pod without hostPath volumes', { containers: [gpuContainer()], volumes: [{ name: 'c', emptyDir: {} }] }, gpu(host('/dev'))],
    ['a CPU Pod with /dev that cannot land on a GPU pool', cpu(host('/dev')), gpu(host('/dev'))],
  ])('skips %s, and fails its twin', (_n, spec, twin) => {
    expectSkipGuard(rule, analysisOf(spec), analysisOf(twin));
  });

  it('skips when the policy turns it off, and fails the same Pod under the default', () => {
    expectSkipGuard(rule, analysisOf(gpu(host('/dev')), policy({ deviceIsolation: { hostPaths: false } }), config()), analysisOf(gpu(host('/dev'))));
  });

  it('skips a partial template, and fails the same spec when it is whole', () => {
    const a = analysisOf(gpu(host('/dev')));
    expectSkipGuard(rule, partial(a), a);
  });
});
