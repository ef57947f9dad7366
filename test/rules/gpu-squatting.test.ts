import type { V1PodSpec, V1Toleration } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { gpuSquatting as rule } from '../../src/rules/gpu-squatting.js';
import { analysisOf, config, cpuContainer, defaultTolerations, gpuContainer, gpuToleration, podSpec, policy } from '../support/fixtures.js';
import { AFFINITY, expectOne, expectPass, expectSkip, expectSkipGuard, expr, failures, GKE, ownedBy, partial, required } from './helpers.js';

const ID = 'gpu-squatting';
const COUNT = 'karpenter.k8s.aws/instance-gpu-count';
const LIMIT_FIX = 'add resources.limits["nvidia.com/gpu"]';
const cpu = (o: Partial<V1PodSpec> = {}): V1PodSpec => ({ containers: [cpuContainer()], ...o });
const withDefaults = (...t: V1Toleration[]): V1Toleration[] => [...(defaultTolerations() ?? []), ...t];

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['a CPU Pod with the default tolerations', cpu({ tolerations: withDefaults() })],
    ['a CPU Pod tolerating the GPU key with the wrong value', cpu({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] })],
    ['a CPU Pod tolerating the GPU key for NoExecute only', cpu({ tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }] })],
    ['a CPU Pod tolerating everything, but only for NoExecute', cpu({ tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] })],
    ['a CPU Pod selecting gpu.present=false', cpu({ nodeSelector: { 'nvidia.com/gpu.present': 'false' } })],
    ['a CPU Pod excluding GPU nodes', cpu({ affinity: required([expr(GKE, 'DoesNotExist')]) })],
    ['a CPU Pod with gpu-count Gt -1 (admits CPU nodes)', cpu({ affinity: required([expr(COUNT, 'Gt', ['-1'])]) })],
    ['a CPU Pod where one ORed term allows CPU nodes', cpu({ affinity: required([expr(GKE, 'Exists')], [expr('kubernetes.io/os', 'In', ['linux'])]) })],
    ['a CPU Pod selecting an unrelated label', cpu({ nodeSelector: { disktype: 'ssd' } })],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, Record<string, unknown> | undefined, V1PodSpec, Record<string, unknown> | undefined]>([
    ['a GPU Pod tolerating and selecting the GPU pool', podSpec({ tolerations: [gpuToleration()], nodeSelector: { [GKE]: 'nvidia-l4' } }), undefined,
      cpu({ tolerations: [gpuToleration()], nodeSelector: { [GKE]: 'nvidia-l4' } }), undefined],
    ['a GPU Pod tolerating everything', podSpec({ tolerations: [{ operator: 'Exists' }] }), undefined, cpu({ tolerations: [{ operator: 'Exists' }] }), undefined],
    ['a Pod whose only accelerator is in an init container', { initContainers: [gpuContainer({ name: 'warmup' })], containers: [cpuContainer()], tolerations: [gpuToleration()] }, undefined,
      { initContainers: [cpuContainer({ name: 'warmup' })], containers: [cpuContainer()], tolerations: [gpuToleration()] }, undefined],
  ])('skips %s, and fails its twin without the skip reason', (_n, spec, meta, twin, twinMeta) => {
    expectSkipGuard(rule, analysisOf(spec, policy(), config(), meta), analysisOf(twin, policy(), config(), twinMeta));
  });

  describe('node agents: only the DaemonSets the policy names', () => {
    const agents = policy({ nodeAgents: [{ name: 'owner' }] });
    it.each<[string, V1PodSpec]>([
      ['tolerating everything', cpu({ tolerations: [{ operator: 'Exists' }] })],
      ['pinned to GPU nodes', cpu({ nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [gpuToleration()] })],
    ])('skips a named agent\'s Pod %s, and fails the same Pod of an unnamed DaemonSet', (_n, spec) => {
      expectSkipGuard(rule, analysisOf(spec, agents, config(), ownedBy('DaemonSet')), analysisOf(spec, policy(), config(), ownedBy('DaemonSet')));
    });

    it('denies a tenant DaemonSet Pod tolerating GPU taints, and says where node agents belong', () => {
      const findings = failures(rule.check(analysisOf(cpu({ tolerations: [gpuToleration()] }), policy(), config(), ownedBy('DaemonSet'))));
      expect(findings.map((f) => f.path)).toEqual(['spec.tolerations[0]']);
      expect(findings[0]?.fix).toContain('named in spec.nodeAgents of NamespacePolicy team-policy');
    });

    it('a name alone is not enough: the Pod of another kind, or of a DaemonSet of another name, is judged', () => {
      for (const meta of [ownedBy('ReplicaSet'), { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'other', uid: 'u', controller: true }] }]) {
        expect(failures(rule.check(analysisOf(cpu({ tolerations: [gpuToleration()] }), agents, config(), meta)))).toHaveLength(1);
      }
    });
  });

  it('skips a partial template (tolerations live elsewhere), and fails the same spec when it is whole', () => {
    const a = analysisOf(cpu({ tolerations: [gpuToleration()] }));
    expectSkipGuard(rule, partial(a), a);
  });

  it('does not treat a non-controller DaemonSet owner reference as a DaemonSet', () => {
    const findings = failures(rule.check(analysisOf(cpu({ tolerations: [gpuToleration()] }), policy(), config(), ownedBy('DaemonSet', false))));
    expect(findings.map((f) => f.path)).toEqual(['spec.tolerations[0]']);
  });

  it.each<[string, V1Toleration, string, string]>([
    ['the exact GPU toleration', gpuToleration(), 'tolerates nvidia.com/gpu=present:NoSchedule of GPU pool a100', LIMIT_FIX],
    ['Exists on the GPU key', { key: 'nvidia.com/gpu', operator: 'Exists' }, 'tolerates nvidia.com/gpu=present:NoSchedule of GPU pool a100', LIMIT_FIX],
    ['empty effect with the value', { key: 'nvidia.com/gpu', value: 'present' }, 'tolerates nvidia.com/gpu=present:NoSchedule', LIMIT_FIX],
    // Regression: the fix suggested nvidia.com/gpu for a toleration of another vendor's pool.
    ['the AMD taint', { key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, 'tolerates amd.com/gpu:NoSchedule of GPU pool mi300x', 'add resources.limits["amd.com/gpu"]'],
    ['a wildcard toleration', { operator: 'Exists' }, 'tolerates every taint, including nvidia.com/gpu=present:NoSchedule of GPU pool a100', LIMIT_FIX],
  ])('denies a CPU Pod with %s', (_n, t, message, fix) => {
    expectOne(failures(rule.check(analysisOf(cpu({ tolerations: withDefaults(t) })))), {
      ruleId: ID,
      path: 'spec.tolerations[2]',
      message: ['requests no accelerator', message, 'would occupy a GPU node'],
      fix: [fix, 'chart refactor', 'remove this toleration'],
    });
  });

  it('reports every squatting toleration once, at its own index', () => {
    const spec = cpu({ tolerations: [gpuToleration(), { key: 'other', operator: 'Exists' }, { key: 'amd.com/gpu', operator: 'Exists' }, { key: 'nvidia.com/gpu', operator: 'Exists' }] });
    expect(failures(rule.check(analysisOf(spec))).map((f) => [f.ruleId, f.path])).toEqual([
      [ID, 'spec.tolerations[0]'], [ID, 'spec.tolerations[2]'], [ID, 'spec.tolerations[3]'],
    ]);
  });

  it.each<[string, Partial<V1PodSpec>, string, string[], string]>([
    ['nodeSelector on the GKE accelerator label', { nodeSelector: { [GKE]: 'nvidia-l4' } }, `spec.nodeSelector[${GKE}]`, [`${GKE}=nvidia-l4`, 'pool l4'], LIMIT_FIX],
    ['nodeSelector on an accelerator no pool has', { nodeSelector: { [GKE]: 'nvidia-h100-80gb' } }, `spec.nodeSelector[${GKE}]`, [`${GKE}=nvidia-h100-80gb)`], LIMIT_FIX],
    ['nodeSelector nvidia.com/gpu.present=true', { nodeSelector: { 'nvidia.com/gpu.present': 'true' } }, 'spec.nodeSelector[nvidia.com/gpu.present]', ['nvidia.com/gpu.present=true'], LIMIT_FIX],
    ['Karpenter gpu-count Gt 0', { affinity: required([expr(COUNT, 'Gt', ['0'])]) }, `${AFFINITY}[0].matchExpressions[0]`, [`${COUNT} Gt [0]`], LIMIT_FIX],
    ['GFD product Exists', { affinity: required([expr('kubernetes.io/os', 'In', ['linux']), expr('nvidia.com/gpu.product', 'Exists')]) }, `${AFFINITY}[0].matchExpressions[1]`, ['nvidia.com/gpu.product Exists', 'pool mig'], 'add resources.limits["nvidia.com/mig-1g.5gb"]'],
    ['the MIG pool product', { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB' } }, 'spec.nodeSelector[nvidia.com/gpu.product]', ['pool mig'], 'add resources.limits["nvidia.com/mig-1g.5gb"]'],
    ['a label only a pool defines', { nodeSelector: { 'amd.com/gpu.product-name': 'MI300X' } }, 'spec.nodeSelector[amd.com/gpu.product-name]', ['amd.com/gpu.product-name=MI300X', 'pool mi300x'], 'add resources.limits["amd.com/gpu"]'],
    ['every ORed term pinning GPU nodes', { affinity: required([expr(GKE, 'In', ['nvidia-l4'])], [expr('nvidia.com/gpu.present', 'In', ['true'])]) }, `${AFFINITY}[0].matchExpressions[0]`, ['pool l4'], LIMIT_FIX],
  ])('denies a CPU Pod selecting only GPU nodes: %s', (_n, o, path, parts, fix) => {
    expectOne(failures(rule.check(analysisOf(cpu(o)))), {
      ruleId: ID,
      path,
      message: ['requests no accelerator but selects only accelerator nodes', ...parts],
      fix: [fix, 'remove the selector'],
    });
  });

  it('does not name a pool the selector does not select', () => {
    const f = expectOne(failures(rule.check(analysisOf(cpu({ nodeSelector: { [GKE]: 'nvidia-h100-80gb' } })))), { ruleId: ID, path: `spec.nodeSelector[${GKE}]` });
    expect(f.message).not.toContain('pool');
  });

  it('reports both a squatting toleration and a GPU-only selector', () => {
    const spec = cpu({ tolerations: [gpuToleration()], nodeSelector: { [GKE]: 'nvidia-a100-80gb' } });
    const findings = failures(rule.check(analysisOf(spec)));
    expect(findings.map((f) => f.path)).toEqual(['spec.tolerations[0]', `spec.nodeSelector[${GKE}]`]);
    expect(findings[1]?.message).toContain('pool a100');
  });
});

describe('gpu-squatting and claims of unknown class', () => {
  it('skips a Pod whose resource claim cannot be classified offline, and fails the same Pod without the claim', () => {
    const withClaim = {
      containers: [{ name: 'c', image: 'x', resources: { claims: [{ name: 'g' }] } }],
      resourceClaims: [{ name: 'g', resourceClaimTemplateName: 'somewhere' }],
      tolerations: [gpuToleration()],
    } as V1PodSpec;
    const without = { containers: [cpuContainer()], tolerations: [gpuToleration()] } as V1PodSpec;
    expectSkipGuard(rule, analysisOf(withClaim), analysisOf(without));
  });
});
