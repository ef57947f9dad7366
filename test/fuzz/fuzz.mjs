#!/usr/bin/env node
// Property-based fuzzing of the webhook (fast-check), bounded in time.
//
//   npm run fuzz                                  # ~60 s, a fresh seed (printed)
//   npm run fuzz -- --seconds 10 --seed 42        # shorter, reproducible
//   npm run fuzz -- --seed 42 --path 17:3:0 --only engine   # replay a reported counterexample
//   npm run fuzz -- --strict                      # also fail on the known issues (KNOWN_ISSUES)
//
// The properties and invariants live in test/fuzz/properties.ts (they import the TypeScript
// sources, so they run under vitest with test/fuzz/vitest.config.ts); fuzz.test.ts runs the same
// properties briefly with a fixed seed inside `npm test`.
//
// Prints one line per property, the coverage counters, any counterexample (shrunk) with the
// command that replays it, and a final JSON line. Exit status: 0 every invariant held; 1 an
// invariant broke; 2 the fuzzer itself failed; 130 on SIGINT/SIGTERM. The child and its temp
// directory are removed in every case.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' }, seed: { type: 'string' }, path: { type: 'string' },
    only: { type: 'string' }, strict: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log('usage: npm run fuzz -- [--seconds 60] [--seed N] [--strict] [--path P --only engine|http|malformed]');
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error(`fuzz: --seconds must be a positive number, got ${values.seconds}`);
  process.exit(2);
}
const seed = values.seed === undefined ? (Date.now() ^ (process.pid << 16)) >>> 0 : Number(values.seed);
if (!Number.isInteger(seed)) {
  console.error(`fuzz: --seed must be an integer, got ${values.seed}`);
  process.exit(2);
}
if (values.only && !['engine', 'http', 'malformed'].includes(values.only)) {
  console.error('fuzz: --only is engine, http or malformed');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'gpu-admission-fuzz-'));
const reportFile = join(dir, 'report.json');
let child;
const cleanup = () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.once('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { console.error(`fuzz: ${sig}, stopping`); cleanup(); process.exit(130); });

console.log(`fuzz: seed ${seed}, ${seconds} s${values.path ? `, replaying path ${values.path}` : ''} (reproduce: npm run fuzz -- --seed ${seed} --seconds ${seconds})`);
const began = Date.now();
child = spawn(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/fuzz/vitest.config.ts', '--reporter', 'dot'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_SECONDS: String(seconds), FUZZ_REPORT: reportFile, FUZZ_PATH: values.path ?? '', FUZZ_ONLY: values.only ?? '', FUZZ_STRICT: values.strict ? '1' : '' },
});
let out = '';
child.stdout.setEncoding('utf8').on('data', (d) => { out = (out + d).slice(-20_000); });
// Hard stop: the run limits itself; this only catches a hung child.
const watchdog = setTimeout(() => { console.error('fuzz: overran its time limit'); child.kill('SIGKILL'); }, (seconds + 120) * 1000);
const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? (s ? 128 : 1))));
clearTimeout(watchdog);

let report;
try {
  report = JSON.parse(readFileSync(reportFile, 'utf8'));
} catch {
  console.error(`fuzz: no report (vitest exit ${code}):\n${out.trim()}`);
  process.exit(2);
}

const s = report.stats;
console.log('');
console.log('property       runs    seconds  result');
for (const p of report.properties) {
  console.log(`${p.property.padEnd(12)}${String(p.runs).padStart(8)}${(p.ms / 1000).toFixed(1).padStart(10)}  ${p.failed ? `FAILED: ${p.invariant}` : 'ok'}`);
}
console.log('');
console.log(`reviews judged by the engine ${s.engineChecked}: patched ${s.patched} (all checked to apply and to be idempotent), denied ${s.denied}, skipped ${s.skipped}`);
console.log(`validate(mutate(x)) checked: no pool-tolerations ${s.poolTolerationsChecked}, no new denial ${s.noNewDenialChecked}, still lands on an allowed pool ${s.landingChecked}`);
console.log(`through the HTTP app: ${s.http} valid reviews x 2 endpoints; ${s.malformed} corrupted reviews x 2 endpoints (${s.malformed400} answered 400, ${s.malformed200} answered 200)`);
for (const [id, n] of Object.entries(s.known)) console.log(`KNOWN ISSUE ${id}: hit ${n} times (not failing the run; --strict fails on it; see test/fuzz/properties.ts KNOWN_ISSUES)`);
console.log(`denials by rule: ${Object.entries(s.denialsByRule).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`);
for (const p of report.properties.filter((x) => x.failed)) {
  console.log('');
  console.log(`COUNTEREXAMPLE (${p.property}, shrunk ${p.shrinks} times): ${p.invariant}`);
  console.log(`  ${p.error}`);
  console.log(`  input: ${JSON.stringify(p.counterexample)}`);
  console.log(`  replay: npm run fuzz -- --seed ${p.seed} --path ${p.path} --only ${p.property}`);
}
const summary = {
  fuzz: 'gpu-admission', seed, seconds, elapsedSeconds: Math.round((Date.now() - began) / 100) / 10, ok: report.ok,
  properties: report.properties.map(({ property, runs, ms, failed, invariant }) => ({ property, runs, ms, failed, ...(failed ? { invariant } : {}) })),
  stats: { ...s, denialsByRule: undefined },
};
console.log(JSON.stringify(summary));
process.exitCode = report.ok ? 0 : 1;
