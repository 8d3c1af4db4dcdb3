import { defineConfig } from 'vitest/config';

// The chaos suite: `npm run test:chaos` (CHAOS_WORKFLOWS, CHAOS_BUDGET_RUNS scale it).
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    globalSetup: ['test/setup/temporal.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    onUnhandledError(error: Error) {
      // The Temporal client's gRPC retry timer can fire after a scenario closed its connection while
      // the dev server was being restarted: the SDK tidying up, not a broken invariant. Anything else fails the run.
      if (error.message?.includes('Channel has been shut down')) return false;
    },
  },
});
