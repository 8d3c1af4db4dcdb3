/**
 * One Temporal dev server and one workflow bundle for the whole test run; each test file then uses
 * its own task queues and simulators. The server is stopped after every worker (teardown runs last).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../src/dev/dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    temporalCliPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'ccs-test-'));
  const server = await startDevServer({ log: (line) => console.error(line) });
  let bundle;
  try {
    bundle = await bundleWorkflowCode({
      workflowsPath: join(__dirname, '../src/workflows/index.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('temporalCliPath', server.process.spawnfile);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
