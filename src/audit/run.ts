import { createRequest, simulate, type SimulatedVerdict } from '../admission/simulate.js';
import { EXCLUDED_NAMESPACES, EXCLUDED_REASON } from '../admission/exclusions.js';
import { groupOf, workloadKind } from '../workload/kinds.js';
import { ClusterCache } from '../cluster/cache.js';
import type { Engine } from '../engine/engine.js';
import type { PatchOperation } from '../engine/types.js';
import type { Finding, MutationNote } from '../engine/types.js';
import { findPodSpecs, handlesKind } from '../workload/pod-spec.js';
import { findPodShapes } from '../workload/structural.js';
import { UNKNOWN_KIND_RULE } from '../engine/unknown-kinds.js';
import type { SourceObject } from './input.js';
import { describePatch } from './diff.js';
import { budgetsOf, checkBudget } from './budgets.js';

/** `excluded`: in a namespace the webhook configurations never send (src/admission/exclusions.ts). */
export type AuditVerdict = SimulatedVerdict | 'excluded';

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
  /** Per Pod template: the patch the mutating webhook would apply to each Pod created from it. */
  podPatches: PodPatch[];
  assumptions: string[];
}

export interface PodPatch {
  /** Path of the template in the object (`spec.template`). */
  template: string;
  /** JSON Patch on the Pod (`/spec/...`). */
  patch: PatchOperation[];
  /** The patch as a readable diff of the Pod's fields. */
  diff: string[];
}

export interface AuditSummary {
  objects: number;
  denied: number;
  warned: number;
  allowed: number;
  skipped: number;
  /** In a namespace the webhook never sees: not judged. */
  excluded: number;
  /** Of an unknown kind that requests accelerators: reported (rule unknown-kind), not judged. */
  unjudged: number;
}

const out = (f: Finding): AuditFinding => ({ ruleId: f.ruleId, path: f.path, message: f.message, fix: f.fix });

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Context the input itself provides, as a cluster would: Namespace labels (for label-selected
 * policies), ResourceClaimTemplates and ResourceClaims (the device classes of claims), DeviceClasses.
 */
export function contextOf(objects: SourceObject[], defaultNamespace?: string): ClusterCache {
  const cache = new ClusterCache();
  for (const src of objects) {
    // Claims and claim templates without a namespace land in the default one, as the workloads do.
    const object = defaultNamespace ? inNamespace(src.object, defaultNamespace) : src.object;
    if (object['apiVersion'] === 'v1' && object['kind'] === 'Namespace') cache.namespace('add', object as never);
    if (groupOf(str(object['apiVersion'])) === 'resource.k8s.io') {
      if (object['kind'] === 'ResourceClaimTemplate') cache.claimTemplate('add', object as never);
      if (object['kind'] === 'ResourceClaim') cache.claim('add', object as never);
      if (object['kind'] === 'DeviceClass') cache.deviceClass('add', object as never);
    }
  }
  return cache;
}

function inNamespace(object: Record<string, unknown>, namespace: string): Record<string, unknown> {
  const meta = (object['metadata'] ?? {}) as Record<string, unknown>;
  return typeof meta['namespace'] === 'string' && meta['namespace'] ? object : { ...object, metadata: { ...meta, namespace } };
}

/**
 * The controller a template's Pods name as their owner (a Deployment's Pods belong to its
 * ReplicaSet, a CronJob's to its Job); any other kind owns its Pods itself.
 */
const POD_OWNER: Record<string, string> = { 'apps/Deployment': 'ReplicaSet', 'batch/CronJob': 'Job' };

/**
 * What the mutating webhook would patch on each Pod created from the object's templates (after
 * the object's own patch, if templates are patched): the Pod a controller creates carries the
 * template's metadata and spec and is owned by the controller. Virtual and partial specs are left
 * out (their Pods are assembled elsewhere); so are templates whose Pods receive nothing.
 */
function podPatchesOf(engine: Engine, object: Record<string, unknown>, namespace: string): PodPatch[] {
  const apiVersion = str(object['apiVersion']);
  const kind = str(object['kind']);
  const gk = { group: groupOf(apiVersion), kind };
  const name = str((object['metadata'] as { name?: unknown } | undefined)?.name) || 'template';
  const owner = { apiVersion, kind: POD_OWNER[`${gk.group}/${kind}`] ?? kind, name, uid: '', controller: true };
  const out: PodPatch[] = [];
  for (const t of findPodSpecs(gk, object)) {
    if (!t.isTemplate || t.virtual || t.partial) continue;
    const metadata = { ...(t.metadata ?? {}), namespace, ownerReferences: [owner] };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata, spec: t.spec };
    const m = engine.mutate({ kind: { group: '', kind: 'Pod' }, operation: 'CREATE', namespace, object: pod });
    if (m.patch.length > 0) out.push({ template: t.path.replace(/\.spec$/, ''), patch: m.patch, diff: describePatch(pod, m.patch) });
  }
  return out;
}

/** Simulates the admission chain on CREATE: mutation, then validation of the mutated object. */
export function auditObject(engine: Engine, src: SourceObject, defaultNamespace: string, excluded: readonly string[] = EXCLUDED_NAMESPACES): AuditResult {
  const o = src.object;
  const meta = (o['metadata'] ?? {}) as { name?: unknown; generateName?: unknown; namespace?: unknown };
  const apiVersion = str(o['apiVersion']);
  const kind = str(o['kind']);
  // Cluster-scoped objects reach the webhook with an empty namespace.
  const namespace = workloadKind({ group: groupOf(apiVersion), kind })?.scope === 'Cluster' ? '' : str(meta.namespace) || defaultNamespace;
  const base: AuditResult = {
    file: src.file, line: src.line, document: src.index, apiVersion, kind, namespace,
    name: str(meta.name) || str(meta.generateName), policy: undefined, mode: undefined, verdict: 'skipped',
    violations: [], warnings: [], recorded: [], mutations: [], patch: [], diff: [], podPatches: [], assumptions: [],
  };
  // The namespaceSelector of the webhook configurations does not apply to cluster-scoped objects.
  const clusterScoped = workloadKind({ group: groupOf(apiVersion), kind })?.scope === 'Cluster';
  if (!clusterScoped && excluded.includes(namespace)) return { ...base, verdict: 'excluded', skipped: EXCLUDED_REASON };
  const request = createRequest(o, namespace);
  const sim = simulate(engine, request);
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
    diff: describePatch(request.object, mutated.patch),
    // A cluster-scoped template's Pods live in the namespaces of the objects that use it: unknown here.
    podPatches: clusterScoped ? [] : podPatchesOf(engine, sim.object as Record<string, unknown>, namespace),
    assumptions: [...new Set(mutated.assumptions)],
  };
}

/** Objects that carry Pod specs; the rest of a manifest set is context or out of scope. */
export function isWorkload(src: SourceObject): boolean {
  const gk = { group: groupOf(str(src.object['apiVersion'])), kind: str(src.object['kind']) };
  // Unknown kinds with Pod-shaped parts too: the engine reports those that request accelerators.
  return handlesKind(gk) || findPodShapes(src.object).length > 0;
}

export function summarize(results: AuditResult[]): AuditSummary {
  const s: AuditSummary = { objects: results.length, denied: 0, warned: 0, allowed: 0, skipped: 0, excluded: 0, unjudged: 0 };
  for (const r of results) {
    s[r.verdict] += 1;
    if ([...r.violations, ...r.warnings, ...r.recorded].some((f) => f.ruleId === UNKNOWN_KIND_RULE)) s.unjudged += 1;
  }
  return s;
}

export interface AuditOptions {
  namespace: string;
  /** Namespaces the webhook never sees (default: the shipped webhook configurations' exclusions). */
  excludedNamespaces?: readonly string[];
  onProgress?: (done: number, total: number) => void;
  /** False when the input's PodDisruptionBudgets are unknown: the disruption-budget check is left out. */
  budgets?: boolean;
}

export function audit(engine: Engine, objects: SourceObject[], opts: AuditOptions): AuditResult[] {
  const workloads = objects.filter(isWorkload);
  const budgets = opts.budgets === false ? undefined : budgetsOf(objects, opts.namespace);
  return workloads.map((src, i) => {
    if (opts.onProgress && i % 250 === 0) opts.onProgress(i, workloads.length);
    const r = auditObject(engine, src, opts.namespace, opts.excludedNamespaces);
    return budgets ? withBudgetCheck(engine, src, r, budgets) : r;
  });
}

/**
 * Adds the audit-only disruption-budget finding (src/audit/budgets.ts) to a judged object's
 * result: advisory with `disruption.budgets: warn`, sorted by the policy's mode with `enforce`.
 */
function withBudgetCheck(engine: Engine, src: SourceObject, r: AuditResult, budgets: ReturnType<typeof budgetsOf>): AuditResult {
  if (r.verdict === 'excluded' || r.verdict === 'skipped' || r.namespace === '') return r;
  const check = checkBudget(engine, src.object, r.namespace, budgets);
  if (!check) return r;
  const f = out(check.finding);
  if (r.mode === 'audit') return { ...r, recorded: [...r.recorded, f] };
  if (check.finding.advisory || r.mode === 'warn') return { ...r, warnings: [...r.warnings, f], verdict: r.verdict === 'allowed' ? 'warned' : r.verdict };
  return { ...r, violations: [...r.violations, f], verdict: 'denied' };
}
