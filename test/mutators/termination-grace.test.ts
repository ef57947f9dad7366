import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mutatePod } from '../../src/engine/evaluate.js';
import { terminationGraceMutator } from '../../src/mutators/termination-grace.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { analysisOf, cpuContainer, podSpec, policy } from '../support/fixtures.js';
import { expectIdempotent, runMutator } from '../support/mutate.js';

const grace = (seconds: number, extra: Parameters<typeof policy>[0] = {}): NamespacePolicy => policy({ ...extra, terminationGracePeriodSeconds: seconds });

interface Case {
  name: string;
  spec: () => V1PodSpec;
  policy: () => NamespacePolicy;
  want: number | undefined;
  note?: string;
}

const cases: Case[] = [
  // apply
  { name: 'set when absent (a template the API server has not defaulted)', spec: () => podSpec(), policy: () => grace(600), want: 600, note: 'set terminationGracePeriodSeconds to 600' },
  { name: 'raised from the API server default of 30', spec: () => podSpec({ terminationGracePeriodSeconds: 30 }), policy: () => grace(600), want: 600, note: 'set terminationGracePeriodSeconds to 600 (was 30)' },
  { name: 'raised from 0 (immediate kill)', spec: () => podSpec({ terminationGracePeriodSeconds: 0 }), policy: () => grace(120), want: 120, note: 'set terminationGracePeriodSeconds to 120 (was 0)' },
  // no-op
  { name: 'kept when above the policy', spec: () => podSpec({ terminationGracePeriodSeconds: 900 }), policy: () => grace(600), want: 900 },
  { name: 'kept when equal to the policy', spec: () => podSpec({ terminationGracePeriodSeconds: 600 }), policy: () => grace(600), want: 600 },
  // skip
  { name: 'a Pod that requests no accelerator', spec: () => ({ containers: [cpuContainer()], terminationGracePeriodSeconds: 30 }), policy: () => grace(600), want: 30 },
  { name: 'mutations.terminationGracePeriod off', spec: () => podSpec({ terminationGracePeriodSeconds: 30 }), policy: () => grace(600, { mutations: { terminationGracePeriod: false } }), want: 30 },
  { name: 'no grace period in the policy', spec: () => podSpec({ terminationGracePeriodSeconds: 30 }), policy: () => policy(), want: 30 },
];

describe('termination-grace mutator', () => {
  it.each(cases)('$name', ({ spec, policy: pol, want, note }) => {
    const out = runMutator(terminationGraceMutator, spec(), pol());
    expect(out.spec.terminationGracePeriodSeconds).toBe(want);
    expect(out.notes.map((n) => n.description)).toEqual(note ? [note] : []);
    expect(out.changed).toBe(note !== undefined);
    expect(out.warnings).toEqual([]);
    expectIdempotent(terminationGraceMutator, out.spec, pol());
  });

  it('patches with replace when the field exists and add when it does not', () => {
    expect(mutatePod(analysisOf(podSpec({ terminationGracePeriodSeconds: 30 }), grace(600))).patch)
      .toEqual([{ op: 'replace', path: '/spec/terminationGracePeriodSeconds', value: 600 }]);
    expect(mutatePod(analysisOf(podSpec(), grace(600))).patch)
      .toEqual([{ op: 'add', path: '/spec/terminationGracePeriodSeconds', value: 600 }]);
  });
});
