/**
 * The reference tables of docs/, generated from the code's registries and the shipped policies so
 * that the docs cannot drift from what the program does. Pure: data in, markdown out.
 * `src/docs/write.ts` puts them between the marker comments of docs/*.md.
 */
import type { PodSpecLocation, WorkloadKind } from '../workload/kinds.js';
import { ACCELERATOR_VENDORS, NOT_ACCELERATORS } from '../workload/vendors.js';
import { isObject } from '../util/json.js';

/** What the docs need of a rule (the registry's `Rule` is one). */
export interface RuleEntry {
  id: string;
  summary: string;
  fix: string;
  advisory?: boolean;
}

/** What the docs need of a mutator (the registry's `Mutator` is one). */
export interface MutatorEntry {
  id: string;
  summary: string;
  setting: string;
}

/** One shipped policy file: its name and its parsed documents, in file order. */
export interface PolicyFileEntry {
  file: string;
  documents: readonly unknown[];
}

export interface DocsInput {
  rules: readonly RuleEntry[];
  mutators: readonly MutatorEntry[];
  kinds: readonly WorkloadKind[];
  policyFiles: readonly PolicyFileEntry[];
}

type Json = Record<string, unknown>;

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim() || '—';
}

const code = (text: string): string => `\`${text}\``;
const codes = (items: readonly string[]): string => items.map(code).join(', ');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function rulesTable(rules: readonly RuleEntry[]): string {
  return table(['id', 'checks', 'usual fix', 'advisory'], rules.map((r) => [
    code(r.id), r.summary, r.fix, r.advisory ? 'yes: warns, never denies' : 'no',
  ]));
}

export function mutationsTable(mutators: readonly MutatorEntry[]): string {
  return table(['id', 'what it changes', 'turned on by'], mutators.map((m) => [
    code(m.id), m.summary, m.setting.split('+').map((s) => code(s.trim())).join(' + '),
  ]));
}

/** `/spec/pytorchReplicaSpecs/*\/template` -> `spec.pytorchReplicaSpecs.*.template`. */
function dotted(pointer: string): string {
  return pointer.split('/').filter(Boolean).join('.');
}

function podSpecPaths(loc: PodSpecLocation): string {
  if ('virtual' in loc) return 'assembled from container-like fields (see [virtual Pod specs](#virtual-pod-specs))';
  if ('embedded' in loc) return `those of the object of a kind of this table at ${code(dotted(loc.embedded))}`;
  return codes(loc.patterns.map((p) => {
    const base = dotted(p);
    if (loc.podSpec) return base;
    return base ? `${base}.spec` : 'spec';
  }));
}

/** What the operator adds to its Pods, from the kind table's `fills` (see [operator defaults](#operator-defaults)). */
function operatorFills(k: WorkloadKind): string {
  const f = k.fills;
  if (!f) return '';
  const fields = ([['readinessProbe', 'readinessProbe'], ['livenessProbe', 'livenessProbe'], ['memoryLimit', 'memory limit'], ['cpuRequest', 'CPU request']] as const)
    .filter(([key]) => f[key] !== undefined).map(([, label]) => label);
  const which = f.containers === 'first' ? 'first container' : f.containers === 'all' ? 'every container' : `containers ${f.containers.names.map(code).join(', ')}`;
  const suffix = 'patterns' in k.podSpecs && k.podSpecs.podSpec !== true ? '.spec' : '';
  const where = f.patterns ? ` of ${codes(f.patterns.map((p) => `${dotted(p)}${suffix}`))}` : '';
  return `${f.operator}: ${fields.join(', ')} (${which}${where})`;
}

export function kindsTable(kinds: readonly WorkloadKind[]): string {
  return table(['apiVersion', 'kind', 'plural', 'scope', 'from', 'Pod specs judged', 'operator fills'], kinds.map((k) => [
    codes(k.versions.map((v) => (k.group ? `${k.group}/${v}` : v))), k.kind, code(k.plural), k.scope, k.project, podSpecPaths(k.podSpecs), operatorFills(k),
  ]));
}

interface Doc {
  kind: string;
  name: string;
  spec: Json;
}

function docsOf(file: PolicyFileEntry): Doc[] {
  return file.documents.filter(isObject).map((d) => ({
    kind: str(d['kind']),
    name: isObject(d['metadata']) ? str(d['metadata']['name']) : '',
    spec: isObject(d['spec']) ? d['spec'] : {},
  }));
}

export function policyFilesTable(files: readonly PolicyFileEntry[]): string {
  return table(['file', 'documents'], files.map((f) => {
    const byKind = new Map<string, string[]>();
    for (const d of docsOf(f)) byKind.set(d.kind, [...(byKind.get(d.kind) ?? []), d.name]);
    const parts = [...byKind].map(([kind, names]) => `${kind}${names.length > 1 ? 's' : ''} ${codes(names)}`);
    return [code(f.file), parts.join('; ')];
  }));
}

function taintText(t: unknown): string {
  if (!isObject(t)) return str(t);
  const value = t['value'] === undefined ? '' : `=${str(t['value'])}`;
  return `${str(t['key'])}${value}:${str(t['effect'])}`;
}

export function poolsTable(files: readonly PolicyFileEntry[]): string {
  const rows: string[][] = [];
  for (const f of files) {
    for (const d of docsOf(f).filter((x) => x.kind === 'GpuPool')) {
      const labels = isObject(d.spec['nodeLabels']) ? Object.entries(d.spec['nodeLabels']).map(([k, v]) => `${k}=${str(v)}`) : [];
      rows.push([
        code(d.name), str(d.spec['description']), codes(labels), codes(asArray(d.spec['taints']).map(taintText)),
        codes(asArray(d.spec['resources']).map(str)), str(d.spec['maxPerPod']), code(f.file),
      ]);
    }
  }
  return table(['pool', 'description', 'nodeLabels', 'taints', 'resources', 'maxPerPod', 'file'], rows);
}

function selectorText(sel: unknown): string[] {
  if (!isObject(sel)) return [];
  const out = isObject(sel['matchLabels']) ? Object.entries(sel['matchLabels']).map(([k, v]) => `${k}=${str(v)}`) : [];
  for (const e of asArray(sel['matchExpressions'])) {
    if (!isObject(e)) continue;
    const values = asArray(e['values']).map(str);
    out.push(`${str(e['key'])} ${str(e['operator'])}${values.length ? ` (${values.join(', ')})` : ''}`);
  }
  return out;
}

function governs(spec: Json): string {
  const parts: string[] = [];
  const ns = isObject(spec['namespaces']) ? spec['namespaces'] : {};
  const names = asArray(ns['names']).map(str);
  if (names.length) parts.push(`names ${codes(names)}`);
  const sel = selectorText(ns['selector']);
  if (sel.length) parts.push(`labels ${codes(sel)}`);
  if (spec['default'] === true) parts.push('every namespace no other policy selects');
  return parts.join('; or ');
}

function accelerators(spec: Json): string {
  const acc = isObject(spec['accelerators']) ? spec['accelerators'] : {};
  if (acc['allowed'] === false) return 'none';
  const pools = asArray(acc['pools']).map(str);
  const resources = asArray(acc['resources']).map(str);
  const parts = [`pools ${pools.length ? codes(pools) : 'any'}`];
  if (acc['defaultPool'] !== undefined) parts.push(`default ${code(str(acc['defaultPool']))}`);
  if (resources.length) parts.push(`resources ${codes(resources)}`);
  if (acc['maxPerPod'] !== undefined) parts.push(`at most ${str(acc['maxPerPod'])} per Pod`);
  return parts.join(', ');
}

function seconds(v: unknown): string {
  return typeof v === 'number' ? `${v} s` : '';
}

function priority(spec: Json): string {
  const p = isObject(spec['priority']) ? spec['priority'] : {};
  const parts: string[] = [];
  if (p['defaultClass'] !== undefined) parts.push(`default ${code(str(p['defaultClass']))}`);
  const allowed = asArray(p['allowedClasses']).map(str);
  if (allowed.length) parts.push(`allowed ${codes(allowed)}`);
  return parts.join(', ');
}

function requirements(spec: Json): string {
  const r = isObject(spec['requirements']) ? spec['requirements'] : {};
  return ['memoryLimit', 'cpuRequest', 'readinessProbe'].filter((k) => r[k] === true).map(code).join(', ');
}

export function namespacePoliciesTable(files: readonly PolicyFileEntry[]): string {
  const rows: string[][] = [];
  for (const f of files) {
    for (const d of docsOf(f).filter((x) => x.kind === 'NamespacePolicy')) {
      const s = d.spec;
      const startup = isObject(s['startupProbe']) ? seconds(s['startupProbe']['minBudgetSeconds']) : '';
      rows.push(s['exempt'] === true
        ? [code(d.name), code(f.file), governs(s), 'exempt: neither validated nor mutated', '', '', '', '', '']
        : [code(d.name), code(f.file), governs(s), code(str(s['mode'] ?? 'enforce')), accelerators(s), startup,
          seconds(s['terminationGracePeriodSeconds']), priority(s), requirements(s)]);
    }
  }
  return table(['policy', 'file', 'governs', 'mode', 'accelerators', 'start-up budget', 'grace', 'priority', 'requirements'], rows);
}

/** The built-in accelerator resources and the share/monitoring resources that never count (vendors.ts). */
export function vendorsTable(): string {
  const not = new Map(NOT_ACCELERATORS.map((v) => [v.vendor.replace(/ \(HAMi\)$/, ''), v.names] as const));
  return table(['vendor', 'accelerator resources', 'never accelerators'], ACCELERATOR_VENDORS.map((v) => [v.vendor, codes(v.names), codes(not.get(v.vendor) ?? [])]));
}

/** Every generated section by the name its markers carry (`<!-- generated:<name> -->`). */
export function generatedSections(input: DocsInput): Record<string, string> {
  return {
    rules: rulesTable(input.rules),
    mutations: mutationsTable(input.mutators),
    kinds: kindsTable(input.kinds),
    'policy-files': policyFilesTable(input.policyFiles),
    pools: poolsTable(input.policyFiles),
    'namespace-policies': namespacePoliciesTable(input.policyFiles),
    vendors: vendorsTable(),
  };
}

const MARKER = /<!-- generated:([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/generated:\1 -->/g;

/** The generated sections of a markdown text, by name, as they are written now. */
export function currentSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(MARKER)) out.set(m[1] as string, (m[2] as string).replace(/\n$/, ''));
  return out;
}

/**
 * Replaces the content between each pair of markers with its section. Throws on a marker whose
 * name has no section, or an opening marker without its closing one.
 */
export function replaceSections(text: string, sections: Record<string, string>, file = 'the document'): string {
  const opened = [...text.matchAll(/<!-- generated:([a-z0-9-]+) -->/g)].map((m) => m[1] as string);
  const closed = new Set([...text.matchAll(MARKER)].map((m) => m[1] as string));
  for (const name of opened) {
    if (!(name in sections)) throw new Error(`${file}: unknown generated section "${name}" (known: ${Object.keys(sections).join(', ')})`);
    if (!closed.has(name)) throw new Error(`${file}: <!-- generated:${name} --> has no matching <!-- /generated:${name} -->`);
  }
  return text.replace(MARKER, (_all, name: string) => `<!-- generated:${name} -->\n${sections[name] as string}\n<!-- /generated:${name} -->`);
}
