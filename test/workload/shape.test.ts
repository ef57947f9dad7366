/** The size bounds of the Pod-spec shape: at the bound judged, one over it a finding naming the field. */
import { describe, expect, it } from 'vitest';
import { checkPodSpecShape, SHAPE_LIMITS } from '../../src/workload/shape.js';

const TERMS = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const withTerms = (terms: unknown[]): unknown => ({ containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
const exists = (i: number) => ({ key: `k${i}`, operator: 'Exists' });
const per = 50;

describe('shape bounds', () => {
  const cases: Array<[string, unknown, string | undefined]> = [
    [`${SHAPE_LIMITS.nodeSelectorTerms} terms`, withTerms(many(SHAPE_LIMITS.nodeSelectorTerms, () => ({ matchExpressions: [exists(0)] }))), undefined],
    [`${SHAPE_LIMITS.nodeSelectorTerms + 1} terms`, withTerms(many(SHAPE_LIMITS.nodeSelectorTerms + 1, () => ({ matchExpressions: [exists(0)] }))), TERMS],
    [`${SHAPE_LIMITS.requirements} requirements across the terms`, withTerms(many(SHAPE_LIMITS.requirements / per, () => ({ matchExpressions: many(per, exists) }))), undefined],
    [`${SHAPE_LIMITS.requirements + 1} requirements across the terms`, withTerms([...many(SHAPE_LIMITS.requirements / per, () => ({ matchExpressions: many(per, exists) })), { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }]), `${TERMS}[${SHAPE_LIMITS.requirements / per}]`],
    [`${SHAPE_LIMITS.valuesPerRequirement} values in a requirement`, withTerms([{ matchExpressions: [{ key: 'a', operator: 'In', values: many(SHAPE_LIMITS.valuesPerRequirement, String) }] }]), undefined],
    [`${SHAPE_LIMITS.valuesPerRequirement + 1} values in a requirement`, withTerms([{ matchExpressions: [{ key: 'a', operator: 'In', values: many(SHAPE_LIMITS.valuesPerRequirement + 1, String) }] }]), `${TERMS}[0].matchExpressions[0].values`],
    [`${SHAPE_LIMITS.values} values across the terms`, withTerms(many(2, () => ({ matchExpressions: [{ key: 'a', operator: 'In', values: many(SHAPE_LIMITS.values / 2, String) }] }))), undefined],
    [`${SHAPE_LIMITS.values + 1} values across the terms`, withTerms([...many(2, () => ({ matchExpressions: [{ key: 'a', operator: 'In', values: many(SHAPE_LIMITS.values / 2, String) }] })), { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }]), `${TERMS}[2]`],
    [`${SHAPE_LIMITS.tolerations + 1} tolerations`, { containers: [], tolerations: many(SHAPE_LIMITS.tolerations + 1, () => ({ operator: 'Exists' })) }, 'spec.tolerations'],
    [`${SHAPE_LIMITS.containers + 1} containers`, { containers: many(SHAPE_LIMITS.containers + 1, (i) => ({ name: `c${i}` })) }, 'spec.containers'],
  ];
  it.each(cases)('%s', (_label, spec, path) => {
    const bad = checkPodSpecShape(spec, 'spec');
    if (path === undefined) expect(bad).toBeUndefined();
    else expect(bad?.path).toBe(path);
  });
});
