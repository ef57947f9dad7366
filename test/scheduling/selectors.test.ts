import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  alternatives, describeRequirement, findConflict, mayMatch, type Operator, type Requirement, selectionMayMatch, selectionOf,
} from '../../src/scheduling/selectors.js';
import { AFFINITY, expr, GKE, required } from '../rules/helpers.js';

function req(key: string, operator: Operator, values: string[] = [], path = `p.${key}.${operator}`): Requirement {
  return { key, operator, values, path };
}

describe('selectionOf', () => {
  it('reads nodeSelector entries as In requirements with their paths', () => {
    const s = selectionOf({ containers: [], nodeSelector: { [GKE]: 'nvidia-l4', pool: 'gpu' } });
    expect(s).toEqual({
      nodeSelector: [
        { key: GKE, operator: 'In', values: ['nvidia-l4'], path: `spec.nodeSelector[${GKE}]` },
        { key: 'pool', operator: 'In', values: ['gpu'], path: 'spec.nodeSelector[pool]' },
      ],
      terms: undefined,
      constrained: true,
    });
  });

  it('reads required affinity terms with indexed paths under the given base', () => {
    const spec: V1PodSpec = { containers: [], affinity: required([expr(GKE, 'In', ['a', 'b'])], [expr('x', 'Exists'), expr('y', 'Gt', ['3'])]) };
    const s = selectionOf(spec, 'spec.template.spec');
    const base = 'spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
    expect(s.nodeSelector).toEqual([]);
    expect(s.constrained).toBe(true);
    expect(s.terms).toEqual([
      [{ key: GKE, operator: 'In', values: ['a', 'b'], path: `${base}[0].matchExpressions[0]` }],
      [
        { key: 'x', operator: 'Exists', values: [], path: `${base}[1].matchExpressions[0]` },
        { key: 'y', operator: 'Gt', values: ['3'], path: `${base}[1].matchExpressions[1]` },
      ],
    ]);
  });

  it.each<[string, V1PodSpec]>([
    ['no selection', { containers: [] }],
    ['empty nodeSelector', { containers: [], nodeSelector: {} }],
    ['empty terms list', { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } }],
    ['preferred affinity only', { containers: [], affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [expr(GKE, 'In', ['x'])] } }] } } }],
  ])('%s is unconstrained', (_n, spec) => {
    const s = selectionOf(spec);
    expect(s.constrained).toBe(false);
    expect(s.terms).toBeUndefined();
    expect(alternatives(s, spec)).toEqual([[]]);
  });

  it('drops malformed expressions and non-string selector values', () => {
    const spec = { containers: [], nodeSelector: { a: 1 }, affinity: required([expr('k', 'Near', ['x']), expr('ok', 'In', ['v', 3 as unknown as string])]) } as unknown as V1PodSpec;
    const s = selectionOf(spec);
    expect(s.nodeSelector).toEqual([]);
    expect(s.terms).toEqual([[{ key: 'ok', operator: 'In', values: ['v'], path: `${AFFINITY}[0].matchExpressions[1]` }]]);
  });
});

describe('alternatives', () => {
  it('ANDs the nodeSelector into every ORed term and drops empty terms', () => {
    const spec: V1PodSpec = {
      containers: [],
      nodeSelector: { pool: 'gpu' },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr('a', 'Exists')] }, {}, { matchExpressions: [expr('b', 'Exists')] }] } } },
    };
    const alts = alternatives(selectionOf(spec), spec);
    expect(alts.map((a) => a.map((r) => r.key))).toEqual([['pool', 'a'], ['pool', 'b']]);
  });

  it('keeps a term that only has matchFields (it is not empty)', () => {
    const spec: V1PodSpec = { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } } };
    expect(alternatives(selectionOf(spec), spec)).toEqual([[{ key: 'metadata.name', operator: 'In', values: ['n1'], field: true,
      path: 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0]' }]]);
  });

  it('has no alternative at all when every term is empty', () => {
    const spec: V1PodSpec = { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}, { matchExpressions: [] }] } } } };
    expect(alternatives(selectionOf(spec), spec)).toEqual([]);
  });
});

describe('findConflict', () => {
  it.each<[string, Requirement[], string | undefined]>([
    ['nothing', [], undefined],
    ['same In twice', [req('k', 'In', ['a']), req('k', 'In', ['a', 'b'])], undefined],
    ['In vs In, disjoint', [req('k', 'In', ['a']), req('k', 'In', ['b'])], 'k'],
    ['In vs In, overlapping', [req('k', 'In', ['a', 'b']), req('k', 'In', ['b', 'c'])], undefined],
    ['three Ins narrowing to nothing', [req('k', 'In', ['a', 'b']), req('k', 'In', ['b', 'c']), req('k', 'In', ['a', 'c'])], 'k'],
    ['In vs NotIn, same value', [req('k', 'In', ['a']), req('k', 'NotIn', ['a'])], 'k'],
    ['In vs NotIn, one value left', [req('k', 'In', ['a', 'b']), req('k', 'NotIn', ['a'])], undefined],
    ['In with no values', [req('k', 'In', [])], 'k'],
    ['Exists vs DoesNotExist', [req('k', 'Exists'), req('k', 'DoesNotExist')], 'k'],
    ['In vs DoesNotExist', [req('k', 'In', ['a']), req('k', 'DoesNotExist')], 'k'],
    ['Gt vs DoesNotExist', [req('k', 'Gt', ['1']), req('k', 'DoesNotExist')], 'k'],
    ['NotIn vs DoesNotExist (absent label meets both)', [req('k', 'NotIn', ['a']), req('k', 'DoesNotExist')], undefined],
    ['Exists and NotIn', [req('k', 'Exists'), req('k', 'NotIn', ['a'])], undefined],
    ['Gt 3 and Lt 5 leave 4', [req('k', 'Gt', ['3']), req('k', 'Lt', ['5'])], undefined],
    ['Gt 4 and Lt 5 leave nothing', [req('k', 'Gt', ['4']), req('k', 'Lt', ['5'])], 'k'],
    ['Gt 5 and Lt 2', [req('k', 'Gt', ['5']), req('k', 'Lt', ['2'])], 'k'],
    ['Gt with a non-integer bound', [req('k', 'Gt', ['abc'])], 'k'],
    ['Lt without a value', [req('k', 'Lt')], 'k'],
    ['Gt -1 alone', [req('k', 'Gt', ['-1'])], undefined],
    ['In 8 and Gt 4', [req('k', 'In', ['8']), req('k', 'Gt', ['4'])], undefined],
    ['In 2 and Gt 4', [req('k', 'In', ['2']), req('k', 'Gt', ['4'])], 'k'],
    ['In non-numeric and Lt', [req('k', 'In', ['many']), req('k', 'Lt', ['9'])], 'k'],
    ['different keys never conflict', [req('a', 'In', ['x']), req('b', 'DoesNotExist'), req('c', 'Exists')], undefined],
  ])('%s', (_n, reqs, key) => {
    const c = findConflict(reqs);
    expect(c?.key).toBe(key);
    if (c) expect(c.requirements).toEqual(reqs.filter((r) => r.key === key));
  });

  it('reports the first conflicting key with only its requirements', () => {
    const reqs = [req('ok', 'Exists'), req('k', 'In', ['a']), req('k2', 'Exists'), req('k', 'In', ['b'])];
    expect(findConflict(reqs)).toEqual({ key: 'k', requirements: [reqs[1], reqs[3]] });
  });
});

describe('mayMatch', () => {
  const labels = { [GKE]: 'nvidia-l4', 'nvidia.com/gpu.count': '4' };
  it.each<[string, Requirement, boolean]>([
    ['In, matching', req(GKE, 'In', ['nvidia-l4', 'x']), true],
    ['In, mismatching', req(GKE, 'In', ['nvidia-a100-80gb']), false],
    ['NotIn, listed', req(GKE, 'NotIn', ['nvidia-l4']), false],
    ['NotIn, unlisted', req(GKE, 'NotIn', ['x']), true],
    ['Exists', req(GKE, 'Exists'), true],
    ['DoesNotExist', req(GKE, 'DoesNotExist'), false],
    ['Gt below', req('nvidia.com/gpu.count', 'Gt', ['3']), true],
    ['Gt equal', req('nvidia.com/gpu.count', 'Gt', ['4']), false],
    ['Lt above', req('nvidia.com/gpu.count', 'Lt', ['5']), true],
    ['Lt equal', req('nvidia.com/gpu.count', 'Lt', ['4']), false],
    ['Gt on a non-numeric label', req(GKE, 'Gt', ['0']), false],
    ['Gt with a non-numeric bound', req('nvidia.com/gpu.count', 'Gt', ['x']), false],
    ['unknown key with In (partial pool description)', req('nvidia.com/gpu.product', 'In', ['H100']), true],
    ['unknown key with DoesNotExist', req('nvidia.com/gpu.product', 'DoesNotExist'), true],
  ])('%s', (_n, r, want) => {
    expect(mayMatch(r, labels)).toBe(want);
  });

  it('does not treat inherited object keys as labels', () => {
    expect(mayMatch(req('constructor', 'DoesNotExist'), {})).toBe(true);
  });
});

describe('selectionMayMatch', () => {
  const l4 = { [GKE]: 'nvidia-l4' };
  it.each<[string, Requirement[][], boolean]>([
    ['unconstrained', [[]], true],
    ['no alternative (all terms empty)', [], false],
    ['one ANDed requirement fails', [[req(GKE, 'In', ['nvidia-l4']), req(GKE, 'NotIn', ['nvidia-l4'])]], false],
    ['one of several ORed terms matches', [[req(GKE, 'In', ['a100'])], [req(GKE, 'In', ['nvidia-l4'])]], true],
    ['no ORed term matches', [[req(GKE, 'In', ['a100'])], [req(GKE, 'DoesNotExist')]], false],
  ])('%s', (_n, alts, want) => {
    expect(selectionMayMatch(alts, l4)).toBe(want);
  });
});

describe('describeRequirement', () => {
  it.each<[Requirement, string]>([
    [req(GKE, 'In', ['nvidia-l4']), `${GKE}=nvidia-l4`],
    [req(GKE, 'In', ['a', 'b']), `${GKE} In [a, b]`],
    [req(GKE, 'NotIn', ['a']), `${GKE} NotIn [a]`],
    [req('k', 'Exists'), 'k Exists'],
    [req('k', 'DoesNotExist'), 'k DoesNotExist'],
    [req('karpenter.k8s.aws/instance-gpu-count', 'Gt', ['0']), 'karpenter.k8s.aws/instance-gpu-count Gt [0]'],
  ])('%j -> %s', (r, text) => {
    expect(describeRequirement(r)).toBe(text);
  });
});
