/**
 * Golden files: the expected output lives in a committed file next to the suite (`<suite>/expected/`).
 * A missing golden fails the test; only `UPDATE_GOLDEN=1` writes (creates or replaces) goldens, so a
 * deleted or never-committed golden can never turn into a passing test.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { expect } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

const updating = (): boolean => process.env['UPDATE_GOLDEN'] === '1';

/** The suite directory a golden belongs to (`test/audit` for `test/audit/expected/x.txt`). */
function suiteOf(file: string): string {
  let dir = dirname(file);
  while (basename(dir) === 'expected') dir = dirname(dir);
  return relative(ROOT, dir) || '.';
}

/** Writes the golden under UPDATE_GOLDEN=1; otherwise fails clearly when it is missing. Returns its text. */
function goldenText(file: string, actual: string): string {
  if (updating()) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return actual;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${relative(ROOT, file)} is missing: create it with \`UPDATE_GOLDEN=1 npm test -- ${suiteOf(file)}\`, review it and commit it`);
  }
  return readFileSync(file, 'utf8');
}

/** `actual` must equal the golden file's text byte for byte. */
export function expectGolden(file: string, actual: string): void {
  const expected = goldenText(file, actual);
  expect(actual, `${relative(ROOT, file)} differs (after an intended change: \`UPDATE_GOLDEN=1 npm test -- ${suiteOf(file)}\` and review the diff)`).toBe(expected);
}

/** `actual` must deep-equal the JSON of the golden file (written with two-space indentation). */
export function expectGoldenJson(file: string, actual: unknown): void {
  const expected = JSON.parse(goldenText(file, `${JSON.stringify(actual, null, 2)}\n`)) as unknown;
  expect(actual, `${relative(ROOT, file)} differs (after an intended change: \`UPDATE_GOLDEN=1 npm test -- ${suiteOf(file)}\` and review the diff)`).toEqual(expected);
}
