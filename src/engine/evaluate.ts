import type { V1PodSpec } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { MUTATORS } from '../mutators/index.js';
import { RULES } from '../rules/index.js';
import { exemptIds, isLifted } from './exemptions.js';
import type { Finding, MutationNote, PatchOperation, PodAnalysis } from './types.js';

export function validatePod(a: PodAnalysis): Finding[] {
  if (a.policy.exempt) return [];
  const lifted = exemptIds(a);
  const out: Finding[] = [];
  for (const rule of RULES) {
    if (isLifted(lifted, rule.id)) continue;
    const r = rule.check(a);
    if (r.status === 'fail') for (const f of r.findings) out.push(f); // a spread of 100k+ findings overflows the stack
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
  // Mutators work copy-on-write on a shallow copy of the spec: they replace the arrays, maps and
  // containers they change and share the rest (env, volumes, ...) with the request, which stays
  // untouched. Only the top-level fields they replaced are handed to compare().
  const spec: V1PodSpec = { ...a.target.spec };
  const notes: MutationNote[] = [];
  const warnings: Finding[] = [];
  for (const m of active) {
    const r = m.apply(spec, a);
    notes.push(...r.notes);
    warnings.push(...r.warnings);
  }
  const patch = notes.length > 0 ? diffSpec(a.target.spec, spec, a.target.pointer) : [];
  return { spec, patch, notes, warnings };
}

type Fields = Record<string, unknown>;

/** JSON Patch between two specs that share all but the top-level fields a mutator replaced. */
function diffSpec(before: V1PodSpec, after: V1PodSpec, pointer: string): PatchOperation[] {
  const b = before as unknown as Fields;
  const a = after as unknown as Fields;
  const changed = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => b[k] !== a[k]);
  if (changed.length === 0) return [];
  const pick = (o: Fields): Fields => Object.fromEntries(changed.filter((k) => Object.hasOwn(o, k)).map((k) => [k, o[k]]));
  return jsonpatch.compare(pick(b), pick(a)).map((op) => ({ ...op, path: pointer + op.path }));
}
