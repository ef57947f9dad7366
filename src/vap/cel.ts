/**
 * Small builders of CEL text for the admission policy floor (src/vap/floor.ts). Everything stays
 * inside the Kubernetes CEL environment of Kubernetes 1.30: the standard macros (all, exists,
 * filter, map), `has`, `in`, string `matches` (RE2), `startsWith`, `contains`, the strings
 * extension (`trim`, `upperAscii`), the list library (`sum`) and the quantity library
 * (`isQuantity`, `quantity`, `isInteger`, `asInteger`).
 * Source: kubernetes.io/docs/reference/using-api/cel/ (CEL libraries available in Kubernetes).
 */
import type { V1LabelSelector } from '@kubernetes/client-node';

/** A CEL string literal (single quotes; backslash and quote escaped). */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** A CEL list literal of strings. */
export function list(items: readonly string[]): string {
  return `[${items.map(lit).join(', ')}]`;
}

const REGEX_META = /[.+?^${}()|[\]\\]/g;

export function escapeRegex(s: string): string {
  return s.replace(REGEX_META, '\\$&');
}

/** A glob (`*` = any run of characters, src/util/glob.ts) as an anchored RE2 (and JS) regex body. */
export function globRegex(pattern: string): string {
  return pattern.split('*').map(escapeRegex).join('.*');
}

/** One anchored alternation of globs; undefined when there are none. */
export function globsRegex(patterns: readonly string[]): string | undefined {
  if (patterns.length === 0) return undefined;
  return `^(${[...new Set(patterns)].map(globRegex).join('|')})$`;
}

export const or = (parts: readonly string[]): string => (parts.length === 0 ? 'false' : parts.length === 1 ? (parts[0] as string) : parts.map((p) => `(${p})`).join(' || '));
export const and = (parts: readonly string[]): string => (parts.length === 0 ? 'true' : parts.length === 1 ? (parts[0] as string) : parts.map((p) => `(${p})`).join(' && '));

/**
 * A label selector evaluated on the map `labels` (a CEL expression of type map<string, string>),
 * with the semantics of src/policy/resolve.ts selectorMatches (Kubernetes label selectors).
 */
export function selectorCel(sel: V1LabelSelector, labels: string): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    parts.push(`${lit(k)} in ${labels} && ${labels}[${lit(k)}] == ${lit(v)}`);
  }
  for (const e of sel.matchExpressions ?? []) {
    const k = lit(e.key);
    const values = list(e.values ?? []);
    if (e.operator === 'In') parts.push(`${k} in ${labels} && ${labels}[${k}] in ${values}`);
    else if (e.operator === 'NotIn') parts.push(`!(${k} in ${labels}) || !(${labels}[${k}] in ${values})`);
    else if (e.operator === 'Exists') parts.push(`${k} in ${labels}`);
    else if (e.operator === 'DoesNotExist') parts.push(`!(${k} in ${labels})`);
  }
  return and(parts);
}
