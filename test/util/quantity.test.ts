import { describe, expect, it } from 'vitest';
import { isPositiveInteger, parseQuantity } from '../../src/util/quantity.js';

describe('parseQuantity', () => {
  it.each<[unknown, number]>([
    ['1', 1],
    [1, 1],
    [8, 8],
    ['0', 0],
    ['0.5', 0.5],
    ['-1', -1],
    ['+2', 2],
    ['1e3', 1000],
    ['1E3', 1000],
    ['2e0', 2],
    ['0.07e2', 7],
    ['500m', 0.5],
    ['1000m', 1],
    ['7000m', 7],
    ['2k', 2000],
    ['2Gi', 2 * 2 ** 30],
    ['1Ki', 1024],
    ['3M', 3e6],
    ['.5', 0.5],
    [' 2 ', 2],
  ])('%j -> %d', (raw, want) => {
    expect(parseQuantity(raw)).toBe(want);
  });

  it.each<[unknown]>([
    [''], ['abc'], ['1.2.3'], ['Gi'], ['1GB'], ['1 Gi'], ['e3'], ['--1'], ['1e'], ['0x10'],
    [Number.NaN], [Number.POSITIVE_INFINITY], [null], [undefined], [true], [{}], [['1']],
  ])('%j is not a quantity', (raw) => {
    expect(parseQuantity(raw)).toBeUndefined();
  });
});

describe('isPositiveInteger', () => {
  it.each<[number | undefined, boolean]>([
    [1, true],
    [8, true],
    [1000, true],
    [2 ** 31, true],
    [0, false],
    [-1, false],
    [0.5, false],
    [1.0000001, false],
    [2 ** 53, false],
    [Number.NaN, false],
    [undefined, false],
  ])('%s -> %s', (v, want) => {
    expect(isPositiveInteger(v)).toBe(want);
  });

  it.each<[unknown, boolean]>([
    ['1', true], [1, true], ['1e3', true], ['2000m', true], ['2Gi', true],
    ['0', false], ['0.5', false], ['500m', false], ['-1', false], ['x', false],
  ])('whole device count %j -> %s', (raw, want) => {
    expect(isPositiveInteger(parseQuantity(raw))).toBe(want);
  });
});
