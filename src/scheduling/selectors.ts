import type { V1NodeSelectorRequirement, V1PodSpec } from '@kubernetes/client-node';

export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

/** One label requirement of a Pod's node selection, with where the user wrote it. */
export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
  path: string;
  /** A `matchFields` requirement (only `metadata.name` exists): it names nodes, not labels. */
  field?: true;
}

export interface Selection {
  nodeSelector: Requirement[];
  /** Required node affinity terms (ORed); undefined when the Pod has none. */
  terms?: Requirement[][];
  /** Whether the Pod constrains node labels at all. */
  constrained: boolean;
  /** `spec.nodeName`: the Pod skips the scheduler and is bound to that node. */
  nodeName?: { name: string; path: string };
}

const AFFINITY = 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
const OPERATORS = new Set<string>(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);

export function describeRequirement(r: Requirement): string {
  if (r.operator === 'Exists' || r.operator === 'DoesNotExist') return `${r.key} ${r.operator}`;
  if (r.operator === 'In' && r.values.length === 1) return `${r.key}=${r.values[0]}`;
  return `${r.key} ${r.operator} [${r.values.join(', ')}]`;
}

function toRequirement(raw: V1NodeSelectorRequirement, path: string): Requirement | undefined {
  if (!raw || typeof raw.key !== 'string' || !OPERATORS.has(raw.operator)) return undefined;
  const values = Array.isArray(raw.values) ? raw.values.filter((v): v is string => typeof v === 'string') : [];
  return { key: raw.key, operator: raw.operator as Operator, values, path };
}

export function selectionOf(spec: V1PodSpec, base = 'spec'): Selection {
  const nodeSelector: Requirement[] = [];
  const ns = spec.nodeSelector;
  if (ns && typeof ns === 'object') {
    for (const [key, value] of Object.entries(ns)) {
      if (typeof value === 'string') nodeSelector.push({ key, operator: 'In', values: [value], path: `${base}.nodeSelector[${key}]` });
    }
  }
  const rawTerms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  let terms: Requirement[][] | undefined;
  if (Array.isArray(rawTerms) && rawTerms.length > 0) {
    terms = rawTerms.map((term, t) => {
      const exprs = Array.isArray(term?.matchExpressions) ? term.matchExpressions : [];
      const fields = Array.isArray(term?.matchFields) ? term.matchFields : [];
      const labels = exprs
        .map((e, i) => toRequirement(e, `${base}.${AFFINITY}[${t}].matchExpressions[${i}]`))
        .filter((r): r is Requirement => r !== undefined);
      // matchFields supports only metadata.name (the node's name), with In / NotIn.
      const named = fields
        .map((f, i) => toRequirement(f, `${base}.${AFFINITY}[${t}].matchFields[${i}]`))
        .filter((r): r is Requirement => r !== undefined && r.key === 'metadata.name')
        .map((r): Requirement => ({ ...r, field: true }));
      return [...labels, ...named];
    });
  }
  const nodeName = typeof spec.nodeName === 'string' && spec.nodeName !== '' ? { name: spec.nodeName, path: `${base}.nodeName` } : undefined;
  return { nodeSelector, terms, constrained: nodeSelector.length > 0 || terms !== undefined, nodeName };
}

/** A term with neither expressions nor fields matches no node (Kubernetes semantics). */
function termIsEmpty(spec: V1PodSpec, index: number): boolean {
  const raw = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[index];
  const exprs = raw?.matchExpressions ?? [];
  const fields = raw?.matchFields ?? [];
  return exprs.length === 0 && fields.length === 0;
}

export interface Conflict {
  key: string;
  requirements: Requirement[];
}

const integer = (v: string): number | undefined => (/^-?\d+$/.test(v) ? Number(v) : undefined);

/** Finds a key whose requirements no single label value can meet, if any. */
export function findConflict(reqs: Requirement[]): Conflict | undefined {
  const byKey = new Map<string, Requirement[]>();
  for (const r of reqs) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  for (const [key, list] of byKey) {
    if (!satisfiableKey(list)) return { key, requirements: list };
  }
  return undefined;
}

function satisfiableKey(list: Requirement[]): boolean {
  const mustBeAbsent = list.some((r) => r.operator === 'DoesNotExist');
  const mustExist = list.some((r) => r.operator !== 'DoesNotExist' && r.operator !== 'NotIn');
  if (mustBeAbsent && mustExist) return false;
  let allowed: Set<string> | undefined;
  const excluded = new Set<string>();
  let gt = -Infinity;
  let lt = Infinity;
  for (const r of list) {
    if (r.operator === 'In') allowed = new Set(r.values.filter((v) => !allowed || allowed.has(v)));
    else if (r.operator === 'NotIn') r.values.forEach((v) => excluded.add(v));
    else if (r.operator === 'Gt') gt = Math.max(gt, integer(r.values[0] ?? '') ?? Infinity);
    else if (r.operator === 'Lt') lt = Math.min(lt, integer(r.values[0] ?? '') ?? -Infinity);
  }
  const bounded = gt !== -Infinity || lt !== Infinity;
  if (bounded && !(lt - gt >= 2)) return false; // also when an invalid bound made it NaN
  if (!allowed) return true;
  return [...allowed].some((v) => {
    if (excluded.has(v)) return false;
    if (!bounded) return true;
    const n = integer(v);
    return n !== undefined && n > gt && n < lt;
  });
}

/**
 * Whether a node with these labels may meet the requirement. Keys the labels do not define are
 * unknown and count as a possible match: a pool description is partial.
 */
export function mayMatch(r: Requirement, labels: Record<string, string>): boolean {
  if (r.field) return true; // a node name: unknown for a pool description
  if (!Object.hasOwn(labels, r.key)) return true;
  const value = labels[r.key] as string;
  switch (r.operator) {
    case 'In':
      return r.values.includes(value);
    case 'NotIn':
      return !r.values.includes(value);
    case 'Exists':
      return true;
    case 'DoesNotExist':
      return false;
    case 'Gt':
    case 'Lt': {
      const have = integer(value);
      const bound = integer(r.values[0] ?? '');
      if (have === undefined || bound === undefined) return false;
      return r.operator === 'Gt' ? have > bound : have < bound;
    }
  }
}

/** Exact Kubernetes semantics against a real node's complete labels (a missing key is absent). */
export function matches(r: Requirement, labels: Record<string, string>): boolean {
  if (r.field) return false; // a node name is not a label: see nodeMatches
  const has = Object.hasOwn(labels, r.key);
  if (r.operator === 'DoesNotExist') return !has;
  if (r.operator === 'NotIn') return !has || !r.values.includes(labels[r.key] as string);
  return has && mayMatch(r, labels);
}

export function selectionMatches(alts: Requirement[][], labels: Record<string, string>): boolean {
  return alts.some((reqs) => reqs.every((r) => matches(r, labels)));
}

/** A live node: its name (for matchFields) and its complete labels. */
export interface LiveNode {
  name: string;
  labels: Record<string, string>;
}

/** Exact Kubernetes semantics of one requirement against a live node, matchFields included. */
export function nodeMatches(r: Requirement, node: LiveNode): boolean {
  if (!r.field) return matches(r, node.labels);
  if (r.operator === 'In') return r.values.includes(node.name);
  if (r.operator === 'NotIn') return !r.values.includes(node.name);
  return false;
}

export function selectionMatchesNode(alts: Requirement[][], node: LiveNode): boolean {
  return alts.some((reqs) => reqs.every((r) => nodeMatches(r, node)));
}

/** Requirement sets (nodeSelector AND one term) the Pod may be scheduled by. */
export function alternatives(sel: Selection, spec?: V1PodSpec): Requirement[][] {
  if (!sel.terms) return [sel.nodeSelector];
  return sel.terms
    .map((term, i) => ({ term, i }))
    .filter(({ i }) => !spec || !termIsEmpty(spec, i))
    .map(({ term }) => [...sel.nodeSelector, ...term]);
}

/** Whether some alternative of the selection may match nodes carrying these labels. */
export function selectionMayMatch(alts: Requirement[][], labels: Record<string, string>): boolean {
  return alts.some((reqs) => reqs.every((r) => mayMatch(r, labels)));
}
