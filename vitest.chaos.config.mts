import { defineConfig } from 'vitest/config';

// The chaos suite: `npm run test:chaos` (CHAOS_WORKFLOWS, CHAOS_BUDGET_RUNS scale it).
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
