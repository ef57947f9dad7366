import type { V1PodSpec } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { MUTATORS } from '../mutators/index.js';
import { RULES } from '../rules/index.js';
import { exemptIds, isLifted } from './exemptions.js';
import type { Finding, MutationNote, PodAnalysis } from './types.js';

export type PatchOperation = jsonpatch.Operation;

export function validatePod(a: PodAnalysis): Finding[] {
  if (a.policy.exempt) return [];
  const lifted = exemptIds(a);
  const out: Finding[] = [];
  for (const rule of RULES) {
    if (isLifted(lifted, rule.id)) continue;
    out.push(...rule.check(a));
  }
  return out;
}

export interface PodMutation {
  spec: V1PodSpec;
  /** JSON Patch against the whole object (paths prefixed with the spec's pointer). */
  patch: PatchOperation[];
  notes: MutationNote[];
  warnings: Finding[];
}

export function mutatePod(a: PodAnalysis): PodMutation {
  const none: PodMutation = { spec: a.target.spec, patch: [], notes: [], warnings: [] };
  // A Pod its namespace may not give accelerators is denied, not decorated.
  if (a.policy.exempt || !a.acc.isAcceleratorPod || !a.policy.accelerators.allowed) return none;
  const lifted = exemptIds(a);
  const active = MUTATORS.filter((m) => m.enabled(a.policy) && !isLifted(lifted, m.id));
  if (active.length === 0) return none;
  // Clone only the spec: reviews carry managedFields and metadata we never touch.
  const spec = structuredClone(a.target.spec);
  const notes: MutationNote[] = [];
  const warnings: Finding[] = [];
  for (const m of active) {
    const r = m.apply(spec, a);
    notes.push(...r.notes);
    warnings.push(...r.warnings);
  }
  const ops = notes.length > 0 ? jsonpatch.compare(a.target.spec, spec) : [];
  const patch = ops.map((op) => ({ ...op, path: a.target.pointer + op.path }));
  return { spec, patch, notes, warnings };
}
