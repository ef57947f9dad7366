/** Runs one mutator the way mutatePod does (enabled check, clone, apply), for table-driven tests. */
import { isDeepStrictEqual } from 'node:util';
import type { V1PodSpec } from '@kubernetes/client-node';
import type { EngineConfig, Finding, MutationNote, Mutator } from '../../src/engine/types.js';
import type { NamespacePolicy } from '../../src/policy/types.js';
import { analysisOf, config } from './fixtures.js';

export interface MutatorRun {
  enabled: boolean;
  spec: V1PodSpec;
  notes: MutationNote[];
  warnings: Finding[];
  changed: boolean;
}

export function runMutator(m: Mutator, spec: V1PodSpec, pol: NamespacePolicy, cfg: EngineConfig = config()): MutatorRun {
  const before = structuredClone(spec);
  const enabled = m.enabled(pol);
  const clone = structuredClone(spec);
  const r = enabled ? m.apply(clone, analysisOf(spec, pol, cfg)) : { notes: [], warnings: [] };
  if (!isDeepStrictEqual(spec, before)) throw new Error(`${m.id} changed the analysed spec instead of its clone`);
  return { enabled, spec: clone, ...r, changed: !isDeepStrictEqual(clone, spec) };
}

/** A second run on the result must change nothing and say nothing changed (Gatekeeper's oscillation check). */
export function expectIdempotent(m: Mutator, out: V1PodSpec, pol: NamespacePolicy, cfg: EngineConfig = config()): void {
  const again = runMutator(m, out, pol, cfg);
  if (again.changed || again.notes.length > 0) {
    throw new Error(`${m.id} is not idempotent: second pass ${JSON.stringify({ notes: again.notes, spec: again.spec })}`);
  }
}
