/**
 * `npm run docs`: regenerates the sections of docs/*.md between `<!-- generated:<name> -->` and
 * `<!-- /generated:<name> -->` from the registries and the shipped policies. Idempotent.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATORS, WORKLOAD_MUTATORS } from '../mutators/index.js';
import { isPolicyFileName } from '../server/policy-files.js';
import { RULES, WORKLOAD_RULES } from '../rules/index.js';
import { AUDIT_ONLY_RULES } from '../rules/audit-only.js';
import { parseYamlDocuments } from '../util/yaml.js';
import { WORKLOAD_KINDS } from '../workload/kinds.js';
import { type DocsInput, generatedSections, type PolicyFileEntry, replaceSections } from './tables.js';

/** The policy files the webhook reads (the same names as readPolicyFiles), parsed for the tables. */
export function readPolicyFileEntries(dir: string): PolicyFileEntry[] {
  return readdirSync(dir)
    .filter((n) => isPolicyFileName(n) && statSync(join(dir, n)).isFile())
    .sort()
    .map((file) => ({ file, documents: parseYamlDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.value) }));
}

export function docsInput(root: string): DocsInput {
  return { rules: [...RULES, ...WORKLOAD_RULES, ...AUDIT_ONLY_RULES], mutators: [...MUTATORS, ...WORKLOAD_MUTATORS], kinds: WORKLOAD_KINDS, policyFiles: readPolicyFileEntries(join(root, 'policies')) };
}

export interface RenderedDoc {
  /** Relative to the repository root: `docs/rules.md`. */
  file: string;
  before: string;
  after: string;
}

/** Every markdown file of docs/, as it is and as the generator would write it. */
export function renderDocs(root: string): RenderedDoc[] {
  const sections = generatedSections(docsInput(root));
  const dir = join(root, 'docs');
  return readdirSync(dir).filter((n) => n.endsWith('.md')).sort().map((name) => {
    const file = `docs/${name}`;
    const before = readFileSync(join(dir, name), 'utf8');
    return { file, before, after: replaceSections(before, sections, file) };
  });
}

function main(): void {
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  let changed = 0;
  for (const d of renderDocs(root)) {
    if (d.after === d.before) continue;
    writeFileSync(join(root, d.file), d.after);
    process.stdout.write(`${d.file} updated\n`);
    changed++;
  }
  process.stdout.write(changed === 0 ? 'docs: every generated section is up to date\n' : `docs: ${changed} file(s) updated\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
