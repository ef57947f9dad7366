/**
 * The work of `gpu-admission policy validate | explain | test | schema | export`, loaded only when
 * the command runs (cli/policy.ts declares the command): the webhook's start-up never loads the
 * PolicyTest runner, the floor generator or the audit reader.
 */
import { writeFile } from 'node:fs/promises';
import { readInputs } from '../audit/input.js';
import { explainNamespace } from '../policy/explain.js';
import { checkPolicies, PolicyError } from '../policy/parse.js';
import { policyFileSchema } from '../policy/schema.js';
import { loadPolicyDir, readPolicyFiles } from '../server/policy-files.js';
import { InputError, UsageError } from '../util/errors.js';
import { labelList, str } from './command.js';
import { parsePolicyTests, renderOutcomes, runPolicyTest } from './policy-test.js';
import { renderFloorYaml } from '../vap/render.js';

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Exit 0 when valid; 1 with every problem listed in one run: YAML and schema errors, cross-document
 * errors (unknown pools, duplicate names, unknown rule ids) and overlapping selectors together.
 */
export async function validateCommand(dir: string, io: Streams): Promise<number> {
  let files;
  try {
    files = await readPolicyFiles(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    io.stderr.write(`${new PolicyError([`${dir}: not a directory`]).message}\n`);
    return 1;
  }
  const checked = checkPolicies(files);
  // checkPolicies reports overlapping selectors too (the same check serve applies on load).
  const problems = files.length === 0 ? [`${dir}: no policy files (*.yaml, *.yml, *.json)`] : checked.problems;
  if (problems.length > 0) {
    io.stderr.write(`${new PolicyError(problems).message}\n`);
    return 1;
  }
  const { pools, policies } = checked;
  io.stdout.write(`${dir}: valid — ${pools.length} GpuPool(s): ${pools.map((p) => p.name).join(', ') || '-'}; ` +
    `${policies.length} NamespacePolicy(s): ${policies.map((p) => p.name + (p.isDefault ? ' (default)' : '')).join(', ') || '-'}\n`);
  return 0;
}

export async function explainCommand(dir: string, namespace: string, labels: Record<string, string>, io: Streams): Promise<number> {
  const set = await loadPolicyDir(dir);
  io.stdout.write(explainNamespace(set, namespace, labels));
  return 0;
}

/** Exit 0 when every test passes, 1 when one fails, 2 for bad input (unreadable or invalid tests or policies). */
export async function testCommand(paths: string[], dir: string, io: Streams): Promise<number> {
  if (paths.length === 0) throw new InputError('policy test needs the files or directories of the PolicyTest documents');
  const { tests, problems } = parsePolicyTests(await readInputs(paths));
  if (problems.length > 0) throw new InputError(`invalid policy tests:\n  - ${problems.join('\n  - ')}`);
  if (tests.length === 0) throw new InputError(`no PolicyTest documents in ${paths.join(', ')}`);
  const set = await loadPolicyDir(dir);
  const outcomes = tests.map((t) => runPolicyTest(set, t));
  io.stdout.write(renderOutcomes(outcomes));
  return outcomes.every((o) => o.passed) ? 0 : 1;
}

export async function runPolicy(v: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  const [sub, ...rest] = positionals;
  const io = { stdout: process.stdout, stderr: process.stderr };
  const policies = str(v, 'policies') as string;
  switch (sub) {
    case 'schema': {
      const text = `${JSON.stringify(policyFileSchema, null, 2)}\n`;
      const out = str(v, 'out');
      if (out) await writeFile(out, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'export': {
      if (rest.length > 0) throw new UsageError('policy export takes no arguments: gpu-admission policy export --format vap [-o <file>]', 'policy');
      const format = str(v, 'format');
      if (format !== 'vap') throw new UsageError(`policy export: --format must be vap${format === undefined ? '' : `, got "${format}"`}`, 'policy');
      const text = renderFloorYaml(await loadPolicyDir(policies));
      const out = str(v, 'out');
      if (out) await writeFile(out, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'validate':
      if (rest.length > 1) throw new UsageError('policy validate takes one directory', 'policy');
      return validateCommand(rest[0] ?? policies, io);
    case 'explain':
      if (rest.length !== 1) throw new UsageError('policy explain takes one namespace: gpu-admission policy explain <namespace> [--labels k=v,...]', 'policy');
      return explainCommand(policies, rest[0] as string, labelList('policy', str(v, 'labels')), io);
    case 'test':
      return testCommand(rest, policies, io);
    default:
      throw new UsageError(`unknown policy command "${sub}"`, 'policy');
  }
}
