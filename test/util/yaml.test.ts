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

// What kubectl (go-yaml, a port of libyaml) reads, js-yaml alone refuses with "deficient indentation".
// Each expected value is what libyaml gives for the same text.
describe('reads what kubectl reads', () => {
  it.each([
    ['a flow sequence continued at the key\'s column in a sequence item', 'spec:\n  containers:\n  - args: ["--model", "m",\n    "--port", "8000"]\n    name: x\n',
      { spec: { containers: [{ args: ['--model', 'm', '--port', '8000'], name: 'x' }] } }],
    ['a flow sequence continued left of its key', 'a:\n  b: [x,\n y]\n', { a: { b: ['x', 'y'] } }],
    ['a flow sequence with a blank line and two short lines', 'a:\n  b: [x,\n\n y,\n z]\n', { a: { b: ['x', 'y', 'z'] } }],
    ['a flow mapping continued left of its key', 'a:\n  b: {x: 1,\n y: 2}\n', { a: { b: { x: 1, y: 2 } } }],
    ['a double-quoted scalar continued at column 0', 'a:\n  b: "hello\nworld"\n', { a: { b: 'hello world' } }],
    ['a single-quoted scalar continued at the key\'s column', 'a:\n  - b: \'x\n    y\'\n', { a: [{ b: 'x y' }] }],
    ['a sequence not indented under its key', 'a:\n  b:\n  - x\n  - y\n', { a: { b: ['x', 'y'] } }],
  ])('%s', (_name, text, value) => {
    expect(parseYamlDocuments(text).map((d) => d.value)).toEqual([value]);
  });

  it.each([
    ['a tab as indentation', 'a:\n\tb: 1\n'],
    ['a block scalar line left of its first line', 'a:\n  b: |\n    x\n   y\n'],
  ])('still refuses what libyaml refuses: %s', (_name, text) => {
    expect(() => parseYamlDocuments(text)).toThrow(YamlError);
  });

  it('a refused line keeps its line number in the whole file', () => {
    expect(() => parseYamlDocuments('a: 1\n---\nb: [1,\n2\nc: 3\n')).toThrow(/^line \d+: /);
  });
});
