/** Helpers for the onboarding and `policy` command tests: the CLI as users run it, temp policy dirs, goldens. */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const POLICIES = join(ROOT, 'policies');
const MAIN = join(ROOT, 'dist', 'main.js');
const EXPECTED = new URL('./expected/', import.meta.url).pathname;

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The CLI runs from dist/: build it when it is missing or older than src/. */
export function ensureBuilt(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newest(join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  ensureBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: '/nonexistent', HOME: '/nonexistent', ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A temporary copy of the shipped policy directory (top level only, as the webhook reads it). */
export function policyDirCopy(prefix = 'gpa-onboard-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const name of readdirSync(POLICIES)) {
    if (statSync(join(POLICIES, name)).isFile()) cpSync(join(POLICIES, name), join(dir, name));
  }
  return dir;
}

/** Compares with test/onboard/expected/<name>; writes it when missing (never under CI) or with UPDATE_GOLDEN=1. */
export function golden(name: string, text: string): void {
  const file = join(EXPECTED, name);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    if (process.env['CI']) throw new Error(`golden file ${name} is missing`);
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}
