import { loadPolicyDir } from '../server/policy-files.js';
import { engineFor } from '../engine/build.js';
import type { Logger } from 'pino';
import { FORMATS, type Format, policyReports, render, type AuditReport } from './formats.js';
import { InputError } from '../util/errors.js';
import { readInputs } from './input.js';
import type { PolicySet } from '../policy/types.js';
import { audit, contextOf, summarize, type AuditResult } from './run.js';
import { budgetSuggestions } from './budgets.js';
import { dumpYaml } from '../util/yaml.js';
import type { Engine } from '../engine/engine.js';
import type { SourceObject } from './input.js';

export interface AuditCommandOptions {
  paths: string[];
  policies: string;
  namespace: string;
  output: string;
  failOn: 'deny' | 'warn';
  acceleratorResources: string[];
  /** Namespaces the webhook never sees: reported as excluded, not judged. */
  excludedNamespaces: readonly string[];
  /** Judge as if every policy had `mutations.templates: true` (the policy files are not changed). */
  templatePatches: boolean;
  /** Print a PodDisruptionBudget for each workload the disruption-budget check flags, instead of the report. */
  suggestPdbs?: boolean;
  version: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** The policy set as if every policy also patched Pod templates (`mutations.templates: true`). */
export function withTemplatePatches(set: PolicySet): PolicySet {
  return { ...set, policies: set.policies.map((p) => ({ ...p, mutations: { ...p.mutations, templates: true } })) };
}

async function policiesFor(o: Pick<AuditCommandOptions, 'policies' | 'templatePatches'>): Promise<PolicySet> {
  const set = await loadPolicyDir(o.policies);
  return o.templatePatches ? withTemplatePatches(set) : set;
}

/** What the report says about how it was made, when it was not made with the policies as written. */
function overridesOf(o: Pick<AuditCommandOptions, 'templatePatches'>): Pick<AuditReport, 'overrides'> {
  return o.templatePatches ? { overrides: ['mutations.templates: true in every policy (--template-patches)'] } : {};
}

export function checkFormat(output: string): Format {
  if (!(FORMATS as readonly string[]).includes(output)) throw new InputError(`unknown output format "${output}": use one of ${FORMATS.join(', ')}`);
  return output as Format;
}

/** Exit code: 0 nothing denied, 1 something would be denied (or warned, with --fail-on warn). */
export function exitCode(results: AuditResult[], failOn: 'deny' | 'warn'): number {
  const failing = results.some((r) => r.verdict === 'denied' || (failOn === 'warn' && r.verdict === 'warned'));
  return failing ? 1 : 0;
}

/** `--suggest-pdbs`: the suggested budgets as YAML documents; exit 0. */
function writeSuggestions(o: Pick<AuditCommandOptions, 'stdout' | 'stderr' | 'excludedNamespaces'>, engine: Engine, objects: SourceObject[], namespace: string): number {
  const pdbs = budgetSuggestions(engine, objects, namespace, o.excludedNamespaces);
  o.stdout.write(pdbs.map((p) => dumpYaml(p)).join('---\n'));
  o.stderr.write(`${pdbs.length} PodDisruptionBudget(s) suggested: review them before applying (a job's budget keeps every Pod: node drains wait for the job)\n`);
  return 0;
}

/** `gpu-admission audit <paths…|->`: the webhook's engine over manifests. Bad input throws (exit 2). */
export async function auditManifests(o: AuditCommandOptions): Promise<number> {
  const format = checkFormat(o.output);
  const set = await policiesFor(o);
  const objects = await readInputs(o.paths);
  const cluster = contextOf(objects, o.namespace);
  const engine = engineFor(set, o.acceleratorResources, cluster);
  if (o.suggestPdbs) return writeSuggestions(o, engine, objects, o.namespace);
  const progress = o.stderr.isTTY && objects.length > 1000
    ? (done: number, total: number): void => void o.stderr.write(`\raudited ${done}/${total} objects`)
    : undefined;
  const results = audit(engine, objects, { namespace: o.namespace, excludedNamespaces: o.excludedNamespaces, onProgress: progress });
  if (progress) o.stderr.write(`\raudited ${results.length}/${results.length} objects\n`);
  const report: AuditReport = { apiVersion: 'gpu-admission.io/v1alpha1', kind: 'AuditReport', policies: o.policies, ...overridesOf(o), summary: summarize(results), results };
  const color = format === 'table' && o.stdout.isTTY === true && !process.env['NO_COLOR'];
  o.stdout.write(render(format, report, { color, version: o.version, now: new Date(), root: process.cwd() }));
  return exitCode(results, o.failOn);
}

export interface ClusterAuditOptions extends Omit<AuditCommandOptions, 'paths' | 'namespace'> {
  namespace?: string;
  allNamespaces: boolean;
  writeReports: boolean;
  kubeconfig?: string;
  logger: Logger;
}

/** `gpu-admission audit --cluster`: the live objects, judged with the live namespace labels. */
export async function auditCluster(o: ClusterAuditOptions): Promise<number> {
  const format = checkFormat(o.output);
  const set = await policiesFor(o);
  const { requireKubeConfig } = await import('../cluster/kubeconfig.js');
  const found = requireKubeConfig(o.kubeconfig);
  const { readCluster, writeReports } = await import('./cluster.js');
  const namespace = o.allNamespaces ? undefined : o.namespace ?? 'default';
  const input = await readCluster(found.kc, namespace, o.logger);
  const engine = engineFor(set, o.acceleratorResources, input.cache);
  if (o.suggestPdbs) {
    if (!input.budgetsListed) throw new InputError('--suggest-pdbs needs list on poddisruptionbudgets.policy: the existing budgets could not be read');
    return writeSuggestions(o, engine, input.objects, namespace ?? 'default');
  }
  const results = audit(engine, input.objects, { namespace: namespace ?? 'default', excludedNamespaces: o.excludedNamespaces, budgets: input.budgetsListed });
  const report: AuditReport = { apiVersion: 'gpu-admission.io/v1alpha1', kind: 'AuditReport', policies: o.policies, ...overridesOf(o), summary: summarize(results), results };
  const now = new Date();
  if (o.writeReports) {
    const written = await writeReports(found.kc, policyReports(results, now));
    o.stderr.write(`wrote ${written} PolicyReport(s) (field manager gpu-admission)\n`);
  }
  const color = format === 'table' && o.stdout.isTTY === true && !process.env['NO_COLOR'];
  o.stdout.write(render(format, report, { color, version: o.version, now }));
  return exitCode(results, o.failOn);
}
