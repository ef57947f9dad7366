/**
 * `gpu-admission policy test`: PolicyTest cases run through the webhook's engine exactly as
 * `gpu-admission audit` runs manifests (mutation, then validation of the mutated object), and the
 * outcome compared with what the case expects. Pure: parsed documents in, outcomes out.
 */
import { Ajv } from 'ajv';
import type { SourceObject } from '../audit/input.js';
import { createRequest, type Simulation, simulate } from '../admission/simulate.js';
import { ClusterCache } from '../cluster/cache.js';
import { engineFor } from '../engine/build.js';
import { type PolicyTestDoc, policyTestSchema } from '../policy/test-schema.js';
import type { PolicySet } from '../policy/types.js';
import { formatAjvError } from '../util/ajv-errors.js';

export interface LoadedTest {
  file: string;
  line: number;
  name: string;
  doc: PolicyTestDoc;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(policyTestSchema);

/** Validates every document as a PolicyTest; problems name the file, line and field. */
export function parsePolicyTests(objects: SourceObject[]): { tests: LoadedTest[]; problems: string[] } {
  const tests: LoadedTest[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const src of objects) {
    const where = `${src.file}:${src.line}`;
    if (src.object['kind'] !== 'PolicyTest') {
      problems.push(`${where}: kind must be PolicyTest, got ${JSON.stringify(src.object['kind'])}`);
      continue;
    }
    if (!validate(src.object)) {
      for (const e of validate.errors ?? []) problems.push(`${where}: ${formatAjvError(e)}`);
      continue;
    }
    const doc = src.object as unknown as PolicyTestDoc;
    const ns = (doc.spec.object['metadata'] as { namespace?: unknown } | undefined)?.namespace;
    if (ns !== undefined && ns !== doc.spec.namespace) {
      problems.push(`${where}: spec.object.metadata.namespace (${String(ns)}) differs from spec.namespace (${doc.spec.namespace}): remove it from the object`);
      continue;
    }
    const name = doc.metadata.name;
    const before = seen.get(name);
    if (before) problems.push(`${where}: PolicyTest "${name}" is also defined at ${before}`);
    seen.set(name, where);
    tests.push({ file: src.file, line: src.line, name, doc });
  }
  return { tests, problems };
}

export interface TestOutcome {
  test: LoadedTest;
  passed: boolean;
  failures: string[];
  result: Simulation;
}

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

function compareSets(what: string, expected: string[] | undefined, actual: string[]): string[] {
  if (!expected) return [];
  const missing = sorted(expected).filter((x) => !actual.includes(x));
  const extra = actual.filter((x) => !expected.includes(x));
  if (missing.length === 0 && extra.length === 0) return [];
  return [`${what}: expected [${sorted(expected).join(', ')}], got [${actual.join(', ')}]` +
    `${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}${extra.length > 0 ? `; unexpected ${extra.join(', ')}` : ''}`];
}

export function runPolicyTest(set: PolicySet, t: LoadedTest): TestOutcome {
  const { spec } = t.doc;
  const cache = new ClusterCache();
  cache.namespace('add', { metadata: { name: spec.namespace, labels: { ...(spec.namespaceLabels ?? {}) } } });
  const object = structuredClone(spec.object);
  object['metadata'] = { ...((object['metadata'] as Record<string, unknown> | undefined) ?? {}), namespace: spec.namespace };
  const result = simulate(engineFor(set, [], cache), createRequest(object, spec.namespace));
  const findings = [...(result.validated?.denials ?? []), ...result.warnings, ...(result.validated?.recorded ?? [])];
  const rules = sorted(findings.map((f) => f.ruleId));
  const mutations = sorted(result.mutated.notes.map((m) => m.mutator));
  const failures: string[] = [];
  if (result.verdict !== spec.expect.verdict) failures.push(`verdict: expected ${spec.expect.verdict}, got ${result.verdict}${result.skipped ? ` (${result.skipped})` : ''}`);
  if (spec.expect.policy !== undefined && result.policy !== spec.expect.policy) failures.push(`policy: expected ${spec.expect.policy}, got ${result.policy ?? 'none'}`);
  failures.push(...compareSets('rules', spec.expect.rules, rules), ...compareSets('mutations', spec.expect.mutations, mutations));
  return { test: t, passed: failures.length === 0, failures, result };
}

function details(r: Simulation): string[] {
  return [
    ...(r.validated?.denials ?? []).map((f) => `      x [${f.ruleId}] ${f.path}: ${f.message}`),
    ...r.warnings.map((f) => `      ! [${f.ruleId}] ${f.path}: ${f.message}`),
    ...(r.validated?.recorded ?? []).map((f) => `      ~ [${f.ruleId}] ${f.path}: ${f.message}`),
    ...r.mutated.notes.map((m) => `      + [${m.mutator}] ${m.path}: ${m.description}`),
  ];
}

/** One line per test, the differences and the actual findings under each failure, and a summary. */
export function renderOutcomes(outcomes: TestOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    lines.push(`${o.passed ? 'PASS' : 'FAIL'} ${o.test.name}  (${o.test.file}:${o.test.line})`);
    if (!o.passed) lines.push(...o.failures.map((f) => `    ${f}`), ...details(o.result));
  }
  const failed = outcomes.filter((o) => !o.passed).length;
  lines.push('', `${outcomes.length} test${outcomes.length === 1 ? '' : 's'}: ${outcomes.length - failed} passed, ${failed} failed`);
  return `${lines.join('\n')}\n`;
}
