/**
 * The namespace-labels guard: policies select namespaces by labels, so whoever may label a
 * namespace would choose its policy (a laxer profile). When the default policy names the platform's
 * identities (spec.namespaceLabelAdmins), a Namespace CREATE or UPDATE by anyone else may not add,
 * change or remove a label key any NamespacePolicy selector reads. Pure: the review in, findings out.
 */
import type { NamespacePolicy } from '../policy/types.js';
import type { Finding, RequestUser } from './types.js';

export const NAMESPACE_LABELS_RULE = 'namespace-labels';

/** The API server sets it to the namespace's name and never lets it change: not guarded. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Label keys some policy's selector reads, each with the policies that read it. */
export function guardedLabelKeys(policies: NamespacePolicy[]): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const p of policies) {
    const sel = p.namespaces.selector;
    if (!sel) continue;
    for (const key of [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => e.key)]) {
      if (key === NAME_LABEL) continue;
      const by = keys.get(key) ?? [];
      if (!by.includes(p.name)) by.push(p.name);
      keys.set(key, by);
    }
  }
  return keys;
}

export interface NamespaceLabelsInput {
  operation: string;
  object?: unknown;
  oldObject?: unknown;
  userInfo?: RequestUser;
  policies: NamespacePolicy[];
}

export interface NamespaceLabelsResult {
  /** The default policy, which holds the setting (for logs and metrics). */
  policy?: NamespacePolicy;
  skipped?: string;
  findings: Finding[];
}

function labelsOf(o: unknown): Record<string, unknown> {
  const labels = (o as { metadata?: { labels?: unknown } } | null | undefined)?.metadata?.labels;
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? labels as Record<string, unknown> : {};
}

const show = (v: unknown): string => JSON.stringify(v);

export function checkNamespaceLabels(input: NamespaceLabelsInput): NamespaceLabelsResult {
  const policy = input.policies.find((p) => p.isDefault);
  if (!policy?.namespaceLabelAdmins) return { policy, skipped: 'namespace labels are not guarded (no spec.namespaceLabelAdmins on the default policy)', findings: [] };
  if (input.operation !== 'CREATE' && input.operation !== 'UPDATE') return { policy, skipped: `operation ${input.operation} is not checked`, findings: [] };
  const admins = policy.namespaceLabelAdmins;
  const user = input.userInfo;
  // Only the API server vouches for userInfo: without it (offline) nobody is an admin.
  if ((user?.username !== undefined && admins.users.includes(user.username)) || (user?.groups ?? []).some((g) => admins.groups.includes(g))) {
    return { policy, skipped: `${user?.username ?? 'the requester'} may change the labels policies select on (spec.namespaceLabelAdmins)`, findings: [] };
  }
  const before = input.operation === 'UPDATE' ? labelsOf(input.oldObject) : {};
  const after = labelsOf(input.object);
  const who = [...admins.users.map((u) => `user ${u}`), ...admins.groups.map((g) => `group ${g}`)].join(', ') || 'nobody';
  const findings: Finding[] = [];
  for (const [key, by] of guardedLabelKeys(input.policies)) {
    const had = Object.hasOwn(before, key);
    const has = Object.hasOwn(after, key);
    if (had === has && (!has || before[key] === after[key])) continue;
    const what = !had ? `adds ${key}=${show(after[key])}` : !has ? `removes ${key} (was ${show(before[key])})` : `changes ${key} from ${show(before[key])} to ${show(after[key])}`;
    findings.push({
      ruleId: NAMESPACE_LABELS_RULE,
      path: `metadata.labels[${show(key)}]`,
      message: `the request ${what}, a label that chooses the namespace's NamespacePolicy (read by ${by.join(', ')}); only ${who} may set it (spec.namespaceLabelAdmins of ${policy.name})`,
      fix: had ? `keep ${key}=${show(before[key])}, or ask the platform team to change it` : `leave ${key} out, or ask the platform team to set it`,
    });
  }
  return { policy, findings };
}
