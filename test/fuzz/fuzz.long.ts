/**
 * The time-bounded fuzz run behind `npm run fuzz` (test/fuzz/fuzz.mjs sets FUZZ_* and reads
 * FUZZ_REPORT). Not part of `npm test`: fuzz.test.ts is the short fixed-seed variant.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FuzzContext, fuzzContext, runFuzz } from './properties.js';

let ctx: FuzzContext;
beforeAll(async () => {
  ctx = await fuzzContext();
});
afterAll(async () => { await ctx.app.close(); await ctx.memoApp.close(); });

it('fuzz', async () => {
  const seed = Number(process.env['FUZZ_SEED'] ?? 1);
  const seconds = Number(process.env['FUZZ_SECONDS'] ?? 60);
  const only = process.env['FUZZ_ONLY'] as 'engine' | 'http' | 'malformed' | undefined;
  const report = await runFuzz(ctx, { seed, seconds, path: process.env['FUZZ_PATH'] || undefined, only: only || undefined, strict: process.env['FUZZ_STRICT'] === '1', log: (l) => process.stderr.write(`fuzz: ${l}\n`) });
  if (process.env['FUZZ_REPORT']) writeFileSync(process.env['FUZZ_REPORT'], JSON.stringify(report));
  expect(report.properties.filter((p) => p.failed).map((p) => `${p.property}: ${p.invariant}`)).toEqual([]);
});
