// client-node's YAML module alone: the package index loads every generated API (~90 MiB of RSS).
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node/dist/yaml.js';

export { dumpYaml };

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
const CONTENT = /^\s*[^#\s]/;

/**
 * Multi-document YAML via client-node's loadAllYaml, which throws on empty documents (a trailing
 * `---`): documents are split on their separators first and empty ones dropped. Errors carry the
 * line in the whole file.
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
    let values: unknown[];
    try {
      values = loadAllYaml(chunk.lines.join('\n'));
    } catch (err) {
      const mark = (err as { mark?: { line?: number } }).mark;
      const line = mark?.line !== undefined ? chunk.start + mark.line + 1 : undefined;
      const reason = (err as { reason?: string }).reason ?? (err as Error).message.split('\n')[0];
      throw new YamlError(`${line !== undefined ? `line ${line}: ` : ''}${reason}`, line);
    }
    for (const value of values) {
      if (value !== null && value !== undefined) docs.push({ value, index: docs.length + 1, line: chunk.start + 1 });
    }
  }
  return docs;
}
