/** The structure-aware shortcuts (shared nodeSelector judged once) answer exactly as the plain definitions. */
import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { alternatives, distinctRequirements, findConflict, matches, type Requirement, selectionMatches, selectionOf, someAlternative } from '../../src/scheduling/selectors.js';
import { SHAPE_LIMITS } from '../../src/workload/shape.js';

const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const affinity = (terms: unknown[]): V1PodSpec['affinity'] => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } as V1PodSpec['affinity']);
/** The same requirements in a fresh array: no shortcut applies, the plain definition answers. */
const plain = (reqs: Requirement[]): Requirement[] => [...reqs];

// A small deterministic generator: operators and values over few keys, so that conflicts occur.
function seeded(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}
const OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;

function randomSpec(rand: () => number): V1PodSpec {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const keys = ['a', 'b', 'c', 'd'];
  const values = ['1', '2', '3', 'x'];
  const nodeSelector = Object.fromEntries(keys.filter(() => rand() < 0.5).map((k) => [k, pick(values)]));
  const terms = many(1 + Math.floor(rand() * 6), () => ({
    matchExpressions: many(Math.floor(rand() * 5), () => {
      const operator = pick(OPS);
      const vals = operator === 'Exists' || operator === 'DoesNotExist' ? undefined : many(1 + Math.floor(rand() * 2), () => pick(values));
      return vals ? { key: pick(keys), operator, values: operator === 'Gt' || operator === 'Lt' ? vals.slice(0, 1) : vals } : { key: pick(keys), operator };
    }),
  }));
  return { containers: [], nodeSelector, affinity: affinity(terms) };
}

describe('nodeSelector x terms shortcuts', () => {
  it('findConflict on composed alternatives equals the plain definition (2,000 random selections)', () => {
    const rand = seeded(7);
    let conflicts = 0;
    for (let i = 0; i < 2000; i++) {
      const spec = randomSpec(rand);
      for (const alt of alternatives(selectionOf(spec), spec)) {
        const got = findConflict(alt);
        expect(got).toEqual(findConflict(plain(alt)));
        expect(findConflict(alt)).toBe(got); // cached
        if (got) conflicts++;
      }
    }
    expect(conflicts).toBeGreaterThan(100);
  });

  it('someAlternative and distinctRequirements equal the plain definitions', () => {
    const rand = seeded(11);
    const labelSets = [{}, { a: '1' }, { a: '2', b: '3' }, { a: '1', b: '1', c: 'x', d: '3' }];
    for (let i = 0; i < 500; i++) {
      const spec = randomSpec(rand);
      const alts = alternatives(selectionOf(spec), spec);
      for (const labels of labelSets) {
        expect(selectionMatches(alts, labels)).toBe(alts.some((reqs) => reqs.every((r) => matches(r, labels))));
      }
      expect(distinctRequirements(alts)).toEqual([...new Set(alts.flat())]);
    }
    expect(someAlternative([], () => true)).toBe(false);
  });

  it(`${SHAPE_LIMITS.nodeSelectorKeys} nodeSelector keys x ${SHAPE_LIMITS.nodeSelectorTerms} terms: the contradiction of the last term only is found`, () => {
    const nodeSelector = Object.fromEntries(many(SHAPE_LIMITS.nodeSelectorKeys, (i) => [`k${i}`, `v${i}`]));
    const terms = many(SHAPE_LIMITS.nodeSelectorTerms, (t) => ({ matchExpressions: [{ key: 'k200', operator: t === SHAPE_LIMITS.nodeSelectorTerms - 1 ? 'NotIn' : 'In', values: ['v200'] }] }));
    const spec: V1PodSpec = { containers: [], nodeSelector, affinity: affinity(terms) };
    const alts = alternatives(selectionOf(spec), spec);
    const found = alts.map((alt) => findConflict(alt));
    expect(found.slice(0, -1).every((c) => c === undefined)).toBe(true);
    expect(found.at(-1)).toMatchObject({ key: 'k200' });
    expect(found.at(-1)?.requirements.map((r) => r.path)).toEqual([
      'spec.nodeSelector[k200]',
      `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${SHAPE_LIMITS.nodeSelectorTerms - 1}].matchExpressions[0]`,
    ]);
  });
});
