import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES, WORKLOAD_RULES } from '../rules/index.js';
import { MUTATORS, WORKLOAD_MUTATORS } from '../mutators/index.js';
import { dumpYaml } from '../util/yaml.js';
import { EXCLUDED_REASON } from '../admission/exclusions.js';
import type { AuditResult, AuditSummary } from './run.js';
import { UNKNOWN_KIND_RULE } from '../engine/unknown-kinds.js';
import { AUDIT_ONLY_RULES } from '../rules/audit-only.js';

export const FORMATS = ['table', 'json', 'yaml', 'junit', 'sarif', 'policyreport'] as const;
export type Format = (typeof FORMATS)[number];

export interface AuditReport {
  apiVersion: 'gpu-admission.io/v1alpha1';
  kind: 'AuditReport';
  policies: string;
  /** Settings the audit used instead of the policy files' own (`--template-patches`). */
  overrides?: string[];
  summary: AuditSummary;
  results: AuditResult[];
}

/** The rule id under which tools see objects of excluded namespaces. */
export const EXCLUDED_RULE = 'namespace-excluded';

const ref = (r: AuditResult): string => `${r.kind} ${r.namespace}/${r.name || '(unnamed)'}`;

// ---- table -------------------------------------------------------------------------------------

const paint = (color: boolean) => (code: number, s: string): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);

export function table(report: AuditReport, color: boolean): string {
  const c = paint(color);
  const lines: string[] = [];
  let file = '';
  for (const r of report.results) {
    if (r.file !== file) {
      file = r.file;
      lines.push('', c(1, file));
    }
    const mark = { denied: c(31, 'DENY'), warned: c(33, 'WARN'), allowed: c(32, 'OK  '), skipped: c(90, 'SKIP'), excluded: c(90, 'EXCL') }[r.verdict];
    const policy = r.policy ? ` policy ${r.policy} (${r.mode})` : '';
    lines.push(`  ${mark} ${ref(r)}  line ${r.line}${policy}${r.skipped ? `: ${r.skipped}` : ''}`);
    for (const f of r.violations) lines.push(`       ${c(31, 'x')} [${f.ruleId}] ${f.path}: ${f.message}`, `         fix: ${f.fix}`);
    for (const f of r.warnings) lines.push(`       ${c(33, '!')} [${f.ruleId}] ${f.path}: ${f.message}`);
    for (const f of r.recorded) lines.push(`       ${c(90, 'a')} [${f.ruleId}] ${f.path}: ${f.message} (audit mode: recorded only)`);
    for (const d of r.diff) lines.push(`       ${c(36, d)}`);
    for (const p of r.podPatches) lines.push(`       Pods of ${p.template} receive:`, ...p.diff.map((d) => `         ${c(36, d)}`));
    for (const a of r.assumptions) lines.push(`       ${c(90, `assumed: ${a}`)}`);
  }
  const s = report.summary;
  for (const x of report.overrides ?? []) lines.push('', `as if: ${x}`);
  lines.push('', `${s.objects} objects: ${c(31, `${s.denied} denied`)}, ${c(33, `${s.warned} warned`)}, ${c(32, `${s.allowed} allowed`)}, ${s.skipped} skipped, ${s.excluded} excluded${s.unjudged > 0 ? `, ${c(33, `${s.unjudged} not judged (unknown kind requesting accelerators)`)}` : ''}`);
  return `${lines.join('\n').replace(/^\n/, '')}\n`;
}

// ---- junit -------------------------------------------------------------------------------------

const xml = (s: string): string => s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] as string)
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function junit(report: AuditReport): string {
  const s = report.summary;
  const cases = report.results.map((r) => {
    const head = `    <testcase classname="${xml(r.file)}" name="${xml(`${ref(r)} (line ${r.line})`)}">`;
    const body: string[] = [];
    if (r.verdict === 'skipped' || r.verdict === 'excluded') body.push(`      <skipped message="${xml(r.skipped ?? 'not checked')}"/>`);
    if (r.violations.length > 0) {
      const text = r.violations.map((f) => `[${f.ruleId}] ${f.path}: ${f.message}. Fix: ${f.fix}`).join('\n');
      body.push(`      <failure message="${xml(`${r.violations.length} violation(s) of policy ${r.policy}`)}" type="denied">${xml(text)}</failure>`);
    }
    const out = [
      ...r.warnings.map((f) => `warning [${f.ruleId}] ${f.path}: ${f.message}`), ...r.diff.map((d) => `patch ${d}`),
      ...r.podPatches.flatMap((p) => p.diff.map((d) => `pod patch (${p.template}) ${d}`)),
    ];
    if (out.length > 0) body.push(`      <system-out>${xml(out.join('\n'))}</system-out>`);
    return [head, ...body, '    </testcase>'].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gpu-admission audit" tests="${s.objects}" failures="${s.denied}" skipped="${s.skipped + s.excluded}">`,
    `  <testsuite name="gpu-admission audit" tests="${s.objects}" failures="${s.denied}" errors="0" skipped="${s.skipped + s.excluded}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// ---- sarif -------------------------------------------------------------------------------------

/**
 * A file as a SARIF artifact URI: relative to `root` (the working directory: a repository root for
 * code-scanning UIs) with forward slashes and URI escaping; a file outside it as a file:// URI.
 */
export function sarifUri(file: string, root: string): string {
  if (file === '<stdin>') return 'stdin';
  const rel = relative(root, resolve(root, file));
  if (rel.startsWith('..') || isAbsolute(rel)) return pathToFileURL(resolve(root, file)).href;
  return rel.split(sep).map(encodeURIComponent).join('/');
}

export function sarif(report: AuditReport, version: string, root: string): string {
  const rules = [...[...RULES, ...WORKLOAD_RULES, ...AUDIT_ONLY_RULES].map((r) => ({ id: r.id, text: r.summary })), ...[...MUTATORS, ...WORKLOAD_MUTATORS].map((m) => ({ id: m.id, text: `Mutation ${m.id}` })), { id: 'pod-spec-shape', text: 'Pod spec fields have the types the Kubernetes API defines' }, { id: EXCLUDED_RULE, text: 'Objects in namespaces the webhook never sees are not judged' }, { id: UNKNOWN_KIND_RULE, text: 'Objects of unknown kinds that request accelerators are reported, not judged' }];
  const excluded = report.results.filter((r) => r.verdict === 'excluded').map((r) => ({
    ruleId: EXCLUDED_RULE,
    level: 'note',
    message: { text: `${ref(r)}: ${r.skipped ?? EXCLUDED_REASON}` },
    locations: [{ physicalLocation: { artifactLocation: { uri: sarifUri(r.file, root) }, region: { startLine: r.line } } }],
    properties: { kind: r.kind, name: r.name, namespace: r.namespace },
  }));
  const results = report.results.flatMap((r) => [
    ...r.violations.map((f) => ({ f, level: 'error' })),
    ...r.warnings.map((f) => ({ f, level: 'warning' })),
    ...r.recorded.map((f) => ({ f, level: 'note' })),
  ].map(({ f, level }) => ({
    ruleId: f.ruleId,
    level,
    message: { text: `${ref(r)}: ${f.path}: ${f.message}. Fix: ${f.fix}. (NamespacePolicy ${r.policy})` },
    locations: [{ physicalLocation: { artifactLocation: { uri: sarifUri(r.file, root) }, region: { startLine: r.line } } }],
    properties: { path: f.path, policy: r.policy, kind: r.kind, name: r.name, namespace: r.namespace },
  })));
  return `${JSON.stringify({
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'gpu-admission', version, informationUri: 'https://gpu-admission.io', rules: rules.map((r) => ({ id: r.id, shortDescription: { text: r.text } })) } },
      results: [...results, ...excluded],
    }],
  }, null, 2)}\n`;
}

// ---- policyreport ------------------------------------------------------------------------------

interface PolicyReportResult {
  policy: string;
  rule: string;
  result: 'pass' | 'fail' | 'warn' | 'skip';
  message: string;
  source: string;
  scored: boolean;
  category: string;
  severity?: string;
  resources: { apiVersion: string; kind: string; name: string; namespace: string }[];
  properties?: Record<string, string>;
  timestamp: { seconds: number; nanos: number };
}

/** One `wgpolicyk8s.io/v1alpha2` PolicyReport per namespace, as Kyverno and Policy Reporter read them. */
export function policyReports(results: AuditResult[], now: Date): object[] {
  const byNs = new Map<string, PolicyReportResult[]>();
  const timestamp = { seconds: Math.floor(now.getTime() / 1000), nanos: 0 };
  for (const r of results) {
    if (r.verdict === 'skipped') continue;
    const resources = [{ apiVersion: r.apiVersion, kind: r.kind, name: r.name, namespace: r.namespace }];
    if (r.verdict === 'excluded') {
      const list = byNs.get(r.namespace) ?? [];
      list.push({ policy: 'none', rule: EXCLUDED_RULE, result: 'skip', message: r.skipped ?? EXCLUDED_REASON, source: 'gpu-admission', scored: false, category: 'Accelerators', resources, timestamp });
      byNs.set(r.namespace, list);
      continue;
    }
    const base = { policy: r.policy ?? 'none', source: 'gpu-admission', scored: true, category: 'Accelerators', resources, timestamp };
    const list = byNs.get(r.namespace) ?? [];
    const add = (f: { ruleId: string; path: string; message: string; fix: string }, result: PolicyReportResult['result'], severity: string): void => {
      list.push({ ...base, rule: f.ruleId, result, severity, message: `${f.path}: ${f.message}. Fix: ${f.fix}`, properties: { path: f.path } });
    };
    r.violations.forEach((f) => add(f, 'fail', 'high'));
    r.warnings.forEach((f) => add(f, 'warn', 'medium'));
    r.recorded.forEach((f) => add(f, 'fail', 'medium'));
    if (r.violations.length + r.warnings.length + r.recorded.length === 0) list.push({ ...base, rule: 'all', result: 'pass', message: 'no violation' });
    byNs.set(r.namespace, list);
  }
  return [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([namespace, list]) => ({
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    // Cluster-scoped objects (empty namespace) belong in a ClusterPolicyReport.
    kind: namespace ? 'PolicyReport' : 'ClusterPolicyReport',
    metadata: { name: 'gpu-admission', ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'gpu-admission' } },
    scope: undefined,
    summary: {
      pass: list.filter((x) => x.result === 'pass').length,
      fail: list.filter((x) => x.result === 'fail').length,
      warn: list.filter((x) => x.result === 'warn').length,
      error: 0,
      skip: list.filter((x) => x.result === 'skip').length,
    },
    results: list,
  })).map((d) => JSON.parse(JSON.stringify(d)) as object);
}

export function render(format: Format, report: AuditReport, opts: { color: boolean; version: string; now: Date; root?: string }): string {
  switch (format) {
    case 'table': return table(report, opts.color);
    case 'json': return `${JSON.stringify(report, null, 2)}\n`;
    case 'yaml': return dumpYaml(report);
    case 'junit': return junit(report);
    case 'sarif': return sarif(report, opts.version, opts.root ?? '.');
    case 'policyreport': return policyReports(report.results, opts.now).map((d) => dumpYaml(d)).join('---\n');
  }
}
