import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { parseYamlDocuments, YamlError } from '../util/yaml.js';
import { isObject } from '../util/json.js';

/** One Kubernetes object read from a file (or stdin), with where it was. */
export interface SourceObject {
  file: string;
  /** 1-based line of the document in the file. */
  line: number;
  /** 1-based index of the document in the file. */
  index: number;
  object: Record<string, unknown>;
}

const MANIFEST = /\.(ya?ml|json)$/;

async function filesUnder(path: string): Promise<string[]> {
  const s = await stat(path).catch(() => undefined);
  if (!s) throw new InputError(`${path}: no such file or directory`);
  if (s.isFile()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(child)));
    else if (MANIFEST.test(entry.name)) out.push(child);
  }
  return out;
}


/** Parses one file's text: multi-document YAML or JSON; `List` objects are unpacked. */
export function parseManifests(file: string, text: string): SourceObject[] {
  let docs: { value: unknown; line: number; index: number }[];
  try {
    docs = file.endsWith('.json') ? [{ value: JSON.parse(text) as unknown, line: 1, index: 1 }] : parseYamlDocuments(text);
  } catch (err) {
    const where = err instanceof YamlError ? err.message : `not valid JSON: ${(err as Error).message}`;
    throw new InputError(`${file}: ${where}`);
  }
  const out: SourceObject[] = [];
  for (const d of docs) {
    if (!isObject(d.value)) throw new InputError(`${file}:${d.line}: document ${d.index} is not a Kubernetes object`);
    const items = typeof d.value['kind'] === 'string' && d.value['kind'].endsWith('List') && Array.isArray(d.value['items']) ? d.value['items'] : [d.value];
    for (const item of items) if (isObject(item)) out.push({ file, line: d.line, index: d.index, object: item });
  }
  return out;
}

export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads files, directories (recursively: *.yaml, *.yml, *.json) and `-` for stdin. */
export async function readInputs(paths: string[], stdin: () => Promise<string> = () => readStdin()): Promise<SourceObject[]> {
  const out: SourceObject[] = [];
  for (const p of paths.length > 0 ? paths : ['-']) {
    if (p === '-') {
      out.push(...parseManifests('<stdin>', await stdin()));
      continue;
    }
    for (const file of await filesUnder(p)) out.push(...parseManifests(file, await readFile(file, 'utf8')));
  }
  return out;
}
