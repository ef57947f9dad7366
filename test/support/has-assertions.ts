/**
 * Every test must check something: a test whose loop or early return skipped all of its `expect`s
 * fails ("expected any number of assertion, but got none") instead of passing vacuously.
 */
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
