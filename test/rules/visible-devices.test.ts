import type { V1Container, V1EnvVar, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { visibleDevices as rule } from '../../src/rules/visible-devices.js';
import { analysisOf, config, cpuContainer, gpuContainer, policy } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkipGuard, failures } from './helpers.js';

const ID = 'visible-devices';
const env = (...e: V1EnvVar[]): Partial<V1Container> => ({ env: e });
const gpu = (o: Partial<V1Container> = {}): V1PodSpec => ({ containers: [gpuContainer(o)] });
const cpu = (o: Partial<V1Container> = {}): V1PodSpec => ({ containers: [cpuContainer(o)] });
const NVD = 'NVIDIA_VISIBLE_DEVICES';

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['a GPU Pod without the variable', gpu()],
    [`${NVD}=void`, gpu(env({ name: NVD, value: 'void' }))],
    [`${NVD}=none`, cpu(env({ name: NVD, value: 'none' }))],
    [`${NVD} empty`, cpu(env({ name: NVD, value: '' }))],
    [`${NVD} without a value`, cpu(env({ name: NVD }))],
    ['the filters that grant nothing (CUDA_, HIP_, ROCR_VISIBLE_DEVICES, NEURON_RT_VISIBLE_CORES)', gpu(env(
      { name: 'CUDA_VISIBLE_DEVICES', value: '0,1' }, { name: 'HIP_VISIBLE_DEVICES', value: '0' },
      { name: 'ROCR_VISIBLE_DEVICES', value: '0' }, { name: 'NEURON_RT_VISIBLE_CORES', value: '0-3' }))],
    ['NVIDIA_DRIVER_CAPABILITIES', gpu(env({ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'all' }))],
    ['an envFrom whose prefix cannot form a device variable', gpu({ envFrom: [{ prefix: 'APP_', configMapRef: { name: 'cfg' } }] })],
    ['an envFrom when env sets every device variable', gpu({
      envFrom: [{ configMapRef: { name: 'cfg' } }],
      env: ['NVIDIA_VISIBLE_DEVICES', 'AMD_VISIBLE_DEVICES', 'HABANA_VISIBLE_DEVICES', 'AWS_NEURON_VISIBLE_DEVICES'].map((name) => ({ name, value: name.startsWith('NVIDIA') ? 'void' : '' })),
    })],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, string, string[]]>([
    [`${NVD}=all on a CPU Pod`, cpu(env({ name: NVD, value: 'all' })), 'spec.containers[0].env[0]', [`${NVD}="all"`, 'every device of the node']],
    // The device plugin's own value comes first in the container's env: the Pod's value wins.
    [`${NVD}=all on a Pod that requests one GPU`, gpu(env({ name: 'A', value: 'b' }, { name: NVD, value: 'all' })), 'spec.containers[0].env[1]', [`${NVD}="all"`]],
    [`${NVD} by index`, cpu(env({ name: NVD, value: '0,1' })), 'spec.containers[0].env[0]', ['"0,1"', 'the devices it names']],
    [`${NVD} by UUID`, cpu(env({ name: NVD, value: 'GPU-fef8089b' })), 'spec.containers[0].env[0]', ['GPU-fef8089b']],
    [`${NVD}=VOID (the toolkit compares exactly)`, cpu(env({ name: NVD, value: 'VOID' })), 'spec.containers[0].env[0]', ['"VOID"']],
    [`${NVD} from a ConfigMap key`, cpu(env({ name: NVD, valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } })), 'spec.containers[0].env[0]', ['valueFrom', 'cannot be checked']],
    ['AMD_VISIBLE_DEVICES=all', cpu(env({ name: 'AMD_VISIBLE_DEVICES', value: 'all' })), 'spec.containers[0].env[0]', ['AMD container runtime']],
    ['HABANA_VISIBLE_DEVICES=all', cpu(env({ name: 'HABANA_VISIBLE_DEVICES', value: 'all' })), 'spec.containers[0].env[0]', ['Habana']],
    ['AWS_NEURON_VISIBLE_DEVICES=ALL', cpu(env({ name: 'AWS_NEURON_VISIBLE_DEVICES', value: 'ALL' })), 'spec.containers[0].env[0]', ['Neuron', 'every device']],
  ])('denies %s', (_n, spec, path, message) => {
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path, message, fix: ['remove it', 'resources.limits'] });
  });

  it('denies it in an init container, at its own path', () => {
    const spec: V1PodSpec = { initContainers: [cpuContainer({ name: 'init', env: [{ name: NVD, value: 'all' }] })], containers: [cpuContainer()] };
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path: 'spec.initContainers[0].env[0]', message: ['container "init"'] });
  });

  it('denies it in a namespace that allows no accelerators', () => {
    expectOne(failures(rule.check(analysisOf(cpu(env({ name: NVD, value: 'all' })), policy({ accelerators: { allowed: false } })))), { ruleId: ID, path: 'spec.containers[0].env[0]' });
  });

  it.each<[string, V1PodSpec['containers'][number]['envFrom']]>([
    ['a ConfigMap', [{ configMapRef: { name: 'cfg' } }]],
    ['a Secret with a prefix that can form the name', [{ prefix: 'NVIDIA_', secretRef: { name: 's' } }]],
  ])('warns (advisory) about an envFrom of %s in an accelerator namespace', (_n, envFrom) => {
    const f = expectOne(failures(rule.check(analysisOf(gpu({ envFrom })))), { ruleId: ID, path: 'spec.containers[0].envFrom', message: ['could not be checked', NVD] });
    expect(f.advisory).toBe(true);
  });

  it('only warns about KAI-Scheduler\'s GPU-sharing ConfigMap on a Pod that requests a fraction, and denies the same env without the fraction', () => {
    const spec = gpu({ env: [{ name: NVD, valueFrom: { configMapKeyRef: { name: 'p-shared-gpu-0', key: 'VISIBLE_DEVICES' } } }], envFrom: [{ configMapRef: { name: 'p-shared-gpu-0-evar' } }] });
    const kai = analysisOf(spec, policy(), config(), { annotations: { 'gpu-fraction': '0.5' } });
    const f = expectOne(failures(rule.check(kai)), { ruleId: ID, path: 'spec.containers[0].env[0]', message: ['KAI-Scheduler', 'p-shared-gpu-0'] });
    expect(f.advisory).toBe(true);
    // Without the fraction: denied, and KAI's envFrom is one more source that could not be checked.
    const plain = failures(rule.check(analysisOf(spec)));
    expect(plain.map((x) => [x.path, x.advisory ?? false])).toEqual([['spec.containers[0].env[0]', false], ['spec.containers[0].envFrom', true]]);
    expect(plain[0]?.message).toContain('valueFrom');
  });

  it('does not warn about envFrom in a namespace that allows no accelerators', () => {
    expectPass(rule.check(analysisOf(cpu({ envFrom: [{ configMapRef: { name: 'cfg' } }] }), policy({ accelerators: { allowed: false } }))));
  });

  it('skips when the policy turns it off, and fails the same Pod under the default', () => {
    const spec = cpu(env({ name: NVD, value: 'all' }));
    expectSkipGuard(rule, analysisOf(spec, policy({ deviceIsolation: { visibleDevices: false } }), config()), analysisOf(spec));
  });
});
