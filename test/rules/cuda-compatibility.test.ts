import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../src/engine/analyse.js';
import type { EngineConfig, NodeFacts, PodAnalysis } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { cudaCompatibility as rule } from '../../src/rules/cuda-compatibility.js';
import { analysisOf, config, cpuContainer, gpuContainer, policy as basePolicy, pools } from '../support/fixtures.js';
import { expectOne, expectPass, expectSkip, expectSkipGuard, failures, GKE, partial } from './helpers.js';

/** These tables judge findings as the mode decides (cuda.check: enforce); the default, warn, is tested on its own. */
const policy = (spec: Parameters<typeof basePolicy>[0] = {}, name?: string) =>
  basePolicy({ ...spec, cuda: { check: 'enforce', ...(spec as { cuda?: object }).cuda } }, name);

const ID = 'cuda-compatibility';
const ANN = 'gpu-admission.io/cuda';
const CUDA_12_8 = 'nvidia/cuda:12.8.0-runtime-ubuntu22.04';
const TORCH_12_8 = 'pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime';
const L4 = { [GKE]: 'nvidia-l4' };

/** The fixture catalogue with a100 on a CUDA 12.8 driver and l4 on 12.4 (or as given; null: declares none). */
function cudaConfig(a100: string | null = '12.8', l4: string | null = '12.4'): EngineConfig {
  return config(pools().map((p) => {
    const cuda = p.name === 'a100' ? a100 : p.name === 'l4' ? l4 : null;
    return cuda === null ? p : { ...p, cuda };
  }));
}
const live = (nodes: NodeFacts[], cfg: EngineConfig = cudaConfig(null, null)): EngineConfig => ({
  ...cfg, cluster: { nodes: () => nodes, priorityClassExists: () => true, globalDefaultClass: () => undefined },
});
const gfd = (name: string, pool: Record<string, string>, major: string, minor: string): NodeFacts => ({
  name, labels: { ...pool, 'nvidia.com/cuda.runtime-version.major': major, 'nvidia.com/cuda.runtime-version.minor': minor, 'nvidia.com/cuda.driver-version.major': '550' }, allocatable: { 'nvidia.com/gpu': '8' },
});
const gpu = (image: string, extra: Partial<V1Container> = {}): V1Container => gpuContainer({ image, ...extra });
const spec = (c: V1Container, extra: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [c], ...extra });
const annotated = (version: string): Record<string, unknown> => ({ annotations: { [ANN]: version } });
const run = (s: V1PodSpec, pol: NamespacePolicy = policy(), cfg: EngineConfig = cudaConfig(), meta?: Record<string, unknown>): PodAnalysis => analysisOf(s, pol, cfg, meta);

describe(ID, () => {
  it.each<[string, PodAnalysis]>([
    ['CUDA 12.4 code on 12.8 and 12.4 drivers', run(spec(gpu('pytorch/pytorch:2.3.0-cuda12.4-cudnn9-runtime')))],
    ['CUDA 11.8 code on 12.x drivers (backward compatibility)', run(spec(gpu('nvidia/cuda:11.8.0-base-ubuntu22.04')))],
    ['12.8 with one pool too old: the mutation narrows the selection', run(spec(gpu(CUDA_12_8)))],
    ['the annotation over an image tag', run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), cudaConfig(), annotated('12.2'))],
    ['a pool without a declared version next to an old one (the mutation narrows)', run(spec(gpu(CUDA_12_8)), policy(), cudaConfig(null, '12.4'))],
    ['live GFD labels new enough', run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), live([gfd('l4-1', L4, '12', '9')]))],
  ])('allows %s', (_n, a) => {
    expectPass(rule.check(a));
  });

  it('denies an nvidia/cuda image on an older minor driver: NVIDIA_REQUIRE_CUDA fails the container start', () => {
    const f = expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 })))), {
      ruleId: ID, path: 'spec.containers[0].image',
      message: ['needs CUDA 12.8 (from image nvidia/cuda:12.8.0-runtime-ubuntu22.04)', 'pool l4 supports 12.4 (GpuPool.cuda)', 'NVIDIA_REQUIRE_CUDA'],
      fix: ['a100: 12.8'],
    });
    expect(f.advisory).toBeUndefined();
  });

  it('warns (advisory) an older minor driver under minor version compatibility', () => {
    const f = expectOne(failures(rule.check(run(spec(gpu(TORCH_12_8), { nodeSelector: L4 })))), {
      ruleId: ID, path: 'spec.containers[0].image', message: ['needs CUDA 12.8 (from image pytorch/pytorch', 'minor version compatibility', 'PTX'],
    });
    expect(f.advisory).toBe(true);
  });

  it('denies an older minor driver when the policy turns minor version compatibility off', () => {
    const f = expectOne(failures(rule.check(run(spec(gpu(TORCH_12_8), { nodeSelector: L4 }), policy({ cuda: { minorVersionCompatibility: false } })))), {
      ruleId: ID, path: 'spec.containers[0].image', message: ['minorVersionCompatibility: false'],
    });
    expect(f.advisory).toBeUndefined();
  });

  it('denies an older major version, with the numbers and the annotation as source', () => {
    const f = expectOne(failures(rule.check(run(spec(gpu('busybox')), policy(), cudaConfig('12.8', '12.4'), annotated('13.0')))), {
      ruleId: ID, path: 'metadata.annotations[gpu-admission.io/cuda]',
      message: ['needs CUDA 13.0 (from the annotation gpu-admission.io/cuda)', 'pool a100 supports 12.8', 'pool l4 supports 12.4', 'older major version'],
    });
    expect(f.advisory).toBeUndefined();
  });

  it('env NVIDIA_REQUIRE_CUDA states and enforces the requirement', () => {
    const c = gpu(TORCH_12_8, { env: [{ name: 'X', value: '1' }, { name: 'NVIDIA_REQUIRE_CUDA', value: 'cuda>=12.6' }] });
    const f = expectOne(failures(rule.check(run(spec(c), policy(), cudaConfig('12.4', '12.4')))), {
      ruleId: ID, path: 'spec.containers[0].env[1]', message: ['needs CUDA 12.6 (from env NVIDIA_REQUIRE_CUDA="cuda>=12.6" of container "main")'],
    });
    expect(f.advisory).toBeUndefined();
  });

  it('by default (cuda.check: warn) even an older major version is advisory: forward compatibility is not modelled', () => {
    const f = failures(rule.check(run(spec(gpu('busybox')), basePolicy(), cudaConfig('12.8', '12.4'), annotated('13.0'))));
    expect(f.length).toBe(1);
    expect(f[0]?.advisory).toBe(true);
    // ... and the same Pod under cuda.check: enforce is a denial.
    expect(failures(rule.check(run(spec(gpu('busybox')), policy(), cudaConfig('12.8', '12.4'), annotated('13.0'))))[0]?.advisory).not.toBe(true);
  });

  it('NVIDIA_DISABLE_REQUIRE turns the toolkit check off: only minor version compatibility (advisory)', () => {
    const c = gpu(CUDA_12_8, { env: [{ name: 'NVIDIA_DISABLE_REQUIRE', value: 'true' }] });
    expect(failures(rule.check(run(spec(c, { nodeSelector: L4 }))))[0]?.advisory).toBe(true);
  });

  it('cuda.check warn makes the denial advisory', () => {
    expect(failures(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy({ cuda: { check: 'warn' } }))))[0]?.advisory).toBe(true);
  });

  it('an NGC image ships forward compatibility: an older major driver is only warned', () => {
    const f = failures(rule.check(run(spec(gpu('nvcr.io/nvidia/pytorch:24.05-py3')), policy(), cudaConfig('11.8', '11.8'))));
    expect(f).toHaveLength(1);
    expect(f[0]?.advisory).toBe(true);
    expect(f[0]?.message).toContain('from image nvcr.io/nvidia/pytorch:24.05-py3');
  });

  it('warns when some reachable pools are too old and mutations.cudaAffinity is off', () => {
    const f = expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8)), policy({ mutations: { cudaAffinity: false } })))), {
      ruleId: ID, path: 'spec.containers[0].image', message: ['can also reach pool l4 supports 12.4'], fix: ['mutations.cudaAffinity'],
    });
    expect(f.advisory).toBe(true);
  });

  it('reports an annotation that is not a version', () => {
    expectOne(failures(rule.check(run(spec(gpu('busybox')), policy(), cudaConfig(), annotated('latest')))), {
      ruleId: ID, path: 'metadata.annotations[gpu-admission.io/cuda]', message: ['"latest"', 'not a CUDA version'], fix: ['major.minor'],
    });
  });

  it.each<[string, PodAnalysis, PodAnalysis]>([
    ['cuda.check off', run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy({ cuda: { check: 'off' } })), run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }))],
    ['an image that names no CUDA version', run(spec(gpu('vllm/vllm-openai:v0.10.0'), { nodeSelector: L4 })), run(spec(gpu('vllm/vllm-openai:v0.10.0'), { nodeSelector: L4 }), policy(), cudaConfig(), annotated('12.8'))],
    ['a digest-only image', run(spec(gpu(`nvidia/cuda@sha256:${'b'.repeat(64)}`), { nodeSelector: L4 })), run(spec(gpu(`nvidia/cuda:12.8.0-base-ubuntu22.04@sha256:${'b'.repeat(64)}`), { nodeSelector: L4 }))],
    ['pools that declare no CUDA version, offline', run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), cudaConfig(null, null)), run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }))],
    ['live nodes without GFD labels', run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), live([{ name: 'l4-1', labels: L4, allocatable: {} }])), run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), live([gfd('l4-1', L4, '12', '4')]))],
    ['a CPU Pod', run(spec(cpuContainer({ image: CUDA_12_8 }), { nodeSelector: L4 })), run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }))],
  ])('skips %s, and fails its twin without the skip reason', (_n, skipped, twin) => {
    expectSkipGuard(rule, skipped, twin);
  });

  it('skips a partial template, and fails the same spec when whole', () => {
    const a = run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }));
    expectSkipGuard(rule, partial(a), a);
  });

  it('skips a selection that reaches no usable pool (pool-selection reports it)', () => {
    expectSkip(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: { [GKE]: 'nvidia-h100' } }))), 'reaches no usable pool');
  });

  describe('with a cluster view', () => {
    it('judges each live node by its GFD label, naming the node', () => {
      const cfg = live([gfd('l4-1', L4, '12', '4'), gfd('l4-2', L4, '12', '2')]);
      expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), cfg))), {
        ruleId: ID, path: 'spec.containers[0].image',
        message: ['node l4-1 (pool l4) supports 12.4 (GFD label nvidia.com/cuda.runtime-version)', 'node l4-2 (pool l4) supports 12.2'],
      });
    });

    it('reads the deprecated nvidia.com/cuda.runtime.* labels of an older GFD', () => {
      const old: NodeFacts = { name: 'l4-old', labels: { ...L4, 'nvidia.com/cuda.runtime.major': '11', 'nvidia.com/cuda.runtime.minor': '8' }, allocatable: {} };
      expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), live([old])))), {
        ruleId: ID, path: 'spec.containers[0].image', message: ['node l4-old (pool l4) supports 11.8 (GFD label nvidia.com/cuda.runtime)', 'older major version'],
      });
    });

    it('a live node without labels falls back to its pool\'s declared version', () => {
      const cfg = live([{ name: 'l4-1', labels: L4, allocatable: {} }], cudaConfig('12.8', '12.4'));
      expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), cfg))), {
        ruleId: ID, path: 'spec.containers[0].image', message: ['node l4-1 (pool l4) supports 12.4 (GpuPool.cuda)'],
      });
    });

    it('passes when one reachable node is new enough (the mutation narrows)', () => {
      expectPass(rule.check(run(spec(gpu(CUDA_12_8), { nodeSelector: L4 }), policy(), live([gfd('l4-1', L4, '12', '4'), gfd('l4-2', L4, '12', '8')]))));
    });
  });

  it('reads the annotation of a template, then of the workload object', () => {
    const template = (meta: Record<string, unknown> | undefined, objectMeta: Record<string, unknown> | undefined): PodAnalysis => analyse({
      target: { spec: spec(gpu('busybox'), { nodeSelector: L4 }), pointer: '/spec/template/spec', path: 'spec.template.spec', isTemplate: true, metadata: meta },
      namespace: 'team', objectMeta, objectKind: 'apps/Deployment', policy: policy(), config: cudaConfig(),
    });
    expectOne(failures(rule.check(template(annotated('13.0'), undefined))), { ruleId: ID, path: 'spec.template.metadata.annotations[gpu-admission.io/cuda]' });
    expectOne(failures(rule.check(template({}, { name: 'd', ...annotated('13.0') }))), { ruleId: ID, path: 'metadata.annotations[gpu-admission.io/cuda]' });
  });
});

describe(`${ID}: pools without live nodes`, () => {
  it('a usable pool with no live node counts by its declared version (an autoscaler may add one)', () => {
    const cfg = live([gfd('l4-1', L4, '12', '4')], cudaConfig('12.8', null));
    // The a100 pool has no node yet but declares 12.8: not every reachable driver is too old.
    expectPass(rule.check(run(spec(gpu(CUDA_12_8)), policy(), cfg)));
    const old = live([gfd('l4-1', L4, '12', '4')], cudaConfig('12.2', null));
    expectOne(failures(rule.check(run(spec(gpu(CUDA_12_8)), policy(), old))), {
      ruleId: ID, path: 'spec.containers[0].image', message: ['node l4-1 (pool l4) supports 12.4', 'pool a100 supports 12.2 (GpuPool.cuda)'],
    });
  });
});
