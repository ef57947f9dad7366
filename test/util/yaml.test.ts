import { describe, expect, it } from 'vitest';
import { parseYamlDocuments, YamlError } from '../../src/util/yaml.js';

describe('multi-document YAML', () => {
  it('drops empty documents (leading/trailing ---, comment-only)', () => {
    const docs = parseYamlDocuments('---\n# only a comment\n---\na: 1\n---\nb: 2\n---\n');
    expect(docs.map((d) => d.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(docs.map((d) => [d.index, d.line])).toEqual([[1, 4], [2, 6]]);
  });

  it('reports the line of a syntax error in the whole file', () => {
    let error: unknown;
    try {
      parseYamlDocuments('a: 1\n---\nb: 2\nc: [1, 2\n');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(YamlError);
    expect((error as YamlError).line).toBeGreaterThanOrEqual(4);
    expect((error as YamlError).message).toMatch(/^line \d+: /);
  });

  it('keeps a --- that is not at the start of a line inside values', () => {
    expect(parseYamlDocuments('a: "x --- y"\n').map((d) => d.value)).toEqual([{ a: 'x --- y' }]);
  });

  it('keeps manifests as written: unknown fields stay, timestamps stay strings', () => {
    const [pod] = parseYamlDocuments('apiVersion: v1\nkind: Pod\nmetadata: {name: x, creationTimestamp: 2024-01-01T00:00:00Z}\nspec:\n  containres: []\n  containers: [{name: c, resourcez: {}}]\n');
    expect(pod?.value).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { containres: [], containers: [{ name: 'c', resourcez: {} }] } });
  });
});
