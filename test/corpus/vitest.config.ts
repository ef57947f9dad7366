import { defineConfig } from 'vitest/config';

/**
 * The external corpus suite: public manifests and captured reviews from `../shared/corpus`, a folder
 * beside the checkout that most clones do not have. Run it with `npm run test:corpus` (run.mjs
 * skips it, with one line, when the folder is absent).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/corpus/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // A test that runs no assertion fails, as in the main suite.
    setupFiles: ['test/support/has-assertions.ts'],
  },
});
