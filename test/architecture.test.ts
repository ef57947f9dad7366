/**
 * The shape of the code, checked: no import circles, a pure core without I/O, a thin entry point,
 * and command help generated from the flags each command accepts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/index.js';
import { helpText } from '../src/cli/command.js';

const SRC = new URL('../src/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Module -> the specifiers it imports (static, type-only and dynamic alike). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const specs = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2]) as string);
    g.set(relative(SRC, f), specs.map((s) => (s.startsWith('.') ? relative(SRC, normalize(join(dirname(f), s))).replace(/\.js$/, '.ts') : s)));
  }
  return g;
}

function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (u: string): void => {
    state.set(u, 'open');
    stack.push(u);
    for (const v of g.get(u) ?? []) {
      if (!g.has(v)) continue;
      if (state.get(v) === 'open') found.push([...stack.slice(stack.indexOf(v)), v]);
      else if (!state.has(v)) visit(v);
    }
    stack.pop();
    state.set(u, 'done');
  };
  for (const u of g.keys()) if (!state.has(u)) visit(u);
  return found;
}

const PURE = ['policy/', 'engine/', 'rules/', 'mutators/', 'scheduling/', 'workload/', 'vap/', 'diagnose/'];
const IO = /^(node:)?(fs|fs\/promises|net|http|https|tls|child_process|os|dgram)$|^@kubernetes\/client-node$|^pino$|^fastify$|^prom-client$|\/server\/logger\.ts$/;

describe('architecture', () => {
  const g = graph();

  it('has no import circles (type-only imports included)', () => {
    expect(cycles(g).map((c) => c.join(' -> '))).toEqual([]);
  });

  it.each(PURE)('%s imports no I/O, logger, HTTP or cluster client', (dir) => {
    const offending = [...g].filter(([f]) => f.startsWith(dir)).flatMap(([f, deps]) => deps.filter((d) => IO.test(d) && !isTypeOnly(f, d)).map((d) => `${f} imports ${d}`));
    expect(offending).toEqual([]);
  });

  it('keeps the pure core away from the commands, the server and the cluster view', () => {
    const outward = /^(cli|server|cluster|audit|onboard|certs)\//;
    const offending = [...g].filter(([f]) => PURE.some((d) => f.startsWith(d))).flatMap(([f, deps]) => deps.filter((d) => outward.test(d)).map((d) => `${f} imports ${d}`));
    expect(offending).toEqual([]);
  });

  it('keeps main.ts a thin entry point (under 80 lines)', () => {
    expect(readFileSync(join(SRC, 'main.ts'), 'utf8').split('\n').length).toBeLessThan(80);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s --help lists every flag the command accepts', (_n, c) => {
    const help = helpText(c);
    for (const [name, f] of Object.entries(c.flags)) {
      expect(help).toContain(`--${name}`);
      if (f.short) expect(help).toContain(`-${f.short}, --${name}`);
    }
  });
});

/** A type-only import of client-node is allowed in the core: it carries the API types, no code. */
function isTypeOnly(file: string, dep: string): boolean {
  const text = readFileSync(join(SRC, file), 'utf8');
  const esc = dep.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const all = [...text.matchAll(new RegExp(`(import|export)\\s+(type\\s+)?[^;]*?from\\s+['"]${esc}['"]`, 'g'))];
  return all.length > 0 && all.every((m) => m[2] !== undefined);
}
