/**
 * The reference docs cannot drift from the code: every generated section of docs/*.md is what
 * src/docs/tables.ts renders from the registries and the shipped policies now, and every rule,
 * mutator and kind is documented.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedSections, currentSections, replaceSections } from '../src/docs/tables.js';
import { docsInput, renderDocs } from '../src/docs/write.js';
import { MUTATORS, WORKLOAD_MUTATORS } from '../src/mutators/index.js';
import { RULES, WORKLOAD_RULES } from '../src/rules/index.js';
import { WORKLOAD_KINDS } from '../src/workload/kinds.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIX = 'run `npm run docs` to regenerate it (edit the code, not the table)';

const docs = renderDocs(ROOT);
const allDocs = docs.map((d) => d.before).join('\n');
const sections = generatedSections(docsInput(ROOT));

describe('generated sections of docs/', () => {
  it('every section the generator knows appears in some doc, exactly once', () => {
    const where = new Map<string, string[]>();
    for (const d of docs) for (const name of currentSections(d.before).keys()) where.set(name, [...(where.get(name) ?? []), d.file]);
    for (const name of Object.keys(sections)) {
      expect(where.get(name) ?? [], `generated section "${name}" has no <!-- generated:${name} --> markers in docs/`).toHaveLength(1);
    }
  });

  it.each(docs.map((d) => [d.file, d] as const))('%s matches what the code generates', (_file, d) => {
    const now = currentSections(d.before);
    const expected = currentSections(d.after);
    for (const [name, text] of expected) {
      expect(now.get(name), `${d.file}: the generated section "${name}" differs from the code; ${FIX}`).toBe(text);
    }
    expect(d.after === d.before, `${d.file} is not what \`npm run docs\` writes; ${FIX}`).toBe(true);
  });

  it('a hand edit of a generated table is caught', () => {
    const d = docs.find((x) => currentSections(x.before).has('rules'));
    expect(d).toBeDefined();
    const edited = (d?.before ?? '').replace('| `node-availability` |', '| `node-availabilty` |');
    expect(edited).not.toBe(d?.before);
    expect(replaceSections(edited, sections)).not.toBe(edited);
  });

  it('regenerating is idempotent', () => {
    for (const d of docs) expect(replaceSections(d.after, sections, d.file)).toBe(d.after);
  });
});

describe('everything the code registers is documented', () => {
  const documented = (text: string): boolean => allDocs.includes(text);
  it.each([...RULES, ...WORKLOAD_RULES].map((r) => r.id))('rule %s', (id) => {
    expect(documented(`| \`${id}\` |`), `rule ${id} is missing from the rules table of docs/rules.md; ${FIX}`).toBe(true);
  });
  it.each([...MUTATORS, ...WORKLOAD_MUTATORS].map((m) => m.id))('mutator %s', (id) => {
    expect(documented(`| \`${id}\` |`), `mutator ${id} is missing from the mutations table of docs/mutations.md; ${FIX}`).toBe(true);
  });
  it.each(WORKLOAD_KINDS.map((k) => [`${k.group || 'core'}/${k.kind}`, k] as const))('kind %s', (key, k) => {
    expect(documented(`| ${k.kind} | \`${k.plural}\` |`), `kind ${key} is missing from the kinds table of docs/workloads.md; ${FIX}`).toBe(true);
  });
  it('every shipped policy file, pool and NamespacePolicy', () => {
    for (const f of docsInput(ROOT).policyFiles) {
      expect(sections['policy-files']).toContain(`\`${f.file}\``);
      for (const doc of f.documents) {
        const name = (doc as { metadata?: { name?: string } }).metadata?.name ?? '';
        expect(allDocs.includes(`\`${name}\``), `${f.file}: ${name} is missing from docs/policy.md; ${FIX}`).toBe(true);
      }
    }
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add((m[1] as string).toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-'));
  }
  return out;
}

describe('links into docs/', () => {
  it('every link to a doc names a file and a heading that exist', () => {
    const texts = new Map(readdirSync(join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).map((n) => [n, readFileSync(join(ROOT, 'docs', n), 'utf8')]));
    const sources: [string, string, string][] = [...texts].map(([n, t]) => [`docs/${n}`, t, '']);
    sources.push(['README.md', readFileSync(join(ROOT, 'README.md'), 'utf8'), 'docs/']);
    const broken: string[] = [];
    for (const [file, text, prefix] of sources) {
      const own = file.startsWith('docs/') ? file.slice(5) : undefined;
      const link = new RegExp(`\\]\\(${prefix}([a-z0-9-]+\\.md)?(?:#([^)]+))?\\)`, 'g');
      for (const m of text.matchAll(link)) {
        const target = m[1] ?? own;
        if (target === undefined || (m[1] === undefined && m[2] === undefined)) continue;
        const doc = texts.get(target);
        if (doc === undefined) broken.push(`${file} -> ${target}`);
        else if (m[2] !== undefined && !anchors(doc).has(m[2])) broken.push(`${file} -> ${target}#${m[2]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the attacks table of docs/security.md', () => {
  const text = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
  const section = text.slice(text.indexOf('## Attacks tried'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| attack') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(' | '));

  it('every row either names test files that exist (and the test titles it quotes), or says it has none', () => {
    expect(rows.length).toBeGreaterThanOrEqual(13);
    for (const cells of rows) {
      expect(cells, cells[0]).toHaveLength(5);
      const [attack, , , coveredBy = '', status = ''] = cells;
      const files = [...coveredBy.matchAll(/`(test\/[^`]+)`(?: \(([^)]+)\))?/g)];
      if (status === 'open: no test yet') {
        expect(files, `${attack}: names no test`).toEqual([]);
        continue;
      }
      expect(status, attack).toBe('tested');
      expect(files.length, `${attack}: names a test file`).toBeGreaterThan(0);
      for (const [, file = '', title] of files) {
        expect(existsSync(join(ROOT, file)), `${attack}: ${file} exists`).toBe(true);
        const source = readFileSync(join(ROOT, file), 'utf8');
        if (title) expect(source, `${file} has a test "${title}"`).toContain(title);
      }
    }
  });
});
