/** Helpers for the onboarding and `policy` command tests: the CLI as users run it, temp policy dirs, goldens. */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectGolden } from '../support/golden.js';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const POLICIES = join(ROOT, 'policies');
const MAIN = join(ROOT, 'dist', 'main.js');
const EXPECTED = new URL('./expected/', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs dist/main.js, which test/global-setup.ts builds from src/ once before any test. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
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

/** Compares with test/onboard/expected/<name>; a missing golden fails, UPDATE_GOLDEN=1 writes it. */
export function golden(name: string, text: string): void {
  expectGolden(join(EXPECTED, name), text);
}
