/**
 * dist/main.js is the esbuild bundle (src/build/bundle.ts), as `npm run build` and the test setup
 * (test/global-setup.ts) make it: the program and its dependencies in dist/main.js and dist/chunks/,
 * only @kubernetes/client-node and Node.js built-ins loaded from outside.
 */
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTERNAL } from '../src/build/bundle.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DIST = join(ROOT, 'dist');
const CHUNKS = join(DIST, 'chunks');
const chunkFiles = existsSync(CHUNKS) ? readdirSync(CHUNKS).filter((f) => f.endsWith('.js')).map((f) => join(CHUNKS, f)) : [];
const outputs = [join(DIST, 'main.js'), ...chunkFiles];
const text = (f: string): string => readFileSync(f, 'utf8');
const BUILTIN = new Set(builtinModules);
const allowed = (spec: string): boolean =>
  spec.startsWith('.') || spec.startsWith('node:') || BUILTIN.has(spec) || EXTERNAL.some((e) => spec === e || spec.startsWith(`${e}/`));

describe('the built program (dist/main.js) is the bundle', () => {
  it('has split chunks, each with a source map', () => {
    expect(chunkFiles.length).toBeGreaterThan(5);
    for (const f of outputs) {
      expect(text(f)).toMatch(/\/\/# sourceMappingURL=[\w.-]+\.js\.map\s*$/);
      expect(existsSync(`${f}.map`), `${f}.map`).toBe(true);
    }
  });

  it('main.js keeps the Node.js version check first and loads the CLI from a chunk, not from tsc output', () => {
    const main = text(join(DIST, 'main.js'));
    expect(main.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(main).not.toMatch(/['"]\.\/cli\/index\.js['"]/);
    expect(main.indexOf('process.versions.node')).toBeLessThan(main.indexOf('import("./chunks/'));
  });

  it('imports only Node.js built-ins, its own chunks and the external client from outside', () => {
    const IMPORTS = /(?:^|\n)\s*(?:import|export)\s[^;'"]*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|__require\(\s*["']([^"']+)["']\s*\)/g;
    const outside = outputs.flatMap((f) => [...text(f).matchAll(IMPORTS)].map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4]) as string).filter((s) => !allowed(s)).map((s) => `${f}: ${s}`));
    expect(outside).toEqual([]);
    // fastify, pino, prom-client and ajv are inside.
    const all = outputs.map(text).join('\n');
    for (const pkg of ['fastify', 'pino', 'prom-client', 'ajv']) expect(all).toContain(`// node_modules/${pkg}/`);
    for (const pkg of EXTERNAL) expect(all).not.toContain(`// node_modules/${pkg}/`);
  });

  it('finds package.json from a chunk: --version', () => {
    const r = spawnSync(process.execPath, [join(DIST, 'main.js'), '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe((JSON.parse(text(join(ROOT, 'package.json'))) as { version: string }).version);
  });
});
