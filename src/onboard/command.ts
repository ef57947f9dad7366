/**
 * `gpu-admission onboard`: the I/O around the pure plan / generate / check steps. Nothing is
 * written or applied unless every check passes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { parsePolicies } from '../policy/parse.js';
import { readPolicyFiles } from '../server/policy-files.js';
import { parseYamlDocuments } from '../util/yaml.js';
import { checkOnboarding, compareExisting, documentChanges, formatProblem, type Problem } from './check.js';
import { generate, type OutputFile, policyFileName, render, renderStream } from './generate.js';
import { type ClusterState, type OnboardOptions, resolvePlan } from './plan.js';
import { candidateFiles, verifyGenerated } from './verify.js';

export interface OnboardCommandOptions extends OnboardOptions {
  policies: string;
  out?: string;
  apply: boolean;
  dryRun: boolean;
  force: boolean;
  kubeconfig?: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type FileState = 'created' | 'updated' | 'unchanged';

async function current(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Equal bytes, or equal documents: a file whose comments alone differ is left as it is. */
function sameDocuments(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(parseYamlDocuments(a).map((d) => d.value)) === JSON.stringify(parseYamlDocuments(b).map((d) => d.value));
  } catch {
    return false;
  }
}

/** `: a: 1 -> 2; b: x -> y` (the first few field-level changes), or nothing when the files cannot be compared. */
function describeChanges(before: string, after: string): string {
  let changes: string[];
  try {
    changes = documentChanges(parseYamlDocuments(before).map((d) => d.value), parseYamlDocuments(after).map((d) => d.value));
  } catch {
    return ' (the existing file is not valid YAML)';
  }
  if (changes.length === 0) return '';
  const shown = changes.slice(0, 8).join('; ');
  return `: ${shown}${changes.length > 8 ? `; and ${changes.length - 8} more` : ''}`;
}

/** What writing each file would do; a different existing file is a problem unless --force. */
async function planWrites(out: string, files: OutputFile[], force: boolean, reported: Set<string>): Promise<{ states: Map<string, FileState>; problems: Problem[] }> {
  const states = new Map<string, FileState>();
  const problems: Problem[] = [];
  for (const f of files) {
    const before = await current(join(out, f.path));
    const state: FileState = before === undefined ? 'created' : sameDocuments(before, f.text) ? 'unchanged' : 'updated';
    if (state === 'updated' && !force && !reported.has(f.path)) {
      problems.push({ level: 'error', message: `${join(out, f.path)} exists and differs from what onboarding generates${describeChanges(before as string, f.text)}`, fix: 'review the difference and pass --force to overwrite' });
    }
    states.set(f.path, state);
  }
  return { states, problems };
}

async function clusterView(o: OnboardCommandOptions): Promise<{ kc: import('@kubernetes/client-node').KubeConfig; state: ClusterState } | undefined> {
  if (!o.apply && !o.kubeconfig) return undefined;
  const { requireKubeConfig } = await import('../cluster/kubeconfig.js');
  const found = requireKubeConfig(o.kubeconfig);
  const { readClusterState } = await import('./apply.js');
  return { kc: found.kc, state: await readClusterState(found.kc, o.namespace) };
}

export async function onboard(o: OnboardCommandOptions): Promise<number> {
  const existingFiles = await readPolicyFiles(o.policies).catch((err: unknown) => {
    throw new InputError(`--policies ${o.policies}: ${(err as Error).message}`);
  });
  if (existingFiles.length === 0) throw new InputError(`${o.policies}: no policy files (*.yaml, *.yml, *.json): the GpuPool catalogue is needed`);
  const set = parsePolicies(existingFiles);
  const cluster = await clusterView(o);
  const plan = resolvePlan(o, set, cluster?.state);
  const docs = generate(plan);
  const files = render(docs, plan);
  const policyDoc = docs[0]?.object as Record<string, unknown>;
  const targetFile = policyFileName(plan.namespace);
  const problems = checkOnboarding(plan, policyDoc, { set, cluster: cluster?.state, force: o.force, targetFile, priorityValue: o.priorityValue });
  const existing = compareExisting(policyDoc, set);
  const policyFile = files.find((f) => f.path === targetFile) as OutputFile;
  if (!problems.some((p) => p.level === 'error')) problems.push(...verifyGenerated(candidateFiles(existingFiles, o.policies, policyFile, existing), plan).problems);

  // An equal policy already in another file of the directory written to: writing it again would define it twice.
  const skipPolicy = existing.state === 'same' && existing.source !== targetFile && o.out !== undefined && resolve(o.out) === resolve(o.policies);
  const toWrite = skipPolicy ? files.filter((f) => f !== policyFile) : files;
  // A policy that differs from the one in the policy directory is reported once, by the checks.
  const reported = new Set(existing.state === 'different' && o.out !== undefined && resolve(o.out) === resolve(o.policies) ? [targetFile] : []);
  const writes = o.out ? await planWrites(o.out, toWrite, o.force, reported) : undefined;
  problems.push(...(writes?.problems ?? []));

  for (const p of problems) o.stderr.write(`${formatProblem(p)}\n`);
  const errors = problems.filter((p) => p.level === 'error').length;
  if (errors > 0) {
    o.stderr.write(`onboarding ${plan.namespace} stopped: ${errors} error(s); nothing was written${o.apply ? ' or applied' : ''}\n`);
    return 1;
  }

  if (o.out && writes) {
    for (const f of toWrite) {
      const state = writes.states.get(f.path);
      if (o.dryRun) {
        o.stdout.write(`${join(o.out, f.path)} ${state === 'unchanged' ? 'unchanged' : `would be ${state}`} (dry run: not written)\n`);
        continue;
      }
      if (state !== 'unchanged') {
        await mkdir(dirname(join(o.out, f.path)), { recursive: true });
        await writeFile(join(o.out, f.path), f.text);
      }
      o.stdout.write(`${join(o.out, f.path)} ${state}\n`);
    }
    if (skipPolicy) o.stdout.write(`NamespacePolicy "${plan.policyName}" is already in ${join(o.policies, existing.state === 'same' ? existing.source : '')}: unchanged\n`);
  } else {
    o.stdout.write(renderStream(files));
  }

  if (o.apply && cluster) {
    if (!o.out) o.stderr.write(`note: the NamespacePolicy was printed, not saved: put ${targetFile} into the webhook's policy directory (or use --out)\n`);
    const { applyDocuments, ApplyError, formatApplyResult } = await import('./apply.js');
    try {
      const results = await applyDocuments(cluster.kc, docs, { dryRun: o.dryRun, namespaceExists: cluster.state.namespaceLabels !== undefined });
      for (const r of results) o.stderr.write(`${formatApplyResult(r)}${o.dryRun ? ' (server dry run)' : ''}\n`);
    } catch (err) {
      if (!(err instanceof ApplyError)) throw err;
      for (const r of err.results) o.stderr.write(`${formatApplyResult(r)}\n`);
      o.stderr.write(`apply failed: ${err.message}\n`);
      return 1;
    }
  }
  return 0;
}
