import { createRequest, simulate, type SimulatedVerdict } from '../admission/simulate.js';
import { groupOf } from '../workload/kinds.js';
import { ClusterCache } from '../cluster/cache.js';
import type { Engine } from '../engine/engine.js';
import type { PatchOperation } from '../engine/types.js';
import type { Finding, MutationNote } from '../engine/types.js';
import { handlesKind } from '../workload/pod-spec.js';
import type { SourceObject } from './input.js';
import { describePatch } from './diff.js';

export type AuditVerdict = SimulatedVerdict;

export interface AuditFinding {
  ruleId: string;
  path: string;
  message: string;
  fix: string;
}

/** What the webhook would do with one object: the stable shape of json/yaml output. */
export interface AuditResult {
  file: string;
  line: number;
  document: number;
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  policy?: string;
  mode?: string;
  verdict: AuditVerdict;
  skipped?: string;
  violations: AuditFinding[];
  warnings: AuditFinding[];
  /** Findings of an audit-mode policy: recorded, never enforced. */
  recorded: AuditFinding[];
  mutations: MutationNote[];
  patch: PatchOperation[];
  /** The patch as a readable diff of the affected fields. */
  diff: string[];
  assumptions: string[];
}

export interface AuditSummary {
  objects: number;
  denied: number;
  warned: number;
  allowed: number;
  skipped: number;
}

const out = (f: Finding): AuditFinding => ({ ruleId: f.ruleId, path: f.path, message: f.message, fix: f.fix });

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Context the input itself provides, as a cluster would: Namespace labels (for label-selected
 * policies) and ResourceClaimTemplates (the device classes of claims).
 */
export function contextOf(objects: SourceObject[]): ClusterCache {
  const cache = new ClusterCache();
  for (const { object } of objects) {
    if (object['apiVersion'] === 'v1' && object['kind'] === 'Namespace') cache.namespace('add', object as never);
    if (groupOf(str(object['apiVersion'])) === 'resource.k8s.io' && object['kind'] === 'ResourceClaimTemplate') cache.claimTemplate('add', object as never);
  }
  return cache;
}

/** Simulates the admission chain on CREATE: mutation, then validation of the mutated object. */
export function auditObject(engine: Engine, src: SourceObject, defaultNamespace: string): AuditResult {
  const o = src.object;
  const meta = (o['metadata'] ?? {}) as { name?: unknown; generateName?: unknown; namespace?: unknown };
  const apiVersion = str(o['apiVersion']);
  const kind = str(o['kind']);
  const namespace = str(meta.namespace) || defaultNamespace;
  const base: AuditResult = {
    file: src.file, line: src.line, document: src.index, apiVersion, kind, namespace,
    name: str(meta.name) || str(meta.generateName), policy: undefined, mode: undefined, verdict: 'skipped',
    violations: [], warnings: [], recorded: [], mutations: [], patch: [], diff: [], assumptions: [],
  };
  const sim = simulate(engine, createRequest(o, namespace));
  const { mutated, validated } = sim;
  if (!validated) return { ...base, skipped: sim.skipped, policy: mutated.policy?.name, mode: mutated.policy?.mode };
  return {
    ...base,
    policy: validated.policy?.name,
    mode: validated.policy?.mode,
    verdict: sim.verdict,
    violations: validated.denials.map(out),
    warnings: sim.warnings.map(out),
    recorded: validated.recorded.map(out),
    mutations: mutated.notes,
    patch: mutated.patch,
    diff: describePatch(o, mutated.patch),
    assumptions: [...new Set(mutated.assumptions)],
  };
}

/** Objects that carry Pod specs; the rest of a manifest set is context or out of scope. */
export function isWorkload(src: SourceObject): boolean {
  return handlesKind({ group: groupOf(str(src.object['apiVersion'])), kind: str(src.object['kind']) });
}

export function summarize(results: AuditResult[]): AuditSummary {
  const s: AuditSummary = { objects: results.length, denied: 0, warned: 0, allowed: 0, skipped: 0 };
  for (const r of results) s[r.verdict] += 1;
  return s;
}

export interface AuditOptions {
  namespace: string;
  onProgress?: (done: number, total: number) => void;
}

export function audit(engine: Engine, objects: SourceObject[], opts: AuditOptions): AuditResult[] {
  const workloads = objects.filter(isWorkload);
  return workloads.map((src, i) => {
    if (opts.onProgress && i % 250 === 0) opts.onProgress(i, workloads.length);
    return auditObject(engine, src, opts.namespace);
  });
}
