import { describe, expect, it } from 'vitest';
import { PolicyResolver, selectorMatches, type NamespaceLabelSource } from '../../src/policy/resolve.js';
import { policy, policySet } from '../support/fixtures.js';

function labels(map: Record<string, Record<string, string>>): NamespaceLabelSource & { set(ns: string, l: Record<string, string>): void } {
  const src = { version: 0, labels: (ns: string) => map[ns], set(ns: string, l: Record<string, string>) { map[ns] = l; src.version += 1; } };
  return src;
}

describe('namespace -> policy', () => {
  const named = policy({ namespaces: { names: ['ml'] } }, 'named');
  const bySelector = policy({ namespaces: { selector: { matchLabels: { team: 'ml' } } } }, 'selected');
  const byExpr = policy({ namespaces: { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gpu'] }] } } }, 'expr');
  const fallback = policy({ default: true, namespaces: {} }, 'fallback');

  it.each([
    ['ml', {}, 'named'],
    ['research', { team: 'ml' }, 'selected'],
    ['other', { tier: 'gpu' }, 'expr'],
    ['other', { tier: 'cpu' }, 'fallback'],
    ['ml', { team: 'x' }, 'named'],
  ])('%s with labels %j -> %s', (ns, l, expected) => {
    const r = new PolicyResolver(policySet([named, bySelector, byExpr, fallback]), labels({ [ns]: l }));
    expect(r.resolve(ns)?.name).toBe(expected);
  });

  it('returns undefined when nothing governs the namespace and there is no default', () => {
    expect(new PolicyResolver(policySet([named])).resolve('other')).toBeUndefined();
  });

  it('selects on the immutable kubernetes.io/metadata.name label even offline', () => {
    const p = policy({ namespaces: { selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a', 'b'] }] } } }, 'by-name');
    expect(new PolicyResolver(policySet([p, fallback])).resolve('b')?.name).toBe('by-name');
  });

  it('follows label changes (memo invalidated by the source version)', () => {
    const src = labels({ research: {} });
    const r = new PolicyResolver(policySet([bySelector, fallback]), src);
    expect(r.resolve('research')?.name).toBe('fallback');
    src.set('research', { team: 'ml' });
    expect(r.resolve('research')?.name).toBe('selected');
  });

  it.each([
    [{ matchLabels: { a: '1' } }, { a: '1' }, true],
    [{ matchLabels: { a: '1' } }, { a: '2' }, false],
    [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, {}, false],
    [{ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' }, false],
    [{}, { a: '1' }, true],
  ])('selector %j on %j = %s', (sel, l, expected) => {
    expect(selectorMatches(sel, l)).toBe(expected);
  });
});
