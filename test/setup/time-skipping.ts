/**
 * The workflow tier's global setup: Temporal's time-skipping test server installed (cached; see
 * src/dev/temporal-test-server.ts) and one workflow bundle. Each test file starts its own test
 * server from `temporalTestServerPath`: a test server's clock is shared by everything on it, so
 * files running side by side must not skip each other's time.
 */
import type { TestProject } from 'vitest/node';
import { ensureTemporalTestServer } from '../../src/dev/temporal-test-server';
import { buildBundle } from './bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalTestServerPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const [testServer, bundle] = await Promise.all([ensureTemporalTestServer((line) => console.error(line)), buildBundle()]);
  project.provide('temporalTestServerPath', testServer);
  project.provide('workflowBundlePath', bundle.path);
  return bundle.remove;
}
