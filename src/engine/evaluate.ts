import type { V1PodSpec } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { MUTATORS, WORKLOAD_MUTATORS } from '../mutators/index.js';
import { RULES, WORKLOAD_RULES } from '../rules/index.js';
import { exemptIds, isLifted } from './exemptions.js';
import { PodMetaEdit } from './meta-edit.js';
import { ObjectEdit } from './object-edit.js';
import type { Finding, MutationNote, PatchOperation, PodAnalysis, RuleResult, WorkloadAnalysis } from './types.js';

/** The findings of every rule the exemptions leave in force. */
function findingsOf<A>(rules: readonly { id: string; check(a: A): RuleResult }[], a: A, lifted: Set<string>): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    if (isLifted(lifted, rule.id)) continue;
    const r = rule.check(a);
    if (r.status === 'fail') for (const f of r.findings) out.push(f); // a spread of 100k+ findings overflows the stack
  }
  return out;
}

export function validatePod(a: PodAnalysis): Finding[] {
  return a.policy.exempt ? [] : findingsOf(RULES, a, exemptIds(a));
}

export interface PodMutation {
  spec: V1PodSpec;
  /** The Pod's (template's) metadata after the mutators' label and annotation edits. */
  metadata?: V1ObjectMeta;
  /** JSON Patch against the whole object (paths prefixed with the spec's pointer). */
  patch: PatchOperation[];
  notes: MutationNote[];
  warnings: Finding[];
}

export function mutatePod(a: PodAnalysis): PodMutation {
  const none: PodMutation = { spec: a.target.spec, metadata: a.target.metadata, patch: [], notes: [], warnings: [] };
  // A Pod its namespace may not give accelerators is denied, not decorated.
  if (a.policy.exempt || !a.acc.isAcceleratorPod || !a.policy.accelerators.allowed) return none;
  const lifted = exemptIds(a);
  const active = MUTATORS.filter((m) => m.enabled(a.policy) && !isLifted(lifted, m.id));
  if (active.length === 0) return none;
  // Mutators work copy-on-write on a shallow copy of the spec: they replace the arrays, maps and
  // containers they change and share the rest (env, volumes, ...) with the request, which stays
  // untouched. Only the top-level fields they replaced are handed to compare().
  const spec: V1PodSpec = { ...a.target.spec };
  const meta = new PodMetaEdit(a.target.metadata, a.target.virtual ? undefined : a.target.metadataPointer);
  const notes: MutationNote[] = [];
  const warnings: Finding[] = [];
  for (const m of active) {
    const r = m.apply(spec, a, meta);
    notes.push(...r.notes);
    warnings.push(...r.warnings);
  }
  const patch = notes.length > 0 ? [...meta.patch(), ...diffSpec(a.target.spec, spec, a.target.pointer)] : [];
  return { spec, metadata: meta.metadata(), patch, notes, warnings };
}

/**
 * Rule and mutator ids lifted for a whole object: those every one of its Pod specs has lifted (an
 * exemption of one template's service account does not lift a rule of the whole workload).
 */
function workloadLifted(w: WorkloadAnalysis): Set<string> {
  const [first, ...rest] = w.pods.map(exemptIds);
  if (!first) return new Set();
  return new Set([...first].filter((id) => rest.every((l) => isLifted(l, id))));
}

export function validateWorkload(w: WorkloadAnalysis): Finding[] {
  return w.policy.exempt ? [] : findingsOf(WORKLOAD_RULES, w, workloadLifted(w));
}

export interface WorkloadMutation {
  patch: PatchOperation[];
  notes: MutationNote[];
  warnings: Finding[];
}

export function mutateWorkload(w: WorkloadAnalysis): WorkloadMutation {
  const result: WorkloadMutation = { patch: [], notes: [], warnings: [] };
  if (w.policy.exempt || !w.policy.accelerators.allowed) return result;
  const lifted = workloadLifted(w);
  const edit = new ObjectEdit(w.object);
  for (const m of WORKLOAD_MUTATORS) {
    if (!m.enabled(w.policy) || isLifted(lifted, m.id)) continue;
    const r = m.apply(edit, w);
    result.notes.push(...r.notes);
    result.warnings.push(...r.warnings);
  }
  result.patch = edit.ops;
  return result;
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
