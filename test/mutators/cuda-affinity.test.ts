import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mutatePod } from '../../src/engine/evaluate.js';
import type { EngineConfig, NodeFacts } from '../../src/engine/types.js';
import { cudaAffinityMutator as m, cudaTerms } from '../../src/mutators/cuda-affinity.js';
import type { GpuPool } from '../../src/policy/types.js';
import { cudaCompatibility } from '../../src/rules/cuda-compatibility.js';
import { selectionMatchesNode, alternatives, selectionOf } from '../../src/scheduling/selectors.js';
import { analysisOf, config, gpuContainer, policy as basePolicy, pools } from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

/** These tables judge findings as the mode decides (cuda.check: enforce); the default, warn, is tested on its own. */
const policy = (spec: Parameters<typeof basePolicy>[0] = {}, name?: string) =>
  basePolicy({ ...spec, cuda: { check: 'enforce', ...(spec as { cuda?: object }).cuda } }, name);

const GKE = 'cloud.google.com/gke-accelerator';
const L4 = { [GKE]: 'nvidia-l4' };
const A100 = { [GKE]: 'nvidia-a100-80gb' };
const CUDA_12_8 = 'nvidia/cuda:12.8.0-runtime-ubuntu22.04';
const MAJOR = 'nvidia.com/cuda.runtime-version.major';
const MINOR = 'nvidia.com/cuda.runtime-version.minor';
const TERMS = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';

function cudaPools(a100: string | null = '12.8', l4: string | null = '12.4'): GpuPool[] {
  return pools().map((p) => {
    const cuda = p.name === 'a100' ? a100 : p.name === 'l4' ? l4 : null;
    return cuda === null ? p : { ...p, cuda };
  });
}
const live = (nodes: NodeFacts[], p: GpuPool[] = cudaPools(null, null)): EngineConfig => ({
  ...config(p), cluster: { nodes: () => nodes, priorityClassExists: () => true, globalDefaultClass: () => undefined },
});
const gfd = (name: string, pool: Record<string, string>, major: string, minor: string): NodeFacts => ({
  name, labels: { ...pool, [MAJOR]: major, [MINOR]: minor }, allocatable: { 'nvidia.com/gpu': '8' },
});
const gpu = (image: string, extra: Partial<V1Container> = {}): V1Container => gpuContainer({ image, ...extra });
const spec = (image = CUDA_12_8, extra: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [gpu(image)], ...extra });
const terms = (s: V1PodSpec) => s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
const reaches = (s: V1PodSpec, n: NodeFacts): boolean => selectionMatchesNode(alternatives(selectionOf(s), s), n);

describe('cuda-affinity', () => {
  it('offline: leaves out the pool whose declared driver is too old (NotIn on its label)', () => {
    const cfg = config(cudaPools());
    const r = runMutator(m, spec(), policy(), cfg);
    expect(terms(r.spec)).toEqual([{ matchExpressions: [{ key: GKE, operator: 'NotIn', values: ['nvidia-l4'] }] }]);
    expect(r.notes).toEqual([{ mutator: 'cuda-affinity', path: TERMS, description: expect.stringContaining('leave out pool l4 (CUDA 12.4)') }]);
    expectIdempotent(m, r.spec, policy(), cfg);
    expect(cudaCompatibility.check(analysisOf(r.spec, policy(), cfg))).toEqual({ status: 'pass' });
  });

  it('offline: adds the NotIn to every term the user wrote (an empty term stays as it is)', () => {
    const user: V1PodSpec['affinity'] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] },
      { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] },
      {},
    ] } } };
    const cfg = config(cudaPools());
    const r = runMutator(m, spec(CUDA_12_8, { affinity: user }), policy(), cfg);
    const t = terms(r.spec) ?? [];
    expect(t).toHaveLength(3);
    expect(t[0]?.matchExpressions?.[1]).toEqual({ key: GKE, operator: 'NotIn', values: ['nvidia-l4'] });
    expect(t[1]?.matchExpressions?.[1]).toEqual({ key: GKE, operator: 'NotIn', values: ['nvidia-l4'] });
    expect(t[2]).toEqual({});
    expectIdempotent(m, r.spec, policy(), cfg);
  });

  it('live: requires the GFD runtime-version labels when every reachable node carries them', () => {
    const nodes = [gfd('a100-1', A100, '12', '9'), gfd('l4-1', L4, '12', '4'), gfd('a100-2', A100, '13', '0')];
    const cfg = live(nodes);
    const r = runMutator(m, spec(), policy(), cfg);
    expect(terms(r.spec)).toEqual([
      { matchExpressions: [{ key: MAJOR, operator: 'Gt', values: ['12'] }] },
      { matchExpressions: [{ key: MAJOR, operator: 'In', values: ['12'] }, { key: MINOR, operator: 'Gt', values: ['7'] }] },
    ]);
    expect(nodes.map((n) => reaches(r.spec, n))).toEqual([true, false, true]);
    expect(r.notes[0]?.description).toContain('leaves out node l4-1 (pool l4)');
    expectIdempotent(m, r.spec, policy(), cfg);
    expect(cudaCompatibility.check(analysisOf(r.spec, policy(), cfg))).toEqual({ status: 'pass' });
  });

  it('live: ANDs with the user\'s terms as a cross product', () => {
    const user: V1PodSpec['affinity'] = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-l4'] }] },
      { matchExpressions: [{ key: GKE, operator: 'In', values: ['nvidia-a100-80gb'] }] },
    ] } } };
    const nodes = [gfd('a100-1', A100, '12', '8'), gfd('l4-1', L4, '12', '4'), gfd('l4-2', L4, '12', '8')];
    const cfg = live(nodes);
    const r = runMutator(m, spec(CUDA_12_8, { affinity: user }), policy(), cfg);
    expect(terms(r.spec)).toHaveLength(4);
    expect(nodes.map((n) => reaches(r.spec, n))).toEqual([true, false, true]);
    expectIdempotent(m, r.spec, policy(), cfg);
  });

  it('a version X.0 needs one term', () => {
    expect(cudaTerms('current', { major: 13, minor: 0 })).toEqual([[{ key: MAJOR, operator: 'Gt', values: ['12'] }]]);
  });

  it('live nodes of which one lacks the labels: falls back to the pools\' declared versions', () => {
    const nodes = [gfd('a100-1', A100, '12', '8'), { name: 'l4-1', labels: L4, allocatable: {} }];
    const r = runMutator(m, spec(), policy(), live(nodes, cudaPools('12.8', '12.4')));
    expect(terms(r.spec)).toEqual([{ matchExpressions: [{ key: GKE, operator: 'NotIn', values: ['nvidia-l4'] }] }]);
  });

  it.each<[string, V1PodSpec, ReturnType<typeof policy>, EngineConfig]>([
    ['every reachable driver is new enough', spec('nvidia/cuda:12.2.0-base-ubuntu22.04'), policy(), config(cudaPools())],
    ['every reachable driver is too old (the rule reports it, narrowing would leave nothing)', spec(CUDA_12_8, { nodeSelector: L4 }), policy(), config(cudaPools())],
    ['no CUDA version known for the workload', spec('vllm/vllm-openai:v0.10.0'), policy(), config(cudaPools())],
    ['pools that declare nothing, offline', spec(), policy(), config(cudaPools(null, null))],
    ['only an undeclared pool next to an old one (nothing known to be new enough)', spec(), policy(), config(cudaPools(null, '12.4'))],
    ['cuda.check off', spec(), policy({ cuda: { check: 'off' } }), config(cudaPools())],
    ['spec.nodeName', spec(CUDA_12_8, { nodeName: 'l4-1' }), policy(), config(cudaPools())],
    ['a gated Pod', spec(CUDA_12_8, { schedulingGates: [{ name: 'kueue.x-k8s.io/admission' }] }), policy(), config(cudaPools())],
    ['mutations.cudaAffinity off', spec(), policy({ mutations: { cudaAffinity: false } }), config(cudaPools())],
  ])('leaves alone: %s', (_n, s, pol, cfg) => {
    const r = runMutator(m, s, pol, cfg);
    expect(r.changed).toBe(false);
    expect(r.notes).toEqual([]);
  });

  it('warns instead of narrowing when the old pool\'s labels do not tell it apart', () => {
    const p = cudaPools('12.8', '12.4').map((x) => (x.name === 'a100' ? { ...x, nodeLabels: { ...L4, 'example.com/tier': 'new' } } : x));
    const r = runMutator(m, spec(), policy(), config(p));
    expect(r.changed).toBe(false);
    expect(r.warnings).toEqual([expect.objectContaining({ ruleId: 'cuda-affinity', advisory: true, message: expect.stringContaining('do not tell it apart') })]);
  });

  it('runs after tolerations: a pinned default pool that is too old is left to the rule (no contradicting selection)', () => {
    const cfg = config(cudaPools());
    const pol = policy({ accelerators: { defaultPool: 'l4' } });
    const out = mutatePod(analysisOf(spec(), pol, cfg));
    expect(out.spec.nodeSelector).toEqual(L4);
    expect(out.spec.affinity).toBeUndefined();
    expect(cudaCompatibility.check(analysisOf(out.spec, pol, cfg)).status).toBe('fail');
  });
});

describe('cuda-affinity: pools without live nodes', () => {
  it('falls back to pool labels when a usable pool has no live node yet', () => {
    const cfg = live([gfd('l4-1', L4, '12', '4')], cudaPools('12.8', null));
    const r = runMutator(m, spec(), policy(), cfg);
    expect(terms(r.spec)).toEqual([{ matchExpressions: [{ key: GKE, operator: 'NotIn', values: ['nvidia-l4'] }] }]);
    expectIdempotent(m, r.spec, policy(), cfg);
  });

  it('does not narrow to a pool without nodes when the live nodes still run it (minor version compatibility)', () => {
    const cfg = live([gfd('l4-1', L4, '12', '4')], cudaPools('12.8', null));
    const r = runMutator(m, spec('pytorch/pytorch:2.7.0-cuda12.8-cudnn9-runtime'), policy(), cfg);
    expect(r.changed).toBe(false);
    expect(r.warnings[0]?.message).toContain('only pools without a live node');
  });
});

describe('cuda-affinity and cuda-compatibility through the engine', () => {
  it('mutate narrows, the patch applies, a second pass is empty, validate allows; an L4-only Pod is denied with the numbers', async () => {
    const { applyLikeApiServer } = await import('../../src/admission/patch.js');
    const { createRequest, engine, pod } = await import('../support/fixtures.js');
    const e = engine([policy()], cudaPools());
    const object = pod(spec(CUDA_12_8, { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }));
    const m1 = e.mutate(createRequest(object));
    expect(m1.patch.some((op) => op.path.startsWith('/spec/affinity'))).toBe(true);
    const patched = applyLikeApiServer(object, m1.patch);
    expect(e.mutate(createRequest(structuredClone(patched))).patch).toEqual([]);
    expect(e.validate(createRequest(patched)).denials.filter((f) => f.ruleId === 'cuda-compatibility')).toEqual([]);
    const onL4 = pod(spec(CUDA_12_8, { nodeSelector: L4 }));
    const denied = e.validate(createRequest(onL4)).denials.filter((f) => f.ruleId === 'cuda-compatibility');
    expect(denied).toHaveLength(1);
    expect(denied[0]?.message).toContain('needs CUDA 12.8 (from image nvidia/cuda:12.8.0-runtime-ubuntu22.04), but every driver the selection can reach is older: pool l4 supports 12.4');
  });
});
