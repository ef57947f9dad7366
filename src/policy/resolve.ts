import type { V1LabelSelector } from '@kubernetes/client-node';
import type { NamespacePolicy, PolicySet } from './types.js';

/** Namespace labels known to the webhook; offline only the immutable name label is known. */
export interface NamespaceLabelSource {
  labels(namespace: string): Record<string, string> | undefined;
  /** Bumped whenever any namespace's labels change, to invalidate cached lookups. */
  readonly version: number;
}

export const offlineNamespaces: NamespaceLabelSource = { labels: () => undefined, version: 0 };

export function selectorMatches(sel: V1LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * namespace -> policy: listed names first, then label selectors (in policy-name order), then the
 * default. Results are memoised per namespace until labels or policies change.
 */
export class PolicyResolver {
  private readonly byName = new Map<string, NamespacePolicy>();
  private readonly bySelector: NamespacePolicy[];
  private readonly fallback?: NamespacePolicy;
  private readonly memo = new Map<string, NamespacePolicy | null>();
  private memoVersion = -1;

  constructor(readonly set: PolicySet, private readonly namespaces: NamespaceLabelSource = offlineNamespaces) {
    for (const p of set.policies) for (const ns of p.namespaces.names) this.byName.set(ns, p);
    this.bySelector = set.policies.filter((p) => p.namespaces.selector).sort((a, b) => a.name.localeCompare(b.name));
    this.fallback = set.policies.find((p) => p.isDefault);
  }

  resolve(namespace: string): NamespacePolicy | undefined {
    const named = this.byName.get(namespace);
    if (named) return named;
    if (this.namespaces.version !== this.memoVersion) {
      this.memo.clear();
      this.memoVersion = this.namespaces.version;
    }
    const cached = this.memo.get(namespace);
    if (cached !== undefined) return cached ?? undefined;
    const labels = { ...(this.namespaces.labels(namespace) ?? {}), 'kubernetes.io/metadata.name': namespace };
    const found = this.bySelector.find((p) => p.namespaces.selector && selectorMatches(p.namespaces.selector, labels)) ?? this.fallback;
    if (this.memo.size > 100_000) this.memo.clear();
    this.memo.set(namespace, found ?? null);
    return found;
  }

  /** The namespace's labels, when known (a live view, or the Namespace objects of an audit's input). */
  namespaceLabels(namespace: string): Record<string, string> | undefined {
    return this.namespaces.labels(namespace);
  }
}
