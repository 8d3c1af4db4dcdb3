/**
 * One Temporal dev server and one workflow bundle for the workflow and integration tiers; each test
 * file then uses its own task queues and simulators. The server is stopped after every worker
 * (teardown runs last).
 */
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/dev/dev-server';
import { buildBundle } from './bundle';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startDevServer({ log: (line) => console.error(line) });
  let bundle;
  try {
    bundle = await buildBundle();
  } catch (err) {
    await server.stop();
    throw err;
  }
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundle.path);
  project.provide('temporalCliPath', server.process.spawnfile);
  return async () => {
    await server.stop();
    bundle.remove();
  };
}
