/**
 * Scoring corpus: manifests in the shapes the AI ecosystem documents (test/fixtures/ecosystem/,
 * one object per file), each annotated with the verdict a platform engineer expects under the
 * shipped policies/:
 *
 *   metadata.annotations:
 *     test.gpu-admission.io/namespace: <ns>          the namespace it is applied in ("" = cluster-scoped)
 *     test.gpu-admission.io/expect: allowed|warned|denied|excluded|not-judged
 *       (not-judged: skipped, or only reported as an unknown kind; expect-rules unknown-kind tells
 *        a report from silence)
 *     test.gpu-admission.io/expect-rules: a,b        rule ids that must be among the findings (optional)
 *     test.gpu-admission.io/why: ...                 the reason, for the reader (optional)
 *
 * The audit engine (admission/simulate through audit/run auditObject) judges every file. The test
 * prints precision and recall of deny and warn per kind (the full table with SCORE=1, `npm run score`)
 * and asserts that every verdict is right, except the ones listed in KNOWN_WRONG with their cause.
 * A known-wrong manifest that starts passing fails the test too: move it out of the set.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, type SourceObject } from '../../src/audit/input.js';
import { auditObject, contextOf, type AuditResult } from '../../src/audit/run.js';
import { engineFor } from '../../src/engine/build.js';
import { loadPolicyDir } from '../../src/server/policy-files.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIR = join(ROOT, 'test/fixtures/ecosystem');
const POLICIES = join(ROOT, 'policies');
const A = 'test.gpu-admission.io/';

const EXPECTATIONS = ['allowed', 'warned', 'denied', 'excluded', 'not-judged'] as const;
type Expectation = (typeof EXPECTATIONS)[number];

/**
 * Manifests whose verdict is wrong today, with the cause. Remove an entry as soon as its fix lands
 * (the test fails until you do).
 */
const KNOWN_WRONG: Record<string, string> = {
};

interface Case {
  file: string;
  kind: string;
  namespace: string;
  expect: Expectation;
  rules: string[];
  why: string;
  source: SourceObject;
}

interface Outcome {
  verdict: string;
  rules: string[];
  detail: string;
}

function loadCases(): Case[] {
  return readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort().map((file) => {
    const docs = parseManifests(file, readFileSync(join(DIR, file), 'utf8'));
    if (docs.length !== 1) throw new Error(`${file}: one object per file (found ${docs.length})`);
    const source = docs[0]!;
    const meta = (source.object['metadata'] ?? {}) as { annotations?: Record<string, string> };
    const ann = meta.annotations ?? {};
    const expectation = ann[`${A}expect`] as Expectation;
    if (!EXPECTATIONS.includes(expectation)) throw new Error(`${file}: ${A}expect must be one of ${EXPECTATIONS.join(', ')}`);
    if (ann[`${A}namespace`] === undefined) throw new Error(`${file}: ${A}namespace is missing`);
    return {
      file,
      kind: String(source.object['kind']),
      namespace: ann[`${A}namespace`]!,
      expect: expectation,
      rules: (ann[`${A}expect-rules`] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      why: ann[`${A}why`] ?? '',
      source,
    };
  });
}

/** The audit's answer in the vocabulary of the expectations. */
function outcomeOf(r: AuditResult): Outcome {
  let verdict: string = r.verdict;
  if (r.verdict === 'skipped') verdict = /exempt|exclud/i.test(r.skipped ?? '') ? 'excluded' : 'not-judged';
  // An unknown kind that requests accelerators is reported, not judged: its only findings say so.
  const reportOnly = r.violations.length === 0 && r.warnings.length > 0 && r.warnings.every((f) => f.ruleId === 'unknown-kind');
  if (reportOnly) verdict = 'not-judged';
  const findings = verdict === 'denied' ? r.violations : [...r.warnings, ...r.recorded];
  const lines = [
    ...r.violations.map((f) => `deny ${f.ruleId} ${f.path}: ${f.message}`),
    ...r.warnings.map((f) => `warn ${f.ruleId} ${f.path}: ${f.message}`),
    ...r.recorded.map((f) => `record ${f.ruleId} ${f.path}: ${f.message}`),
    ...(r.skipped ? [`skipped: ${r.skipped}`] : []),
    ...r.diff.map((d) => `patch ${d}`),
  ];
  return { verdict, rules: [...new Set(findings.map((f) => f.ruleId))], detail: lines.join('\n') };
}

const right = (c: Case, o: Outcome): boolean => o.verdict === c.expect && c.rules.every((id) => o.rules.includes(id));

interface Counts { n: number; correct: number; denyTp: number; denyGot: number; denyWant: number; warnTp: number; warnGot: number; warnWant: number }

function count(rows: Array<[Case, Outcome]>): Counts {
  const k: Counts = { n: 0, correct: 0, denyTp: 0, denyGot: 0, denyWant: 0, warnTp: 0, warnGot: 0, warnWant: 0 };
  for (const [c, o] of rows) {
    k.n += 1;
    if (right(c, o)) k.correct += 1;
    if (o.verdict === 'denied') k.denyGot += 1;
    if (c.expect === 'denied') k.denyWant += 1;
    if (o.verdict === 'denied' && c.expect === 'denied') k.denyTp += 1;
    if (o.verdict === 'warned') k.warnGot += 1;
    if (c.expect === 'warned') k.warnWant += 1;
    if (o.verdict === 'warned' && c.expect === 'warned') k.warnTp += 1;
  }
  return k;
}

const ratio = (a: number, b: number): string => (b === 0 ? '–' : `${Math.round((100 * a) / b)} %`);

/** A Markdown table: per kind and overall, precision and recall of deny and warn. */
function scoreTable(rows: Array<[Case, Outcome]>): string {
  const kinds = [...new Set(rows.map(([c]) => c.kind))].sort();
  const line = (name: string, k: Counts): string =>
    `| ${name} | ${k.n} | ${k.correct} | ${ratio(k.denyTp, k.denyGot)} | ${ratio(k.denyTp, k.denyWant)} | ${ratio(k.warnTp, k.warnGot)} | ${ratio(k.warnTp, k.warnWant)} |`;
  return [
    '| kind | manifests | right | deny precision | deny recall | warn precision | warn recall |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...kinds.map((kind) => line(kind, count(rows.filter(([c]) => c.kind === kind)))),
    line('**all**', count(rows)),
  ].join('\n');
}

describe('ecosystem scoring corpus', () => {
  const cases = loadCases();
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    const engine = engineFor(await loadPolicyDir(POLICIES), [], contextOf(cases.map((c) => c.source)));
    for (const c of cases) outcomes.set(c.file, outcomeOf(auditObject(engine, c.source, c.namespace)));
    const rows = cases.map((c): [Case, Outcome] => [c, outcomes.get(c.file)!]);
    const wrong = rows.filter(([c, o]) => !right(c, o));
    const total = count(rows);
    const summary = `ecosystem corpus: ${total.correct}/${total.n} verdicts right, ${wrong.length} wrong (${Object.keys(KNOWN_WRONG).length} known)`;
    if (process.env['SCORE']) {
      const list = wrong.map(([c, o]) => `- ${c.file}: expected ${c.expect}${c.rules.length ? ` (${c.rules.join(', ')})` : ''}, got ${o.verdict}${o.rules.length ? ` (${o.rules.join(', ')})` : ''}`);
      process.stdout.write(`\n${scoreTable(rows)}\n\n${summary}\n${list.join('\n')}\n\n`);
      if (process.env['SCORE'] === 'verbose') for (const [c, o] of rows) process.stdout.write(`=== ${c.file}: expected ${c.expect}, got ${o.verdict}\n${o.detail}\n`);
    } else {
      process.stdout.write(`${summary}\n`);
    }
  });

  it('has at least 45 manifests, each expectation well-formed', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    for (const c of cases) expect(EXPECTATIONS, c.file).toContain(c.expect);
  });

  it('lists only existing manifests as known wrong', () => {
    const files = new Set(cases.map((c) => c.file));
    expect(Object.keys(KNOWN_WRONG).filter((f) => !files.has(f)), 'KNOWN_WRONG names files that are not in the corpus').toEqual([]);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const o = outcomes.get(c.file)!;
    const got = { verdict: o.verdict, rules: c.rules.filter((id) => o.rules.includes(id)) };
    const want = { verdict: c.expect, rules: c.rules };
    const known = KNOWN_WRONG[c.file];
    if (known !== undefined) {
      expect(right(c, o), `${c.file} now gives the expected verdict (${c.expect}): remove it from KNOWN_WRONG ("${known}")`).toBe(false);
    } else {
      expect(got, `${c.file} in ${c.namespace || '(cluster scope)'}${c.why ? ` — ${c.why}` : ''}\n${o.detail}`).toEqual(want);
    }
  });
});
