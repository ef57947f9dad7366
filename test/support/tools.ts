/**
 * Tests that need an external program (kubectl, openssl, git). Outside CI a missing program skips
 * those tests with the reason in the test name; under CI (`CI` set) it fails them with
 * "<tool> is required in CI", so a machine without the tool can never report them as passed.
 */
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

export interface Tool {
  name: string;
  /** What the program printed of its version, when it ran. */
  version?: string;
  /** Why it is unusable, when it is. */
  missing?: string;
}

/** Runs `name args` once; the tool is there when that exits 0. */
export function probeTool(name: string, args: string[], pick: (stdout: string) => string = (s) => s.trim().split('\n')[0] ?? ''): Tool {
  const r = spawnSync(name, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return { name, missing: `${name} not found on PATH (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` };
  if (r.status !== 0) return { name, missing: `\`${name} ${args.join(' ')}\` exited ${r.status}: ${r.stderr.trim().slice(0, 200)}` };
  return { name, version: pick(r.stdout) };
}

const inCi = (): boolean => Boolean(process.env['CI']);

function required(tool: Tool): never {
  throw new Error(`${tool.name} is required in CI: ${tool.missing}`);
}

/** A describe block that needs `tool`: runs it, skips it visibly, or (in CI) fails in its place. */
export function describeWithTool(tool: Tool, name: string, body: () => void): void {
  if (!tool.missing) {
    describe(`${name} (${tool.version})`, body);
  } else if (inCi()) {
    describe(name, () => it(`${tool.name} is required in CI`, () => required(tool)));
  } else {
    console.warn(`${name}: skipped, ${tool.missing}`);
    describe.skip(`${name} — skipped: ${tool.missing}`, body);
  }
}

/** One test that needs `tool`: runs it, skips it visibly, or (in CI) fails. */
export function itWithTool(tool: Tool, name: string, body: () => void | Promise<void>, timeout?: number): void {
  if (!tool.missing) it(name, body, timeout);
  else if (inCi()) it(`${name} — ${tool.name} is required in CI`, () => required(tool));
  else it.skip(`${name} — skipped: ${tool.missing}`, body);
}
