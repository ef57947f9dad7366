import { describe, expect, it } from 'vitest';
import { withoutNulls } from '../../src/util/nulls.js';

describe('withoutNulls: what the API server makes of fields written as null', () => {
  it('drops struct fields written as null, at any depth, and keeps array positions', () => {
    const spec = { nodeSelector: null, tolerations: null, containers: [{ name: 'a', resources: { requests: null, limits: { 'nvidia.com/gpu': '1' } } }, null] };
    expect(withoutNulls(spec)).toEqual({ containers: [{ name: 'a', resources: { limits: { 'nvidia.com/gpu': '1' } } }, null] });
  });

  it('keeps entries of map fields written as null (the API server keeps the key with a zero value)', () => {
    const spec = { nodeSelector: { pool: null }, containers: [{ resources: { limits: { 'nvidia.com/gpu': null } } }] };
    expect(withoutNulls(spec)).toEqual(spec);
  });

  it('returns the input itself when nothing is dropped, and keeps __proto__ members as data', () => {
    const spec = { containers: [{ name: 'a' }] };
    expect(withoutNulls(spec)).toBe(spec);
    const poisoned = JSON.parse('{"a": null, "__proto__": {"polluted": true}}') as Record<string, unknown>;
    const out = withoutNulls(poisoned) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
