import { defineConfig } from 'vitest/config';

// The cluster suite: `npm run test:cluster` (CLUSTER_WORKFLOWS scales it). It starts its own cluster
// (PostgreSQL, the Temporal server built from its module, workers from the compiled build).
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 900_000,
    teardownTimeout: 120_000,
    setupFiles: ['test/setup/typescript-require.ts'],
  },
});
