/**
 * Overlapping namespace selectors: two policies whose selectors some label set satisfies at once.
 * The resolver then picks the first by name, and the other silently never applies to such a
 * namespace. Exact for label selectors: label values are an open set, so a conjunction of
 * requirements is satisfiable unless, for some key, they contradict each other.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { NamespacePolicy } from './types.js';

interface KeyRequirement {
  /** Values the key must take (intersection of In / matchLabels); undefined = unconstrained. */
  oneOf?: Set<string>;
  notIn: Set<string>;
  exists: boolean;
  absent: boolean;
}

function requirementsOf(selectors: V1LabelSelector[]): Map<string, KeyRequirement> {
  const out = new Map<string, KeyRequirement>();
  const of = (key: string): KeyRequirement => {
    const r = out.get(key) ?? { notIn: new Set<string>(), exists: false, absent: false };
    out.set(key, r);
    return r;
  };
  const restrict = (r: KeyRequirement, values: string[]): void => {
    r.oneOf = new Set(r.oneOf ? values.filter((v) => r.oneOf?.has(v)) : values);
  };
  for (const s of selectors) {
    for (const [k, v] of Object.entries(s.matchLabels ?? {})) restrict(of(k), [v]);
    for (const e of s.matchExpressions ?? []) {
      const r = of(e.key);
      if (e.operator === 'In') restrict(r, e.values ?? []);
      else if (e.operator === 'NotIn') for (const v of e.values ?? []) r.notIn.add(v);
      else if (e.operator === 'Exists') r.exists = true;
      else if (e.operator === 'DoesNotExist') r.absent = true;
    }
  }
  return out;
}

/** A label set every selector matches, described for people; undefined when none exists. */
export function commonLabels(selectors: V1LabelSelector[]): string[] | undefined {
  const witness: string[] = [];
  for (const [key, r] of requirementsOf(selectors)) {
    if (r.absent) {
      if (r.exists || r.oneOf) return undefined;
      continue;
    }
    if (r.oneOf) {
      const value = [...r.oneOf].find((v) => !r.notIn.has(v));
      if (value === undefined) return undefined;
      witness.push(`${key}=${value}`);
    } else if (r.exists) witness.push(`${key} (any value${r.notIn.size > 0 ? ` but ${[...r.notIn].join(', ')}` : ''})`);
  }
  return witness;
}

export interface Overlap {
  winner: NamespacePolicy;
  shadowed: NamespacePolicy;
  labels: string[];
}

/** Pairs of selector policies that can match the same namespace, in resolution order (first wins). */
export function overlappingSelectors(policies: NamespacePolicy[]): Overlap[] {
  const selecting = policies.filter((p) => p.namespaces.selector).sort((a, b) => a.name.localeCompare(b.name));
  const out: Overlap[] = [];
  selecting.forEach((a, i) => {
    for (const b of selecting.slice(i + 1)) {
      const labels = commonLabels([a.namespaces.selector as V1LabelSelector, b.namespaces.selector as V1LabelSelector]);
      if (labels) out.push({ winner: a, shadowed: b, labels });
    }
  });
  return out;
}

export function describeOverlap(o: Overlap): string {
  const example = o.labels.length > 0 ? `a namespace labelled ${o.labels.join(', ')}` : 'every namespace';
  return `NamespacePolicy "${o.winner.name}" (${o.winner.source}) and NamespacePolicy "${o.shadowed.name}" (${o.shadowed.source}) select overlapping namespaces ` +
    `(e.g. ${example}): "${o.winner.name}" governs them (first by name) and "${o.shadowed.name}" never applies there. ` +
    'Fix: make the selectors exclusive (a NotIn or DoesNotExist expression, or distinct label values), or name the namespaces';
}
