// `gpu-admission policy export --format vap` as a user runs it (dist/ is built by test/global-setup.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../src/server/policy-files.js';
import { renderFloorYaml } from '../../src/vap/render.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/main.js');
const work = mkdtempSync(join(tmpdir(), 'gpu-admission-export-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('policy export --format vap', () => {
  it('writes the floor of the policy directory to stdout, or to -o <file>', async () => {
    const expected = renderFloorYaml(await loadPolicyDir(join(ROOT, 'policies')));
    const r = cli(['policy', 'export', '--format', 'vap', '--policies', 'policies']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected);
    const out = join(work, 'floor.yaml');
    const w = cli(['policy', 'export', '--format', 'vap', '-o', out]);
    expect(w.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(expected);
  });

  it('refuses another format, naming the one it knows, and documents itself in --help', () => {
    const r = cli(['policy', 'export', '--format', 'kyverno']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format must be vap, got "kyverno"');
    const h = cli(['policy', '--help']);
    expect(h.stdout).toContain('gpu-admission policy export --format vap');
    expect(h.stdout).toContain('--format <format>');
  });
});
