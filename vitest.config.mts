import { defineConfig } from 'vitest/config';

// Test tiers (README "Tests"): `npm run test:unit` runs the first alone, `npm test` runs all three.
export default defineConfig({
  test: {
    // Workers and the Temporal core bridge hold native resources: a process per test file.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      // No Temporal server or binary: parsing, validation, config, the client against the in-process
      // simulator, activities in a mock environment, lint rules, bundling and history replay.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/setup/bundle.ts'] } },
      // Temporal's time-skipping test server (a server per file): workflows with scripted activities,
      // hours of timers in milliseconds.
      { extends: true, test: { name: 'workflow', include: ['test/workflow/**/*.test.ts'], globalSetup: ['test/setup/time-skipping.ts'] } },
      // A real dev server: the whole system (simulator over real sockets, worker processes, CLI, demo, image build).
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/temporal.ts'],
          setupFiles: ['test/setup/typescript-require.ts'],
        },
      },
    ],
  },
});
