import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { NamespacePolicy } from '../policy/types.js';
import type { PolicyResolver } from '../policy/resolve.js';
import { valueAt } from '../util/pointer.js';
import { findPodSpecs, type GroupKind } from '../workload/pod-spec.js';
import { workloadKind } from '../workload/kinds.js';
import { clusterScopePolicy } from '../policy/cluster-scope.js';
import { unknownKindFindings } from './unknown-kinds.js';
import { RULE_IDS } from '../rules/index.js';
import { withoutNulls } from '../util/nulls.js';
import { checkPodSpecShape } from '../workload/shape.js';
import type { PodSpecTarget } from '../workload/target.js';
import { analyse } from './analyse.js';
import { mutatePod, mutateWorkload, validatePod, validateWorkload } from './evaluate.js';
import { type PatchOperation } from './types.js';
import { templateFindings } from './templates.js';
import { checkNamespaceLabels } from './namespace-labels.js';
import { ReviewBudget } from './budget.js';
import type { EngineConfig, Finding, MutationNote, PodAnalysis, RequestUser, WorkloadAnalysis } from './types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/**
 * The shape check, with struct fields written as `null` read as left out (the API server decodes
 * them to zero values and never sends them; files and hand-made reviews may carry them). The copy
 * without nulls is made only when the spec as given fails: nothing extra on the usual path.
 */
function shapeChecked(target: PodSpecTarget): { target: PodSpecTarget; bad?: ReturnType<typeof checkPodSpecShape> } {
  const bad = checkPodSpecShape(target.spec, target.path);
  if (!bad) return { target };
  const spec = withoutNulls(target.spec);
  if (spec === target.spec) return { target, bad };
  const retried = { ...target, spec };
  return { target: retried, bad: checkPodSpecShape(spec, target.path) };
}

/** What the engine needs of a review; the same shape the audit builds from manifests. */
export interface EngineRequest {
  kind: GroupKind;
  operation: Operation;
  namespace: string;
  name?: string;
  subResource?: string;
  object?: unknown;
  oldObject?: unknown;
  /** The requester, from AdmissionReview userInfo. */
  userInfo?: RequestUser;
}

export interface Verdict {
  policy?: NamespacePolicy;
  /** Why nothing was evaluated, when nothing was. */
  skipped?: string;
  denials: Finding[];
  warnings: Finding[];
  /** Findings of an `audit`-mode policy: recorded, never shown to the client. */
  recorded: Finding[];
  patch: PatchOperation[];
  notes: MutationNote[];
  /** What the engine assumed for lack of a cluster view (e.g. a resource claim's device class). */
  assumptions: string[];
  /** The review was over the work budget (engine/budget.ts): the field that cost the most. */
  overBudget?: string;
}

const empty = (skipped: string, policy?: NamespacePolicy): Verdict =>
  ({ skipped, policy, denials: [], warnings: [], recorded: [], patch: [], notes: [], assumptions: [] });

export const SHAPE_RULE = 'pod-spec-shape';

/** Sorts findings into denials / warnings / recorded by the policy's mode. */
function sortByMode(v: Verdict, findings: Finding[], policy: NamespacePolicy): void {
  for (const f of findings) {
    if (policy.mode === 'audit') v.recorded.push(f);
    else if (f.advisory || policy.mode === 'warn') v.warnings.push(f);
    else v.denials.push(f);
  }
}

const key = (f: Finding): string => `${f.ruleId}\u0000${f.path}\u0000${f.message}`;

interface Prepared {
  verdict: Verdict;
  /** The Pod specs judged: on UPDATE, only the templates that changed. */
  analyses: PodAnalysis[];
  /** The whole object, with every Pod spec it carries. */
  workload: WorkloadAnalysis;
  /** UPDATE that changed no Pod template: only the workload's own rules and mutators run. */
  unchangedTemplates: boolean;
  shape: Finding[];
  /** Set when the review is over the work budget: nothing was analysed after it. */
  tooComplex?: Finding;
}

export class Engine {
  private clusterPolicy?: NamespacePolicy;

  constructor(readonly resolver: PolicyResolver, readonly config: EngineConfig) {}

  /**
   * Cluster-scoped kinds reach the webhook with an empty namespace: no namespace's policy governs
   * them, the default policy's clusterScope setting does (policy/cluster-scope.ts).
   */
  private policyFor(req: EngineRequest): NamespacePolicy | undefined {
    if (req.namespace !== '' || workloadKind(req.kind)?.scope !== 'Cluster') return this.resolver.resolve(req.namespace);
    this.clusterPolicy ??= clusterScopePolicy(this.resolver.set, RULE_IDS);
    return this.clusterPolicy;
  }

  /**
   * An unknown kind (or an embedded object of an unknown kind: a Katib trialSpec) with Pod-shaped
   * parts that request accelerators: reported, never dropped silently. A known kind without a Pod
   * spec (a malformed Pod) is not searched: the API server's schema validation refuses it.
   */
  private unknownKind(req: EngineRequest): Verdict | undefined {
    const kind = workloadKind(req.kind);
    if (kind && !('embedded' in kind.podSpecs)) return undefined;
    const policy = this.resolver.resolve(req.namespace);
    if (!policy || policy.exempt) return undefined;
    const findings = unknownKindFindings(req.kind, req.namespace, req.object, policy, this.config, kind !== undefined);
    if (findings.length === 0) return undefined;
    const verdict = empty('', policy);
    delete verdict.skipped;
    sortByMode(verdict, findings, policy);
    return verdict;
  }

  private prepare(req: EngineRequest): Prepared | Verdict {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return empty(`operation ${req.operation} is not checked`);
    if (req.subResource) return empty(`subresource ${req.subResource} is not checked`);
    const targets = findPodSpecs(req.kind, req.object);
    if (targets.length === 0) return this.unknownKind(req) ?? empty(`${req.kind.kind} carries no Pod spec`);
    // On UPDATE a template is judged only when it changed; the workload's own fields always are.
    const changed = req.operation === 'UPDATE' && req.oldObject
      ? new Set(targets.filter((t) => !t.isTemplate || JSON.stringify(valueAt(req.oldObject, t.pointer)) !== JSON.stringify(valueAt(req.object, t.pointer))))
      : undefined;
    const policy = this.policyFor(req);
    if (!policy) return empty(`no NamespacePolicy governs namespace ${req.namespace} and none is the default`);
    if (policy.exempt) return empty(`namespace ${req.namespace} is exempt (policy ${policy.name})`, policy);
    const meta = (req.object as { metadata?: V1ObjectMeta }).metadata;
    const namespaceLabels = req.namespace === '' ? undefined : this.resolver.namespaceLabels(req.namespace);
    const verdict = empty('', policy);
    delete verdict.skipped;
    const shape: Finding[] = [];
    const budget = new ReviewBudget(this.config);
    const analyses: PodAnalysis[] = [];
    const all: PodAnalysis[] = [];
    const workload: WorkloadAnalysis = {
      kind: `${req.kind.group}/${req.kind.kind}`, operation: req.operation, object: req.object as Record<string, unknown>, meta,
      namespace: req.namespace, policy, config: this.config, pods: all, accelerator: false, userInfo: req.userInfo,
      ...(namespaceLabels ? { namespaceLabels } : {}),
    };
    for (const found of targets) {
      const judged = changed === undefined || changed.has(found);
      const { target, bad } = shapeChecked(found);
      if (bad) {
        if (judged) shape.push({ ruleId: SHAPE_RULE, path: bad.path, message: bad.message, fix: 'correct the field to the type the Kubernetes API defines' });
        continue;
      }
      const tooComplex = budget.charge(target);
      if (tooComplex) {
        verdict.overBudget = tooComplex.path;
        return { verdict, analyses: [], workload, unchangedTemplates: false, shape, tooComplex };
      }
      const a = analyse({
        target, namespace: req.namespace, objectMeta: meta, policy, config: this.config,
        objectKind: workload.kind, userInfo: req.userInfo, ...(namespaceLabels ? { namespaceLabels } : {}),
      });
      all.push(a);
      if (a.acc.isAcceleratorPod) workload.accelerator = true;
      if (!judged) continue;
      verdict.assumptions.push(...assumptionsOf(a));
      analyses.push(a);
    }
    return { verdict, analyses, workload, unchangedTemplates: changed !== undefined && changed.size === 0, shape };
  }

  /** Mutating admission: patches and the warnings mutators raise. */
  mutate(req: EngineRequest): Verdict {
    const prepared = this.prepare(req);
    if (!('analyses' in prepared)) return prepared;
    const { verdict, analyses, shape, tooComplex } = prepared;
    verdict.warnings.push(...shape.map((f) => ({ ...f, advisory: true })));
    // Over the budget: allowed without a patch (validation denies it), with the reason.
    if (tooComplex) {
      verdict.warnings.push({ ...tooComplex, advisory: true });
      return verdict;
    }
    for (const a of analyses) {
      if (!mutable(a, req.operation)) continue;
      const m = mutatePod(a);
      verdict.warnings.push(...m.warnings);
      verdict.notes.push(...m.notes);
      if (verdict.policy?.mode !== 'audit') verdict.patch.push(...m.patch);
    }
    const w = mutateWorkload(prepared.workload);
    verdict.warnings.push(...w.warnings);
    verdict.notes.push(...w.notes);
    if (verdict.policy?.mode !== 'audit') verdict.patch.push(...w.patch);
    if (prepared.unchangedTemplates && verdict.notes.length === 0 && verdict.warnings.length === 0) return empty('no Pod template changed', verdict.policy);
    return verdict;
  }

  /** A Namespace carries no Pod spec: only its labels are judged (engine/namespace-labels.ts). */
  private namespaceLabels(req: EngineRequest): Verdict {
    const r = checkNamespaceLabels({ ...req, policies: this.resolver.set.policies });
    if (r.skipped !== undefined || !r.policy) return empty(r.skipped ?? 'no default policy', r.policy);
    const verdict = empty('', r.policy);
    delete verdict.skipped;
    sortByMode(verdict, r.findings, r.policy);
    return verdict;
  }

  /** Validating admission. On UPDATE only findings the old object did not already have count. */
  validate(req: EngineRequest): Verdict {
    if (req.kind.group === '' && req.kind.kind === 'Namespace' && !req.subResource) return this.namespaceLabels(req);
    const prepared = this.prepare(req);
    if (!('analyses' in prepared)) return prepared;
    const { verdict, analyses, shape, tooComplex } = prepared;
    // Over the budget: judged on that alone, never compared with the old object (whose own
    // analysis would cost as much).
    if (tooComplex) {
      sortByMode(verdict, [...shape, tooComplex], verdict.policy as NamespacePolicy);
      return verdict;
    }
    let findings = allFindings(prepared);
    // The UPDATE that removes a Pod's last scheduling gate is judged in full: a gated Pod skips
    // pool selection and tolerations, so comparing with it would let anything through.
    if (req.operation === 'UPDATE' && req.oldObject !== undefined && req.oldObject !== null && !ungates(req)) {
      const before = this.prepare({ ...req, object: req.oldObject, oldObject: undefined, operation: 'CREATE' });
      if ('analyses' in before) {
        const old = new Set(allFindings(before).map(key));
        findings = findings.filter((f) => !old.has(key(f)));
      }
    }
    if (prepared.unchangedTemplates && findings.length === 0) return empty('no Pod template changed', verdict.policy);
    sortByMode(verdict, findings, verdict.policy as NamespacePolicy);
    return verdict;
  }
}

/** What was counted (or not) without knowing: unlisted resources, claims of unknown class. */
function assumptionsOf(a: PodAnalysis): string[] {
  const path = a.target.path;
  const out = a.acc.assumed.map((r) => `${path}: ${r} counted as an accelerator (not a known accelerator resource, but its name says so)`);
  for (const c of a.acc.unclassified) {
    out.push(c.assumed
      ? `${path}.${c.path}: ${c.kind} ${c.ref} counted as an accelerator (device class unknown without a cluster view that has it)`
      : `${path}.${c.path}: ${c.kind} ${c.ref} not counted as an accelerator (device class unknown${a.policy.accelerators.assumeClaimsAreAccelerators ? ' and no cluster view lists claims' : '; assumeClaimsAreAccelerators is false'})`);
  }
  return out;
}

const gateCount = (o: unknown): number => {
  const gates = (o as { spec?: { schedulingGates?: unknown } } | null)?.spec?.schedulingGates;
  return Array.isArray(gates) ? gates.length : 0;
};

/** A Pod UPDATE that removes the last scheduling gate. */
function ungates(req: EngineRequest): boolean {
  return req.kind.group === '' && req.kind.kind === 'Pod' && gateCount(req.oldObject) > 0 && gateCount(req.object) === 0;
}

/** Pods are mutated on CREATE (their spec is immutable after); templates only when the policy asks. */
function mutable(a: PodAnalysis, operation: Operation): boolean {
  if (a.target.virtual) return false;
  if (!a.target.isTemplate) return operation === 'CREATE';
  return a.policy.mutations.templates;
}

/** What the validating webhook finds: shape, every judged Pod spec, then the whole object. */
function allFindings(p: Prepared): Finding[] {
  const out = [...p.shape];
  for (const a of p.analyses) for (const f of findingsOf(a)) out.push(f);
  for (const f of validateWorkload(p.workload)) out.push(f);
  return out;
}

function findingsOf(a: PodAnalysis): Finding[] {
  const findings = validatePod(a);
  return a.target.isTemplate && !a.policy.mutations.templates ? templateFindings(a, findings) : findings;
}
