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

/**
 * Per alternative (an array the engine does not change after analysis): its conflict, once. Kept
 * in a non-enumerable symbol property rather than a WeakMap: thousands of WeakMap keys per review
 * made garbage collection (ephemeron tables) the largest cost.
 */
const CONFLICT = Symbol('conflict');
const PARTS = Symbol('parts');
type Annotated = Requirement[] & { [CONFLICT]?: Conflict | null; [PARTS]?: { selector: Requirement[]; term: Requirement[] } };
const note = (reqs: Requirement[], key: typeof CONFLICT | typeof PARTS, value: unknown): void => {
  Object.defineProperty(reqs, key, { value, enumerable: false, writable: true, configurable: true });
};
const partsOf = (reqs: Requirement[]): { selector: Requirement[]; term: Requirement[] } | undefined => (reqs as Annotated)[PARTS];

/**
 * Finds a key whose requirements no single label value can meet, if any. Linear in the
 * requirements and their values (grouped by key with a Map), and cached per array: several
 * rules ask about the same alternatives.
 */
export function findConflict(reqs: Requirement[]): Conflict | undefined {
  const cached = (reqs as Annotated)[CONFLICT];
  if (cached !== undefined) return cached ?? undefined;
  const parts = partsOf(reqs);
  const found = parts && findConflict(parts.selector) === undefined ? termConflict(parts.selector, parts.term) : groupConflict(reqs);
  if (!Object.isFrozen(reqs)) note(reqs, CONFLICT, found ?? null);
  return found;
}

function byKeyOf(reqs: Requirement[]): Map<string, Requirement[]> {
  const byKey = new Map<string, Requirement[]>();
  for (const r of reqs) {
    const list = byKey.get(r.key);
    if (list) list.push(r);
    else byKey.set(r.key, [r]);
  }
  return byKey;
}

function groupConflict(reqs: Requirement[]): Conflict | undefined {
  for (const [key, list] of byKeyOf(reqs)) {
    if (!satisfiableKey(list)) return { key, requirements: list };
  }
  return undefined;
}

/** The nodeSelector's requirements by key, with the position of the key: built once per selector. */
const selectorIndexes = new WeakMap<Requirement[], Map<string, { at: number; reqs: Requirement[] }>>();

function selectorIndex(selector: Requirement[]): Map<string, { at: number; reqs: Requirement[] }> {
  let index = selectorIndexes.get(selector);
  if (!index) {
    index = new Map();
    for (const [key, reqs] of byKeyOf(selector)) index.set(key, { at: index.size, reqs });
    selectorIndexes.set(selector, index);
  }
  return index;
}

/**
 * The conflict of nodeSelector + one term when the nodeSelector alone has none: only the term's
 * keys can conflict, so the work is the term's size, not the nodeSelector's. The key reported is
 * the one the whole alternative would report first (nodeSelector keys in their order, then the
 * term's).
 */
function termConflict(selector: Requirement[], term: Requirement[]): Conflict | undefined {
  const index = selectorIndex(selector);
  let best: { at: number; conflict: Conflict } | undefined;
  let own = 0;
  for (const [key, reqs] of byKeyOf(term)) {
    const fromSelector = index.get(key);
    const at = fromSelector ? fromSelector.at : index.size + own++;
    if (best && at > best.at) continue;
    const list = fromSelector ? [...fromSelector.reqs, ...reqs] : reqs;
    if (!satisfiableKey(list)) best = { at, conflict: { key, requirements: list } };
  }
  return best?.conflict;
}

function satisfiableKey(list: Requirement[]): boolean {
  if (list.length === 1) {
    // The usual case, without allocating: one requirement on its key.
    const only = list[0] as Requirement;
    if (only.operator === 'In') return only.values.length > 0;
    if (only.operator !== 'Gt' && only.operator !== 'Lt') return true;
  }
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

/**
 * Alternatives built by `alternatives()`: the nodeSelector (one array shared by all of them) and
 * the term. Tests that ask about every alternative evaluate the shared nodeSelector once, so the
 * work is nodeSelector + terms, not nodeSelector x terms.
 */
/** Whether every requirement of some alternative passes `ok` (the shared nodeSelector tested once). */
export function someAlternative(alts: Requirement[][], ok: (r: Requirement) => boolean): boolean {
  let selector: Requirement[] | undefined;
  let selectorOk = false;
  for (const reqs of alts) {
    const parts = partsOf(reqs);
    if (!parts) {
      if (reqs.every(ok)) return true;
      continue;
    }
    if (parts.selector !== selector) {
      selector = parts.selector;
      selectorOk = selector.every(ok);
    }
    if (selectorOk && parts.term.every(ok)) return true;
  }
  return false;
}

/** Each distinct requirement of the alternatives once (the shared nodeSelector is not repeated). */
export function distinctRequirements(alts: Requirement[][]): Requirement[] {
  const seen = new Set<Requirement[]>();
  const out: Requirement[] = [];
  for (const reqs of alts) {
    const parts = partsOf(reqs);
    if (!parts) {
      for (const r of reqs) out.push(r);
      continue;
    }
    if (!seen.has(parts.selector)) {
      seen.add(parts.selector);
      for (const r of parts.selector) out.push(r);
    }
    for (const r of parts.term) out.push(r);
  }
  return [...new Set(out)];
}

export function selectionMatches(alts: Requirement[][], labels: Record<string, string>): boolean {
  return someAlternative(alts, (r) => matches(r, labels));
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
  return someAlternative(alts, (r) => nodeMatches(r, node));
}

/** Requirement sets (nodeSelector AND one term) the Pod may be scheduled by. */
export function alternatives(sel: Selection, spec?: V1PodSpec): Requirement[][] {
  if (!sel.terms) return [sel.nodeSelector];
  return sel.terms
    .map((term, i) => ({ term, i }))
    .filter(({ i }) => !spec || !termIsEmpty(spec, i))
    .map(({ term }) => {
      const alt = [...sel.nodeSelector, ...term];
      note(alt, PARTS, { selector: sel.nodeSelector, term });
      return alt;
    });
}

/** Whether some alternative of the selection may match nodes carrying these labels. */
export function selectionMayMatch(alts: Requirement[][], labels: Record<string, string>): boolean {
  return someAlternative(alts, (r) => mayMatch(r, labels));
}
