import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { acceleratorMatcher, engineFor } from '../../src/engine/build.js';
import { parsePolicies } from '../../src/policy/parse.js';
import { AcceleratorMatcher, analyseAccelerators, DEFAULT_ACCELERATOR_RESOURCES } from '../../src/workload/accelerators.js';
import { ACCELERATOR_VENDORS, FRACTION_ANNOTATIONS, looksLikeAccelerator, NOT_ACCELERATORS } from '../../src/workload/vendors.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { POLICIES_DIR } from '../support/app.js';
import { cpuContainer, createRequest, gpuContainer, pod, policy, policySet } from '../support/fixtures.js';

const defaults = (): AcceleratorMatcher => new AcceleratorMatcher(DEFAULT_ACCELERATOR_RESOURCES);

describe('accelerator vendors', () => {
  it('every entry says where its names come from', () => {
    for (const v of [...ACCELERATOR_VENDORS, ...NOT_ACCELERATORS]) {
      expect(v.names.length, v.vendor).toBeGreaterThan(0);
      expect(v.source.length, v.vendor).toBeGreaterThan(10);
    }
    for (const f of FRACTION_ANNOTATIONS) expect(f.source).toContain('KAI-Scheduler');
  });

  it.each([
    ['NVIDIA', 'nvidia.com/gpu'], ['NVIDIA MIG', 'nvidia.com/mig-1g.5gb'], ['NVIDIA MIG with media extensions', 'nvidia.com/mig-1g.10gb.me'],
    ['NVIDIA time-slicing renamed', 'nvidia.com/gpu.shared'], ['AMD', 'amd.com/gpu'], ['AMD CPX partitions (mixed naming)', 'amd.com/cpx_nps4'],
    ['AMD SPX', 'amd.com/spx_nps1'], ['Intel i915', 'gpu.intel.com/i915'], ['Intel Xe', 'gpu.intel.com/xe'], ['Google TPU', 'google.com/tpu'],
    ['AWS Neuron', 'aws.amazon.com/neuron'], ['AWS NeuronCore', 'aws.amazon.com/neuroncore'], ['AWS Neuron device', 'aws.amazon.com/neurondevice'],
    ['Gaudi', 'habana.ai/gaudi'], ['Ascend 910', 'huawei.com/Ascend910'], ['Ascend 910B3 (HAMi)', 'huawei.com/Ascend910B3'], ['Ascend 310P', 'huawei.com/Ascend310P'],
    ['Cambricon', 'cambricon.com/mlu'], ['Cambricon MLU370', 'cambricon.com/mlu370'], ['Cambricon (HAMi)', 'cambricon.com/vmlu'],
    ['Hygon DCU', 'hygon.com/dcu'], ['Hygon (HAMi)', 'hygon.com/dcunum'], ['MetaX', 'metax-tech.com/gpu'], ['MetaX (HAMi)', 'metax-tech.com/sgpu'],
    ['Iluvatar', 'iluvatar.ai/gpu'], ['Iluvatar (HAMi)', 'iluvatar.ai/vgpu'], ['Enflame', 'enflame.com/gcu'], ['Enflame (HAMi)', 'enflame.com/vgcu'],
    ['Moore Threads (HAMi)', 'mthreads.com/vgpu'], ['Kunlunxin', 'kunlunxin.com/xpu'],
  ])('counts %s (%s) as a listed accelerator', (_n, resource) => {
    expect(defaults().classify(resource)).toBe('listed');
  });

  it.each([
    ['Intel monitoring', 'gpu.intel.com/i915_monitoring'], ['Intel Xe monitoring', 'gpu.intel.com/xe_monitoring'],
    ['HAMi GPU memory', 'nvidia.com/gpumem'], ['HAMi GPU cores', 'nvidia.com/gpucores'], ['HAMi memory percentage', 'nvidia.com/gpumem-percentage'],
    ['HAMi Ascend memory', 'huawei.com/Ascend910B3-memory'], ['HAMi Ascend cores', 'huawei.com/Ascend910B3-core'],
    ['HAMi Cambricon memory', 'cambricon.com/mlu.smlu.vmemory'], ['HAMi Cambricon cores', 'cambricon.com/mlu370.smlu.vcore'],
    ['HAMi Hygon memory', 'hygon.com/dcumem'], ['HAMi MetaX cores', 'metax-tech.com/vcore'], ['HAMi Iluvatar memory', 'iluvatar.ai/vcuda-memory'],
    ['HAMi Enflame memory', 'enflame.com/gcu-memory'], ['Volcano vGPU memory', 'volcano.sh/vgpu-memory'],
    ['RDMA', 'rdma/hca'], ['an RDMA shared device', 'nvidia.com/rdma_shared_device_a'], ['hugepages', 'hugepages-2Mi'], ['cpu', 'cpu'],
    ['a Kubernetes name', 'deviceclass.resource.kubernetes.io/gpu.nvidia.com'],
  ])('does not count %s (%s)', (_n, resource) => {
    expect(defaults().matches(resource)).toBe(false);
  });

  it.each([
    ['an unknown GPU vendor', 'gpu.example.com/gpu'], ['an NPU', 'example.com/npu'], ['a vGPU', 'acme.io/vgpu'], ['a numbered TPU', 'acme.io/tpu-v5'],
    ['an accelerator', 'acme.io/accelerator'], ['an MLU', 'acme.io/mlu'], ['a DCU', 'acme.io/dcu'],
  ])('assumes %s (%s) is an accelerator, by its name', (_n, resource) => {
    expect(looksLikeAccelerator(resource)).toBe(true);
    expect(defaults().classify(resource)).toBe('assumed');
  });

  it.each([
    ['a share of an unknown GPU', 'acme.io/gpu-memory'], ['cores of an unknown NPU', 'acme.io/npu-cores'], ['FPGA', 'xilinx.com/fpga'],
    ['a name that only contains the letters', 'acme.io/gpumem'], ['a domain that says gpu', 'gpu.example.com/device'],
  ])('does not guess %s (%s)', (_n, resource) => {
    expect(looksLikeAccelerator(resource)).toBe(false);
  });
});

describe('AcceleratorConfig: one configuration for serve and audit', () => {
  const files = (config: string): ReturnType<typeof parsePolicies> => parsePolicies([
    { path: 'accelerators.yaml', text: `apiVersion: gpu-admission.io/v1alpha1\nkind: AcceleratorConfig\nmetadata: {name: cluster}\nspec:\n${config}` },
    { path: 'default.yaml', text: 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: d}\nspec: {default: true, accelerators: {allowed: false}}\n' },
  ]);

  it('adds resources, ignores others, turns the name heuristic off', () => {
    const set = files('  resources: [xilinx.com/fpga-*]\n  ignore: [aws.amazon.com/neuroncore]\n  guessByName: false\n');
    const m = acceleratorMatcher(set);
    expect(m.classify('xilinx.com/fpga-u250')).toBe('listed');
    expect(m.matches('aws.amazon.com/neuroncore')).toBe(false);
    expect(m.matches('example.com/npu')).toBe(false);
    expect(m.matches('nvidia.com/gpu')).toBe(true);
    // --accelerator-resources adds on top.
    expect(acceleratorMatcher(set, ['aws.amazon.com/neuroncore']).matches('aws.amazon.com/neuroncore')).toBe(true);
  });

  it('is what engineFor judges with: an FPGA limit is denied where no accelerator is allowed', () => {
    const set = files('  resources: [xilinx.com/fpga-*]\n');
    const spec = { containers: [cpuContainer({ resources: { limits: { 'xilinx.com/fpga-u250': '1' } } })] };
    expect(engineFor(set).validate(createRequest(pod(spec), 'any')).denials.map((f) => f.ruleId)).toEqual(['accelerator-allowed']);
    expect(engineFor({ ...set, accelerators: undefined }).validate(createRequest(pod(spec), 'any')).denials).toEqual([]);
  });

  it('is optional, and there is at most one', () => {
    expect(files('  resources: []\n').accelerators?.guessByName).toBe(true);
    const doc = 'apiVersion: gpu-admission.io/v1alpha1\nkind: AcceleratorConfig\nmetadata: {name: a}\nspec: {}\n';
    expect(() => parsePolicies([{ path: 'a.yaml', text: `${doc}---\n${doc.replace('name: a', 'name: b')}` }])).toThrow(/more than one AcceleratorConfig/);
    expect(() => parsePolicies([{ path: 'a.yaml', text: doc.replace('spec: {}', 'spec: {extra: 1}') }])).toThrow(/AcceleratorConfig "a"/);
  });
});

describe('an unknown vendor resource is an assumed accelerator, and the verdict says so', () => {
  const npu = (): V1PodSpec => ({ containers: [cpuContainer({ resources: { limits: { 'acme.io/npu': '1' } } })] });

  it('denies it where accelerators are not allowed, naming the assumption', () => {
    const set = policySet([policy({ accelerators: { allowed: false } })]);
    const v = engineFor(set).validate(createRequest(pod(npu())));
    expect(v.denials.map((f) => f.ruleId)).toEqual(['accelerator-allowed']);
    expect(v.assumptions).toEqual(['spec: acme.io/npu counted as an accelerator (not a known accelerator resource, but its name says so)']);
  });

  it('records no assumption for a known resource, and none when the heuristic is off', () => {
    const set = policySet([policy({ accelerators: { allowed: false } })]);
    expect(engineFor(set).validate(createRequest(pod({ containers: [gpuContainer()] }))).assumptions).toEqual([]);
    const off = { ...set, accelerators: { name: 'c', resources: [], ignore: [], guessByName: false } };
    const v = engineFor(off).validate(createRequest(pod(npu())));
    expect(v.denials).toEqual([]);
    expect(v.assumptions).toEqual([]);
  });
});

describe('GPU-share annotations (KAI-Scheduler)', () => {
  it.each(FRACTION_ANNOTATIONS.map((f) => [f.key, f.key === 'gpu-fraction' ? '0.5' : '2000'] as const))('%s makes the Pod an accelerator Pod of nvidia.com/gpu', (key, value) => {
    const acc = analyseAccelerators({ containers: [cpuContainer()] }, defaults(), { annotations: { [key]: value }, metadataPath: 'metadata' });
    expect(acc.isAcceleratorPod).toBe(true);
    expect(acc.resources).toEqual(['nvidia.com/gpu']);
    expect(acc.fractions).toEqual([{ key, value, resource: 'nvidia.com/gpu', path: `metadata.annotations[${key}]` }]);
    expect(acc.acceleratorContainers.map((c) => c.path)).toEqual(['containers[0]']);
  });

  it('other annotations do not', () => {
    const acc = analyseAccelerators({ containers: [cpuContainer()] }, defaults(), { annotations: { 'gpu-type': 'a100' } });
    expect(acc.isAcceleratorPod).toBe(false);
  });
});

describe('regressions from the ecosystem samples, with the shipped policies', () => {
  // KAI-Scheduler's GPU-sharing sample: no GPU limit, a gpu-fraction annotation. It was allowed
  // where the namespace allows no GPU.
  const kaiSample = (namespace: string): Record<string, unknown> => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'gpu-sharing', namespace, labels: { 'kai.scheduler/queue': 'test' }, annotations: { 'gpu-fraction': '0.5' } },
    spec: { schedulerName: 'kai-scheduler', tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      containers: [{ name: 'sleep', image: 'busybox', args: ['sh', '-c', 'sleep infinity'] }] },
  });

  it('denies the KAI gpu-fraction sample where the namespace allows no GPU, allows it where GPUs are allowed', async () => {
    const e = engineFor(await loadPolicyDir(POLICIES_DIR));
    const denied = e.validate(createRequest(kaiSample('default'), 'default'));
    expect(denied.denials.map((f) => [f.ruleId, f.path])).toEqual([['accelerator-allowed', 'metadata.annotations[gpu-fraction]']]);
    expect(e.validate(createRequest(kaiSample('research'), 'research')).denials).toEqual([]);
  });

  it('denies an Ascend NPU, a Cambricon MLU and a HAMi vGPU where the namespace allows no GPU, and never counts HAMi gpumem as GPUs', async () => {
    const e = engineFor(await loadPolicyDir(POLICIES_DIR));
    for (const resource of ['huawei.com/Ascend910', 'cambricon.com/mlu', 'hygon.com/dcunum', 'amd.com/cpx_nps4']) {
      const spec = { containers: [cpuContainer({ resources: { limits: { [resource]: '1' } } })] };
      expect(e.validate(createRequest(pod(spec, { namespace: 'default' }), 'default')).denials.map((f) => f.ruleId), resource).toEqual(['accelerator-allowed']);
    }
    const hami = { containers: [gpuContainer({ resources: { limits: { 'nvidia.com/gpu': '1', 'nvidia.com/gpumem': '3000', 'nvidia.com/gpucores': '30', memory: '8Gi' } } })] };
    const v = e.validate(createRequest(pod(hami, { namespace: 'research' }), 'research'));
    expect(v.denials.filter((f) => f.ruleId.startsWith('accelerator-'))).toEqual([]);
  });
});
