import jsonpatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { applyLikeApiServer, decodePatch, encodePatch, PatchError, pointer, verifyPatch } from '../../src/admission/patch.js';

type Doc = Record<string, unknown>;

function pod(spec: Doc = {}): Doc {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'main' }], ...spec } };
}

const toleration = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };

describe('applyLikeApiServer: what the API server accepts', () => {
  it.each<{ name: string; doc: Doc; ops: unknown[]; want: (d: Doc) => unknown; equals: unknown }>([
    { name: 'add a new key', doc: pod(), ops: [{ op: 'add', path: '/spec/priorityClassName', value: 'hi' }], want: (d) => (d['spec'] as Doc)['priorityClassName'], equals: 'hi' },
    { name: 'add over an existing key replaces it', doc: pod({ terminationGracePeriodSeconds: 30 }), ops: [{ op: 'add', path: '/spec/terminationGracePeriodSeconds', value: 600 }], want: (d) => (d['spec'] as Doc)['terminationGracePeriodSeconds'], equals: 600 },
    { name: 'add a whole missing array', doc: pod(), ops: [{ op: 'add', path: '/spec/tolerations', value: [toleration] }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [toleration] },
    { name: '- appends', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'add', path: '/spec/tolerations/-', value: toleration }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [{ key: 'a' }, toleration] },
    { name: 'index == length appends', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'add', path: '/spec/tolerations/1', value: toleration }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [{ key: 'a' }, toleration] },
    { name: 'index 0 inserts in front', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'add', path: '/spec/tolerations/0', value: toleration }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [toleration, { key: 'a' }] },
    { name: '~1 in a key is a slash', doc: pod({ nodeSelector: {} }), ops: [{ op: 'add', path: '/spec/nodeSelector/cloud.google.com~1gke-accelerator', value: 'nvidia-l4' }], want: (d) => (d['spec'] as Doc)['nodeSelector'], equals: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' } },
    { name: '~0 in a key is a tilde, decoded after ~1', doc: pod({ nodeSelector: {} }), ops: [{ op: 'add', path: '/spec/nodeSelector/a~0b~01', value: 'v' }], want: (d) => (d['spec'] as Doc)['nodeSelector'], equals: { 'a~b~1': 'v' } },
    { name: 'remove an existing key', doc: pod({ priority: 0 }), ops: [{ op: 'remove', path: '/spec/priority' }], want: (d) => Object.hasOwn(d['spec'] as Doc, 'priority'), equals: false },
    { name: 'remove an array item', doc: pod({ tolerations: [{ key: 'a' }, { key: 'b' }] }), ops: [{ op: 'remove', path: '/spec/tolerations/0' }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [{ key: 'b' }] },
    { name: 'replace an existing key', doc: pod({ priority: 0 }), ops: [{ op: 'replace', path: '/spec/priority', value: 5 }], want: (d) => (d['spec'] as Doc)['priority'], equals: 5 },
    { name: 'later operations see earlier ones', doc: pod(), ops: [{ op: 'add', path: '/spec/tolerations', value: [] }, { op: 'add', path: '/spec/tolerations/-', value: toleration }], want: (d) => (d['spec'] as Doc)['tolerations'], equals: [toleration] },
    { name: 'move', doc: pod({ priority: 1 }), ops: [{ op: 'move', from: '/spec/priority', path: '/metadata/labels/p' }], want: (d) => [(d['metadata'] as Doc)['labels'], Object.hasOwn(d['spec'] as Doc, 'priority')], equals: [{ app: 'x', p: 1 }, false] },
    { name: 'copy', doc: pod(), ops: [{ op: 'copy', from: '/metadata/labels', path: '/spec/nodeSelector' }], want: (d) => (d['spec'] as Doc)['nodeSelector'], equals: { app: 'x' } },
    { name: 'test that holds', doc: pod(), ops: [{ op: 'test', path: '/metadata/labels', value: { app: 'x' } }], want: (d) => d['kind'], equals: 'Pod' },
  ])('$name', ({ doc, ops, want, equals }) => {
    expect(want(applyLikeApiServer(doc, ops))).toEqual(equals);
  });

  it('leaves the input document untouched', () => {
    const doc = pod({ tolerations: [{ key: 'a' }] });
    const before = structuredClone(doc);
    const out = applyLikeApiServer(doc, [{ op: 'add', path: '/spec/tolerations/-', value: toleration }, { op: 'remove', path: '/metadata/labels' }]);
    expect(doc).toEqual(before);
    expect(out).not.toEqual(before);
  });
});

describe('applyLikeApiServer: what the API server refuses', () => {
  it.each<{ name: string; doc: Doc; ops: unknown[]; error: RegExp }>([
    { name: 'add under a missing parent array', doc: pod(), ops: [{ op: 'add', path: '/spec/tolerations/-', value: toleration }], error: /doc is missing path: "\/spec\/tolerations\/-"/ },
    { name: 'add at index 0 of a missing array', doc: pod(), ops: [{ op: 'add', path: '/spec/tolerations/0', value: toleration }], error: /doc is missing path/ },
    { name: 'add under a missing parent map (escaped key)', doc: pod(), ops: [{ op: 'add', path: '/spec/nodeSelector/cloud.google.com~1gke-accelerator', value: 'nvidia-l4' }], error: /doc is missing path/ },
    { name: 'add two levels below anything that exists', doc: pod(), ops: [{ op: 'add', path: '/spec/affinity/nodeAffinity/x', value: 1 }], error: /doc is missing path/ },
    { name: 'add under a null parent', doc: pod({ nodeSelector: null }), ops: [{ op: 'add', path: '/spec/nodeSelector/k', value: 'v' }], error: /doc is missing path/ },
    { name: 'add under a scalar parent', doc: pod({ priorityClassName: 'x' }), ops: [{ op: 'add', path: '/spec/priorityClassName/k', value: 'v' }], error: /doc is missing path/ },
    { name: 'an unescaped slash is a path separator, not part of a key', doc: pod({ nodeSelector: {} }), ops: [{ op: 'add', path: '/spec/nodeSelector/cloud.google.com/gke-accelerator', value: 'v' }], error: /doc is missing path/ },
    { name: 'array index past the end', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'add', path: '/spec/tolerations/2', value: toleration }], error: /invalid index: 2/ },
    { name: 'array index that is not a number', doc: pod({ tolerations: [] }), ops: [{ op: 'add', path: '/spec/tolerations/first', value: toleration }], error: /not a proper array index/ },
    { name: 'negative array index', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'add', path: '/spec/tolerations/-1', value: toleration }], error: /not a proper array index/ },
    { name: 'the root pointer', doc: pod(), ops: [{ op: 'add', path: '', value: {} }], error: /doc is missing path: ""/ },
    { name: 'a path without a leading slash', doc: pod(), ops: [{ op: 'add', path: 'spec/priority', value: 1 }], error: /malformed|doc is missing path/ },
    { name: 'remove a missing key', doc: pod(), ops: [{ op: 'remove', path: '/spec/priority' }], error: /doc is missing key: "\/spec\/priority"/ },
    { name: 'remove under a missing parent', doc: pod(), ops: [{ op: 'remove', path: '/spec/tolerations/0' }], error: /doc is missing path/ },
    { name: 'remove past the end of an array', doc: pod({ tolerations: [{ key: 'a' }] }), ops: [{ op: 'remove', path: '/spec/tolerations/1' }], error: /doc is missing key/ },
    { name: 'replace a missing key', doc: pod(), ops: [{ op: 'replace', path: '/spec/priority', value: 1 }], error: /doc is missing key/ },
    { name: 'replace an array index == length', doc: pod({ tolerations: [] }), ops: [{ op: 'replace', path: '/spec/tolerations/0', value: toleration }], error: /doc is missing key/ },
    { name: 'move from a missing path', doc: pod(), ops: [{ op: 'move', from: '/spec/priority', path: '/spec/x' }], error: /doc is missing key/ },
    { name: 'copy to a missing parent', doc: pod(), ops: [{ op: 'copy', from: '/metadata/labels', path: '/spec/affinity/x' }], error: /doc is missing path/ },
    { name: 'a failing test', doc: pod(), ops: [{ op: 'test', path: '/kind', value: 'Job' }], error: /test failed/ },
    { name: 'an unknown op', doc: pod(), ops: [{ op: 'merge', path: '/spec', value: {} }], error: /unknown op "merge"/ },
    { name: 'add without a value', doc: pod(), ops: [{ op: 'add', path: '/spec/x' }], error: /malformed/ },
  ])('$name', ({ doc, ops, error }) => {
    expect(() => applyLikeApiServer(doc, ops)).toThrow(error);
  });

  it('names the failing operation and keeps its index', () => {
    const ops = [{ op: 'add', path: '/spec/priority', value: 1 }, { op: 'add', path: '/spec/tolerations/-', value: toleration }];
    let caught: unknown;
    try {
      applyLikeApiServer(pod(), ops);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PatchError);
    expect((caught as PatchError).index).toBe(1);
    expect((caught as PatchError).operation).toEqual(ops[1]);
    expect((caught as PatchError).message).toContain('operation 1 (add /spec/tolerations/-)');
  });

  it('is stricter than fast-json-patch without validation, which lets these through', () => {
    // Why the helper exists: the library's default would hide patches the API server rejects.
    expect(() => jsonpatch.applyPatch(pod(), [{ op: 'replace', path: '/spec/priority', value: 1 }])).not.toThrow();
    expect(() => applyLikeApiServer(pod(), [{ op: 'replace', path: '/spec/priority', value: 1 }])).toThrow(PatchError);
  });
});

describe('pointer', () => {
  it('escapes ~ and / in tokens', () => {
    expect(pointer('spec', 'nodeSelector', 'a/b~c')).toBe('/spec/nodeSelector/a~1b~0c');
    expect(pointer('spec', 'tolerations', 0)).toBe('/spec/tolerations/0');
  });

  it('round-trips through applyLikeApiServer', () => {
    const out = applyLikeApiServer(pod({ nodeSelector: {} }), [{ op: 'add', path: pointer('spec', 'nodeSelector', 'x/y~z'), value: '1' }]);
    expect((out['spec'] as Doc)['nodeSelector']).toEqual({ 'x/y~z': '1' });
  });
});

describe('decodePatch / encodePatch', () => {
  it('round-trips a patch', () => {
    const ops = [{ op: 'add' as const, path: '/spec/tolerations', value: [toleration] }, { op: 'remove' as const, path: '/spec/priority' }];
    expect(decodePatch(encodePatch(ops))).toEqual(ops);
  });

  it.each<[string, string, RegExp]>([
    ['not base64', 'this is not base64!', /not valid base64/],
    ['not JSON', Buffer.from('{nope').toString('base64'), /not JSON/],
    ['not an array', Buffer.from('{"op":"add"}').toString('base64'), /not a JSON array/],
    ['an operation without a path', Buffer.from('[{"op":"remove"}]').toString('base64'), /malformed/],
    ['an unknown op', Buffer.from('[{"op":"_get","path":"/a"}]').toString('base64'), /unknown op/],
  ])('rejects %s', (_name, input, error) => {
    expect(() => decodePatch(input)).toThrow(error);
  });
});

describe('verifyPatch', () => {
  const ops = [{ op: 'add', path: '/spec/priority', value: 1 }];

  it('returns the patched document when the second pass is empty', () => {
    let seen: Doc | undefined;
    const out = verifyPatch(pod(), ops, (patched) => {
      seen = patched;
      return [];
    });
    expect((out['spec'] as Doc)['priority']).toBe(1);
    expect((seen?.['spec'] as Doc)['priority']).toBe(1);
  });

  it('fails when the second pass still patches (the mutation oscillates)', () => {
    expect(() => verifyPatch(pod(), ops, () => [{ op: 'replace', path: '/spec/priority', value: 2 }])).toThrow(/not idempotent/);
  });

  it('fails when the first patch does not apply', () => {
    expect(() => verifyPatch(pod(), [{ op: 'add', path: '/spec/tolerations/0', value: toleration }], () => [])).toThrow(/doc is missing path/);
  });
});
