// js-yaml directly, not client-node's loadAllYaml: that one maps known kinds onto client-node's
// model classes, which silently drops every field the model does not know (a typo, a field newer
// than the client) and turns timestamps into Dates. Manifests must be judged as written. The core
// schema keeps YAML's types to JSON's (no timestamps, no binary), as the API server's decoder does.
import { CORE_SCHEMA, dump, load } from 'js-yaml';

/** YAML for people: block style, no anchors, long strings kept on one line. */
export function dumpYaml(value: unknown): string {
  return dump(value, { noRefs: true, lineWidth: -1 });
}

export interface YamlDocument {
  value: unknown;
  /** 1-based position among the file's non-empty documents. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
}

export class YamlError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
    this.name = 'YamlError';
  }
}

const SEPARATOR = /^---(\s|$)/;
/** Where the content of a line starts, after its indentation and any `- ` sequence indicators. */
const CONTENT_COLUMN = /^(?: *- +| *-$)*( *)/;
const MAX_REINDENTS = 10_000;

/**
 * kubectl reads YAML with go-yaml (sigs.k8s.io/yaml over gopkg.in/yaml.v2, a port of libyaml),
 * which does not check indentation inside flow collections and multi-line quoted scalars; js-yaml
 * refuses their continuation lines with "deficient indentation" when they are not indented deeper
 * than the key, as in
 *
 *     - args: ["--model", "m",
 *       "--port", "8000"]
 *
 * Leading white space of such a line is not content (flow and quoted scalars fold it away), so
 * the line is indented one column deeper than the line before's content and the document read
 * again. Anything else js-yaml refuses, libyaml refuses too (tabs as indentation, a block scalar
 * less indented than its first line).
 */
function loadLikeKubectl(original: string[]): unknown {
  const lines = [...original];
  for (let attempt = 0; ; attempt++) {
    try {
      return load(lines.join('\n'), { schema: CORE_SCHEMA });
    } catch (err) {
      const e = err as { reason?: string; mark?: { line?: number } };
      const at = e.mark?.line;
      if (e.reason !== 'deficient indentation' || at === undefined || at < 1 || attempt >= MAX_REINDENTS) throw err;
      let before = at - 1;
      while (before > 0 && !CONTENT.test(lines[before] as string)) before--;
      const column = (CONTENT_COLUMN.exec(lines[before] as string)?.[0] ?? '').length;
      const line = lines[at] as string;
      const indent = line.length - line.trimStart().length;
      if (indent > column) throw err;
      lines[at] = ' '.repeat(column + 1) + line.trimStart();
    }
  }
}
const CONTENT = /^\s*[^#\s]/;

/**
 * Multi-document YAML, split on `---` separators first so that each document knows its line and
 * empty documents (a trailing `---`) are dropped. Errors carry the line in the whole file.
 */
export function parseYamlDocuments(text: string): YamlDocument[] {
  const lines = text.split(/\r?\n/);
  const chunks: { start: number; lines: string[] }[] = [{ start: 0, lines: [] }];
  lines.forEach((l, i) => {
    if (SEPARATOR.test(l)) chunks.push({ start: i + 1, lines: [] });
    else chunks[chunks.length - 1]?.lines.push(l);
  });
  const docs: YamlDocument[] = [];
  for (const chunk of chunks) {
    if (!chunk.lines.some((l) => CONTENT.test(l) && l.trim() !== '...')) continue;
    let value: unknown;
    try {
      value = loadLikeKubectl(chunk.lines);
    } catch (err) {
      const mark = (err as { mark?: { line?: number } }).mark;
      const line = mark?.line !== undefined ? chunk.start + mark.line + 1 : undefined;
      const reason = (err as { reason?: string }).reason ?? (err as Error).message.split('\n')[0];
      throw new YamlError(`${line !== undefined ? `line ${line}: ` : ''}${reason}`, line);
    }
    if (value !== null && value !== undefined) docs.push({ value, index: docs.length + 1, line: chunk.start + 1 });
  }
  return docs;
}
