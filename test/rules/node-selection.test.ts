import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeSelection as rule } from '../../src/rules/node-selection.js';
import { analysisOf, cpuContainer, podSpec } from '../support/fixtures.js';
import { AFFINITY, expectOne, expectPass, expectSkip, expectSkipGuard, expr, failures, GKE, partial, required } from './helpers.js';

const ID = 'node-selection';
const NS = `spec.nodeSelector[${GKE}]`;
const T0 = (i: number): string => `${AFFINITY}[0].matchExpressions[${i}]`;
const COUNT = 'karpenter.k8s.aws/instance-gpu-count';
const cpu = (o: Partial<V1PodSpec>): V1PodSpec => ({ containers: [cpuContainer()], ...o });

describe(ID, () => {
  it.each<[string, V1PodSpec]>([
    ['no selection at all', podSpec()],
    ['a nodeSelector alone', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' } })],
    ['nodeSelector and affinity agreeing (In vs In)', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'In', ['nvidia-l4', 'nvidia-a100-80gb'])]) })],
    ['In and NotIn leaving a value', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'NotIn', ['nvidia-a100-80gb'])]) })],
    ['Exists with an In', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'Exists')]) })],
    ['NotIn with DoesNotExist', podSpec({ affinity: required([expr(GKE, 'NotIn', ['x']), expr(GKE, 'DoesNotExist')]) })],
    ['Gt 3 and Lt 5', podSpec({ affinity: required([expr(COUNT, 'Gt', ['3']), expr(COUNT, 'Lt', ['5'])]) })],
    ['In 4 with Gt 3', podSpec({ nodeSelector: { [COUNT]: '4' }, affinity: required([expr(COUNT, 'Gt', ['3'])]) })],
    ['several ORed terms, one compatible', podSpec({
      nodeSelector: { [GKE]: 'nvidia-l4' },
      affinity: required([expr(GKE, 'In', ['nvidia-a100-80gb'])], [expr(GKE, 'DoesNotExist')], [expr(GKE, 'In', ['nvidia-l4'])]),
    })],
    ['different keys', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr('nvidia.com/gpu.product', 'DoesNotExist')]) })],
  ])('allows %s', (_n, spec) => {
    expectPass(rule.check(analysisOf(spec)));
  });

  it.each<[string, V1PodSpec, V1PodSpec]>([
    ['a CPU Pod contradicting itself on an unrelated label', cpu({ nodeSelector: { disktype: 'ssd' }, affinity: required([expr('disktype', 'In', ['hdd'])]) }),
      cpu({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'In', ['nvidia-a100-80gb'])]) })],
  ])('skips %s, and fails the same contradiction on an accelerator label', (_n, spec, twin) => {
    expectSkipGuard(rule, analysisOf(spec), analysisOf(twin));
  });

  it('skips a partial template (selection lives elsewhere), and fails the same spec when it is whole', () => {
    const a = analysisOf(podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'NotIn', ['nvidia-l4'])]) }));
    expectSkipGuard(rule, partial(a), a);
  });

  it('passes a Pod whose every affinity term is empty', () => {
    expectPass(rule.check(analysisOf(podSpec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }))));
  });

  it.each<[string, V1PodSpec, string, string, string[]]>([
    ['nodeSelector In vs affinity In', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'In', ['nvidia-a100-80gb'])]) }), GKE, NS,
      [`${NS} (${GKE}=nvidia-l4)`, `${T0(0)} (${GKE}=nvidia-a100-80gb)`]],
    ['nodeSelector In vs affinity NotIn', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'NotIn', ['nvidia-l4', 'nvidia-t4'])]) }), GKE, NS,
      [`${GKE} NotIn [nvidia-l4, nvidia-t4]`]],
    ['nodeSelector vs affinity DoesNotExist', podSpec({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'DoesNotExist')]) }), GKE, NS,
      [`${GKE} DoesNotExist`]],
    ['In vs NotIn inside one term', podSpec({ nodeSelector: { zone: 'a' }, affinity: required([expr('zone', 'In', ['a']), expr(GKE, 'In', ['nvidia-l4']), expr(GKE, 'NotIn', ['nvidia-l4'])]) }), GKE, T0(1),
      [T0(1), T0(2)]],
    ['Exists vs DoesNotExist', podSpec({ affinity: required([expr('nvidia.com/gpu.product', 'Exists'), expr('nvidia.com/gpu.product', 'DoesNotExist')]) }), 'nvidia.com/gpu.product', T0(0),
      ['nvidia.com/gpu.product Exists', 'nvidia.com/gpu.product DoesNotExist']],
    ['Gt 4 and Lt 5', podSpec({ affinity: required([expr(COUNT, 'Gt', ['4']), expr(COUNT, 'Lt', ['5'])]) }), COUNT, T0(0),
      [`${COUNT} Gt [4]`, `${COUNT} Lt [5]`]],
    ['nodeSelector 2 vs Gt 4', podSpec({ nodeSelector: { [COUNT]: '2' }, affinity: required([expr(COUNT, 'Gt', ['4'])]) }), COUNT, `spec.nodeSelector[${COUNT}]`,
      [`${COUNT}=2`, `${COUNT} Gt [4]`]],
  ])('denies %s', (_n, spec, key, path, parts) => {
    expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID,
      path,
      message: [`node selection cannot be met on ${key}`, ...parts, 'would stay Pending'],
      fix: [`agree on ${key}`],
    });
  });

  it('denies when no ORed term can hold with the nodeSelector, naming the first', () => {
    const spec = podSpec({
      nodeSelector: { [GKE]: 'nvidia-l4' },
      affinity: required([expr(GKE, 'In', ['nvidia-a100-80gb'])], [expr(GKE, 'DoesNotExist')]),
    });
    expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID,
      path: NS,
      message: ['no required nodeAffinity term can hold together with the nodeSelector', `e.g. on ${GKE}`, `${T0(0)} (${GKE}=nvidia-a100-80gb)`, 'would stay Pending'],
      fix: ['nodeSelector and requiredDuringSchedulingIgnoredDuringExecution agree', 'drop one of them'],
    });
  });

  it('does not blame a nodeSelector the Pod does not have when every ORed term contradicts itself', () => {
    const spec = podSpec({ affinity: required([expr(GKE, 'In', ['a']), expr(GKE, 'In', ['b'])], [expr(GKE, 'Exists'), expr(GKE, 'DoesNotExist')]) });
    const f = expectOne(failures(rule.check(analysisOf(spec))), {
      ruleId: ID, path: T0(0), message: ['no required nodeAffinity term can be met', `${T0(0)} (${GKE}=a)`, 'would stay Pending'],
      fix: [`the requirements of requiredDuringSchedulingIgnoredDuringExecution agree on ${GKE}`],
    });
    expect(f.message).not.toContain('with the nodeSelector');
    expect(f.fix).not.toContain('nodeSelector and');
  });

  it.each<[string, V1PodSpec, string]>([
    ['a well-known accelerator label', cpu({ nodeSelector: { [GKE]: 'nvidia-l4' }, affinity: required([expr(GKE, 'DoesNotExist')]) }), NS],
    ['a label only a pool defines', cpu({ nodeSelector: { 'amd.com/gpu.product-name': 'MI300X' }, affinity: required([expr('amd.com/gpu.product-name', 'In', ['MI250'])]) }),
      'spec.nodeSelector[amd.com/gpu.product-name]'],
  ])('denies a CPU Pod contradicting itself on %s', (_n, spec, path) => {
    expectOne(failures(rule.check(analysisOf(spec))), { ruleId: ID, path, message: ['cannot be met'] });
  });
});
