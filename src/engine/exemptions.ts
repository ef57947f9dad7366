import type { PodAnalysis } from './types.js';
import { ownerKindOf } from './analyse.js';

/** Rule and mutator ids the namespace policy lifts for this Pod. */
export function exemptIds(a: PodAnalysis): Set<string> {
  const lifted = new Set<string>();
  const owner = ownerKindOf(a);
  const sa = a.target.spec.serviceAccountName ?? 'default';
  for (const e of a.policy.exemptions) {
    const byOwner = e.ownerKinds === undefined || (owner !== undefined && e.ownerKinds.includes(owner));
    const bySa = e.serviceAccounts === undefined || e.serviceAccounts.includes(sa);
    if (byOwner && bySa) e.rules.forEach((r) => lifted.add(r));
  }
  return lifted;
}

export function isLifted(lifted: Set<string>, id: string): boolean {
  return lifted.has('*') || lifted.has(id);
}
