/** `gpu-admission policy validate`: every problem listed, overlapping selectors included, exit 1. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPolicies, parsePolicies } from '../../src/policy/parse.js';
import { commonLabels, describeOverlap, overlappingSelectors } from '../../src/policy/overlap.js';
import { cli, POLICIES } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'gpa-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const policy = (name: string, selector: string): string =>
  `apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: ${name}}\nspec: {namespaces: {selector: ${selector}}}\n`;

describe('overlapping namespace selectors', () => {
  it.each<[string, V1LabelSelector, V1LabelSelector, string[] | undefined]>([
    ['identical matchLabels', { matchLabels: { team: 'ml' } }, { matchLabels: { team: 'ml' } }, ['team=ml']],
    ['one a subset of the other', { matchLabels: { team: 'ml' } }, { matchLabels: { team: 'ml', tier: 'gpu' } }, ['team=ml', 'tier=gpu']],
    ['different keys', { matchLabels: { team: 'ml' } }, { matchLabels: { tier: 'gpu' } }, ['team=ml', 'tier=gpu']],
    ['an empty selector matches everything', {}, { matchLabels: { team: 'ml' } }, ['team=ml']],
    ['In sets that intersect', { matchExpressions: [{ key: 'p', operator: 'In', values: ['a', 'b'] }] }, { matchExpressions: [{ key: 'p', operator: 'In', values: ['b', 'c'] }] }, ['p=b']],
    ['Exists and a value', { matchExpressions: [{ key: 'p', operator: 'Exists' }] }, { matchLabels: { p: 'x' } }, ['p=x']],
    ['Exists with NotIn', { matchExpressions: [{ key: 'p', operator: 'Exists' }, { key: 'p', operator: 'NotIn', values: ['a'] }] }, { matchExpressions: [{ key: 'p', operator: 'Exists' }] }, ['p (any value but a)']],
    ['different values', { matchLabels: { team: 'ml' } }, { matchLabels: { team: 'web' } }, undefined],
    ['In sets that do not intersect', { matchExpressions: [{ key: 'p', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'p', operator: 'In', values: ['b', 'c'] }] }, undefined],
    ['a value excluded by NotIn', { matchLabels: { team: 'ml' } }, { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['ml'] }] }, undefined],
    ['Exists against DoesNotExist', { matchExpressions: [{ key: 'p', operator: 'Exists' }] }, { matchExpressions: [{ key: 'p', operator: 'DoesNotExist' }] }, undefined],
    ['a value against DoesNotExist', { matchLabels: { p: 'x' } }, { matchExpressions: [{ key: 'p', operator: 'DoesNotExist' }] }, undefined],
  ])('%s', (_n, a, b, witness) => {
    expect(commonLabels([a, b])).toEqual(witness);
  });

  it('the shipped policies do not overlap', async () => {
    const r = await cli(['policy', 'validate', POLICIES]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid — 7 GpuPool(s)');
  });

  it('reports which policy wins and which never applies, with the fix', () => {
    const files = [{ path: 'a.yaml', text: policy('b-team', '{matchLabels: {team: ml}}') }, { path: 'b.yaml', text: policy('a-team', '{matchLabels: {team: ml, gpu: "yes"}}') }];
    // The shared parse (serve and validate alike) refuses the set with the same text.
    expect(() => parsePolicies(files)).toThrow(/select overlapping namespaces/);
    const overlaps = overlappingSelectors(checkPolicies(files).policies);
    expect(overlaps.map(describeOverlap)).toEqual([
      'NamespacePolicy "a-team" (b.yaml) and NamespacePolicy "b-team" (a.yaml) select overlapping namespaces (e.g. a namespace labelled team=ml, gpu=yes): ' +
      '"a-team" governs them (first by name) and "b-team" never applies there. Fix: make the selectors exclusive (a NotIn or DoesNotExist expression, or distinct label values), or name the namespaces',
    ]);
  });
});

describe('policy validate exit codes', () => {
  const dir = (files: Record<string, string>): string => {
    const d = mkdtempSync(join(tmp, 'dir-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    return d;
  };

  it('1 for overlapping selectors', async () => {
    const d = dir({ 'p.yaml': `${policy('one', '{matchLabels: {team: ml}}')}---\n${policy('two', '{matchExpressions: [{key: team, operator: Exists}]}')}` });
    const r = await cli(['policy', 'validate', d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^invalid policies:\n {2}- NamespacePolicy "one" \(p\.yaml\) and NamespacePolicy "two" \(p\.yaml\) select overlapping namespaces \(e\.g\. a namespace labelled team=ml\)/);
  });

  it('1 with every problem listed (schema and cross-document), --policies works as before', async () => {
    const d = dir({
      'a.yaml': 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: a}\nspec: {default: true, mode: block}\n',
      'b.yaml': 'apiVersion: gpu-admission.io/v1alpha1\nkind: NamespacePolicy\nmetadata: {name: b}\nspec: {namespaces: {names: [ml]}, accelerators: {pools: [h100]}}\n',
    });
    const r = await cli(['policy', 'validate', '--policies', d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('document 1 (NamespacePolicy "a"): spec.mode: must be one of "enforce", "warn", "audit"');
    expect(r.stderr).toContain('NamespacePolicy "b" (b.yaml): spec.accelerators.pools: no GpuPool named "h100"');
  });

  it('1 for a directory that does not exist', async () => {
    const r = await cli(['policy', 'validate', join(tmp, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope: not a directory');
  });

  it('2 for a usage error', async () => {
    expect((await cli(['policy', 'validate', 'a', 'b'])).code).toBe(2);
    expect((await cli(['policy', 'frobnicate'])).code).toBe(2);
  });
});
