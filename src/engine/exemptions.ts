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
    // Requester exemptions hold only on the webhook path, where the API server vouches for userInfo.
    const user = a.userInfo;
    const byUser = e.users === undefined || (user?.username !== undefined && e.users.includes(user.username));
    const byGroup = e.groups === undefined || (user?.groups ?? []).some((g) => e.groups?.includes(g));
    if (byOwner && bySa && byUser && byGroup) e.rules.forEach((r) => lifted.add(r));
  }
  return lifted;
}

export function isLifted(lifted: Set<string>, id: string): boolean {
  return lifted.has('*') || lifted.has(id);
}
