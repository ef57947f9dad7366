/**
 * `gpu-admission policy validate | explain | test`: reading files and printing, around the pure
 * checks in overlap.ts, explain.ts and tests.ts.
 */
import { InputError, readInputs } from '../audit/input.js';
import { explainNamespace } from './explain.js';
import { loadPolicyDir, PolicyError } from './load.js';
import { describeOverlap, overlappingSelectors } from './overlap.js';
import { parsePolicyTests, renderOutcomes, runPolicyTest } from './tests.js';

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Exit 0 when valid; 1 with every problem listed (schema, cross-document, overlapping selectors). */
export async function validateCommand(dir: string, io: Streams): Promise<number> {
  let problems: string[];
  try {
    const set = await loadPolicyDir(dir);
    problems = overlappingSelectors(set.policies).map(describeOverlap);
    if (problems.length === 0) {
      io.stdout.write(`${dir}: valid — ${set.pools.length} GpuPool(s): ${set.pools.map((p) => p.name).join(', ') || '-'}; ` +
        `${set.policies.length} NamespacePolicy(s): ${set.policies.map((p) => p.name + (p.isDefault ? ' (default)' : '')).join(', ') || '-'}\n`);
      return 0;
    }
  } catch (err) {
    if (err instanceof PolicyError) problems = err.problems;
    else if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') problems = [`${dir}: not a directory`];
    else throw err;
  }
  io.stderr.write(`${new PolicyError(problems).message}\n`);
  return 1;
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
