/**
 * Builds dist/ from src/ once, before any test file runs, as `npm run build` does (tsc, then the
 * esbuild bundle that replaces dist/main.js): the CLI and server tests execute `node dist/main.js`
 * as users do, and must run the code under test, never an older build.
 * The build goes to a scratch directory and replaces dist/ only when it succeeded, so no test
 * (of this run or of another one in the same checkout) sees a half-written dist/, and files of
 * modules that no longer exist in src/ do not linger. A failed build fails the whole run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

export default function setup(): void {
  const scratch = join(ROOT, 'node_modules', '.cache', 'gpu-admission-test-build');
  const out = join(scratch, `dist-${process.pid}`);
  const old = join(scratch, `old-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  rmSync(out, { recursive: true, force: true });
  const started = Date.now();
  const steps: [string, string[]][] = [
    ['tsc -p tsconfig.json', [TSC, '-p', 'tsconfig.json', '--outDir', out]],
    ['the bundle (dist/build/bundle.js)', [join(out, 'build', 'bundle.js'), '--outdir', out]],
  ];
  for (const [what, args] of steps) {
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    if (r.status === 0) continue;
    rmSync(out, { recursive: true, force: true });
    const why = r.error ? r.error.message : `${r.stdout}${r.stderr}`.trim();
    throw new Error(`test/global-setup.ts: the build (${what}) failed, so no test ran against dist/:\n${why}`);
  }
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(join(ROOT, 'dist'), old);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  renameSync(out, join(ROOT, 'dist'));
  rmSync(old, { recursive: true, force: true });
  console.log(`test/global-setup.ts: built dist/ from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
