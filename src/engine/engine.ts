import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { NamespacePolicy } from '../policy/types.js';
import type { PolicyResolver } from '../policy/resolve.js';
import { findPodSpecs, type GroupKind } from '../workload/pod-spec.js';
import { checkPodSpecShape } from '../workload/shape.js';
import { analyse } from './analyse.js';
import { mutatePod, type PatchOperation, validatePod } from './evaluate.js';
import type { EngineConfig, Finding, MutationNote, PodAnalysis } from './types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What the engine needs of a review; the same shape the audit builds from manifests. */
export interface EngineRequest {
  kind: GroupKind;
  operation: Operation;
  namespace: string;
  name?: string;
  subResource?: string;
  object?: unknown;
  oldObject?: unknown;
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
}

const empty = (skipped: string, policy?: NamespacePolicy): Verdict => ({ skipped, policy, denials: [], warnings: [], recorded: [], patch: [], notes: [] });

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

export class Engine {
  constructor(readonly resolver: PolicyResolver, readonly config: EngineConfig) {}

  private prepare(req: EngineRequest): { verdict: Verdict; analyses: PodAnalysis[]; shape: Finding[] } | Verdict {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return empty(`operation ${req.operation} is not checked`);
    if (req.subResource) return empty(`subresource ${req.subResource} is not checked`);
    const targets = findPodSpecs(req.kind, req.object);
    if (targets.length === 0) return empty(`${req.kind.kind} carries no Pod spec`);
    const policy = this.resolver.resolve(req.namespace);
    if (!policy) return empty(`no NamespacePolicy governs namespace ${req.namespace} and none is the default`);
    if (policy.exempt) return empty(`namespace ${req.namespace} is exempt (policy ${policy.name})`, policy);
    const meta = (req.object as { metadata?: V1ObjectMeta }).metadata;
    const verdict = empty('', policy);
    delete verdict.skipped;
    const shape: Finding[] = [];
    const analyses: PodAnalysis[] = [];
    for (const target of targets) {
      const bad = checkPodSpecShape(target.spec, target.path);
      if (bad) {
        shape.push({ ruleId: SHAPE_RULE, path: bad.path, message: `${bad.message}`, fix: 'correct the field to the type the Kubernetes API defines' });
        continue;
      }
      analyses.push(analyse({ target, namespace: req.namespace, objectMeta: meta, policy, config: this.config }));
    }
    return { verdict, analyses, shape };
  }

  /** Mutating admission: patches (CREATE only) and the warnings mutators raise. */
  mutate(req: EngineRequest): Verdict {
    const prepared = this.prepare(req);
    if (!('analyses' in prepared)) return prepared;
    const { verdict, analyses, shape } = prepared;
    verdict.warnings.push(...shape.map((f) => ({ ...f, advisory: true })));
    if (req.operation !== 'CREATE') return verdict;
    for (const a of analyses) {
      const m = mutatePod(a);
      verdict.warnings.push(...m.warnings);
      verdict.notes.push(...m.notes);
      if (verdict.policy?.mode !== 'audit') verdict.patch.push(...m.patch);
    }
    return verdict;
  }

  /** Validating admission. On UPDATE only findings the old object did not already have count. */
  validate(req: EngineRequest): Verdict {
    const prepared = this.prepare(req);
    if (!('analyses' in prepared)) return prepared;
    const { verdict, analyses, shape } = prepared;
    let findings = [...shape, ...analyses.flatMap((a) => validatePod(a))];
    if (req.operation === 'UPDATE' && req.oldObject !== undefined && req.oldObject !== null) {
      const before = this.prepare({ ...req, object: req.oldObject, operation: 'CREATE' });
      if ('analyses' in before) {
        const old = new Set([...before.shape, ...before.analyses.flatMap((a) => validatePod(a))].map(key));
        findings = findings.filter((f) => !old.has(key(f)));
      }
    }
    sortByMode(verdict, findings, verdict.policy as NamespacePolicy);
    return verdict;
  }
}
