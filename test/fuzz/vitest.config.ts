import { defineConfig } from 'vitest/config';

/** `npm run fuzz` (test/fuzz/fuzz.mjs): the time-bounded fuzz run, outside `npm test`. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/fuzz/fuzz.long.ts'],
    testTimeout: 0,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
