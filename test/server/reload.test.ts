import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PolicyStore } from '../../src/server/policy-store.js';
import { POLICIES_DIR } from '../support/app.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const POLICY = (mode: string): string => `apiVersion: gpu-admission.io/v1alpha1
kind: NamespacePolicy
metadata: {name: only}
spec: {default: true, mode: ${mode}}
`;

/** Lays a directory out like a ConfigMap volume: files are symlinks through ..data -> ..<timestamp>. */
function configMapDir(files: Record<string, string>): { dir: string; swap(files: Record<string, string>): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gpa-cm-'));
  dirs.push(dir);
  let n = 0;
  const write = (content: Record<string, string>): string => {
    const version = `..2026_11_23_${n++}`;
    mkdirSync(join(dir, version));
    for (const [name, text] of Object.entries(content)) writeFileSync(join(dir, version, name), text);
    return version;
  };
  symlinkSync(write(files), join(dir, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return {
    dir,
    swap(next) {
      const version = write(next);
      symlinkSync(version, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    },
  };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('policy reload', () => {
  it('picks up a ConfigMap symlink swap, rejects an invalid one and keeps the last good policies', async () => {
    const cm = configMapDir({ 'policy.yaml': POLICY('enforce') });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const store = new PolicyStore({ dir: cm.dir, logger, debounceMs: 20 });
    expect(await store.reload()).toBe(true);
    store.watch();
    expect(store.engine?.resolver.resolve('x')?.mode).toBe('enforce');

    cm.swap({ 'policy.yaml': POLICY('warn') });
    await until(() => store.engine?.resolver.resolve('x')?.mode === 'warn');

    cm.swap({ 'policy.yaml': POLICY('block') });
    await until(() => store.status.failedReloads === 1);
    expect(store.engine?.resolver.resolve('x')?.mode).toBe('warn');
    const rejected = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['event'] === 'policies-rejected');
    expect(JSON.stringify(rejected?.['problems'])).toContain('spec.mode');
    expect(store.status.lastError).toContain('policy.yaml');

    // The watcher keeps going after a rejection: the next good swap is taken, the bad one never was.
    cm.swap({ 'policy.yaml': POLICY('enforce') });
    await until(() => store.engine?.resolver.resolve('x')?.mode === 'enforce');
    expect(store.status.failedReloads).toBe(1);
    store.close();
  });

  it('fails the first load clearly when the directory has no policies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpa-empty-'));
    dirs.push(dir);
    const store = new PolicyStore({ dir, logger: pino({ level: 'silent' }) });
    expect(await store.reload()).toBe(false);
    expect(store.engine).toBeUndefined();
    expect(store.status.lastError).toContain('no policy files');
  });

  it('loads the shipped directory', async () => {
    const store = new PolicyStore({ dir: POLICIES_DIR, logger: pino({ level: 'silent' }) });
    expect(await store.reload()).toBe(true);
    expect(readFileSync(join(POLICIES_DIR, 'schema.json'), 'utf8')).toContain('NamespacePolicy');
  });
});

describe('policy directory removed and recreated', () => {
  it('re-establishes the watch by itself and takes later edits; readiness does not stay stale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpa-rm-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'policy.yaml'), POLICY('enforce'));
    const events: boolean[] = [];
    const store = new PolicyStore({ dir, logger: pino({ level: 'silent' }), debounceMs: 20, pollMs: 25, onReload: (ok) => void events.push(ok) });
    expect(await store.reload()).toBe(true);
    store.watch();

    rmSync(dir, { recursive: true, force: true });
    // The removal is noticed: a failed load names the missing directory, the last good set keeps serving.
    await until(() => events.includes(false));
    expect(store.status.lastError).toMatch(/ENOENT|no such file/);
    expect(store.engine?.resolver.resolve('x')?.mode).toBe('enforce');

    mkdirSync(dir);
    writeFileSync(join(dir, 'policy.yaml'), POLICY('warn'));
    await until(() => store.engine?.resolver.resolve('x')?.mode === 'warn');
    expect(store.status.lastError).toBeUndefined();

    // The new directory is watched: a later edit is taken without SIGHUP.
    writeFileSync(join(dir, 'policy.yaml'), POLICY('enforce'));
    await until(() => store.engine?.resolver.resolve('x')?.mode === 'enforce');
    store.close();
  });
});
