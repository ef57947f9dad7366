/**
 * Small builders and assertions shared by the rule tests. Every builder returns a fresh object.
 */
import type { V1Container, V1NodeSelectorRequirement, V1PodSpec } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { Finding, PodAnalysis, Rule, RuleResult } from '../../src/engine/types.js';

export const AFFINITY = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
export const GKE = 'cloud.google.com/gke-accelerator';

type Quantities = Record<string, unknown>;

/** A container with arbitrary (even ill-typed) quantities: webhooks see what users wrote. */
export function withResources(name: string, limits?: Quantities, requests?: Quantities, extra: Partial<V1Container> = {}): V1Container {
  const resources: Record<string, Quantities> = {};
  if (limits) resources['limits'] = limits;
  if (requests) resources['requests'] = requests;
  return { name, image: 'img', resources: resources as V1Container['resources'], ...extra };
}

/** A container whose accelerator is set by limit only (the shape of an undefaulted Pod template). */
export function limitOnly(name: string, amount: unknown, resource = 'nvidia.com/gpu', extra: Partial<V1Container> = {}): V1Container {
  return withResources(name, { [resource]: amount, cpu: '1', memory: '1Gi' }, undefined, extra);
}

export function sidecar(name: string, amount: unknown, resource = 'nvidia.com/gpu'): V1Container {
  return limitOnly(name, amount, resource, { restartPolicy: 'Always' });
}

export function expr(key: string, operator: string, values?: string[]): V1NodeSelectorRequirement {
  return values === undefined ? { key, operator } : { key, operator, values };
}

/** Required node affinity with one term per argument (terms are ORed). */
export function required(...terms: V1NodeSelectorRequirement[][]): V1PodSpec['affinity'] {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })) } } };
}

export function ownedBy(kind: string, controller = true): Record<string, unknown> {
  return { ownerReferences: [{ apiVersion: 'apps/v1', kind, name: 'owner', uid: 'u-1', controller }] };
}

export interface Expected {
  ruleId: string;
  path: string;
  /** Fragments the message must contain. */
  message?: string[];
  /** Fragments the fix must contain. */
  fix?: string[];
}

/** Asserts exactly one finding and that it names the rule, the field, the problem and the fix. */
export function expectOne(findings: Finding[], want: Expected): Finding {
  expect(findings).toHaveLength(1);
  const f = findings[0] as Finding;
  expectFinding(f, want);
  return f;
}

export function expectFinding(f: Finding | undefined, want: Expected): void {
  expect(f).toBeDefined();
  const got = f as Finding;
  expect(got.ruleId).toBe(want.ruleId);
  expect(got.path).toBe(want.path);
  for (const w of want.message ?? []) expect(got.message).toContain(w);
  for (const w of want.fix ?? []) expect(got.fix).toContain(w);
}

/** The findings of a failed rule; none when it passed or skipped. */
export function failures(r: RuleResult): Finding[] {
  return r.status === 'fail' ? r.findings : [];
}

/** The rule looked and found nothing wrong. */
export function expectPass(r: RuleResult): void {
  expect(r).toEqual({ status: 'pass' });
}

/** The rule did not apply; `reason` fragments must appear in its reason. */
export function expectSkip(r: RuleResult, ...reason: string[]): void {
  expect(r.status, `expected a skip, got ${JSON.stringify(r)}`).toBe('skip');
  for (const w of reason) expect((r as { reason: string }).reason).toContain(w);
}

/**
 * A skip row and its twin without the skip reason: the rule must skip the first and fail the
 * second, so a guard that is removed or that stops mattering is caught.
 */
export function expectSkipGuard(rule: Rule, skipped: PodAnalysis, withoutReason: PodAnalysis): void {
  expectSkip(rule.check(skipped));
  const r = rule.check(withoutReason);
  expect(r.status, `without the skip reason ${rule.id} must fail, got ${JSON.stringify(r)}`).toBe('fail');
}

/** The same analysis with the Pod spec marked partial (selection and tolerations live elsewhere). */
export function partial(a: PodAnalysis): PodAnalysis {
  return { ...a, target: { ...a.target, partial: true } };
}
