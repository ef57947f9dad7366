import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // The e2e suite needs a cluster; the optional external corpus has its own script (test/corpus/run.mjs).
    exclude: ['test/e2e/**', 'test/corpus/**', 'node_modules/**'],
    testTimeout: 20_000,
    pool: 'forks',
    // dist/ is built from src/ once per run, before any test (the CLI tests run it).
    globalSetup: ['test/global-setup.ts'],
    // A test that runs no assertion fails.
    setupFiles: ['test/support/has-assertions.ts'],
  },
});
