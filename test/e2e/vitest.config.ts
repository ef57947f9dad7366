import { defineConfig } from 'vitest/config';

/**
 * End-to-end suite: a real etcd + kube-apiserver (KUBEBUILDER_ASSETS) in front of the webhook as
 * users run it. One fork, one file at a time: the cluster is expensive and owns loopback ports.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.e2e.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: true,
    // The suite runs dist/main.js: built from src/ once, before any test.
    globalSetup: ['test/e2e/require-assets.ts', 'test/global-setup.ts'],
    sequence: { concurrent: false, shuffle: false },
    // Starting etcd + kube-apiserver takes ~10 s on a fast machine, much more on a loaded CI runner.
    hookTimeout: 180_000,
    testTimeout: 60_000,
    teardownTimeout: 60_000,
  },
});
