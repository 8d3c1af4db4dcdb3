/**
 * Worker Versioning on the real dev server (the pinned CLI's, server 1.29.1): a worker of a deployment
 * that never had a current version makes its own current, a second build does not take over, a
 * deliberate choice of unversioned workers is respected, and runs started then are pinned to the
 * current build. Each test has its own deployment name and task queue.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWorker } from '../../src/hosting/create-worker';
import { ensureCurrentVersion, type CurrentVersionOutcome } from '../../src/hosting/deployment-version';
import { startDevServer } from '../../src/dev/dev-server';
import type { WorkerVersioningConfig } from '../../src/hosting/config';
import { tempDir } from '../temp-dir';

const evidenceDir = tempDir('ccs-versioning-evidence-');

let native: NativeConnection;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});

afterAll(async () => {
  await connection?.close();
  await native?.close();
});

/** A worker of `versioning` on `taskQueue`, running until the test's `stop()`. */
async function versionedWorker(
  taskQueue: string,
  versioning: WorkerVersioningConfig,
): Promise<{ worker: Worker; stop: () => Promise<void> }> {
  const worker = await createWorker({
    connection: native,
    taskQueue,
    servers: {},
    versioning,
    workflowBundlePath: inject('workflowBundlePath'),
    evidence: evidenceDir,
  });
  const running = worker.run();
  return {
    worker,
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

const ensure = (worker: Worker, versioning: WorkerVersioningConfig): Promise<CurrentVersionOutcome> =>
  ensureCurrentVersion({
    service: native.workflowService,
    withDeadline: (d, fn) => native.withDeadline(d, fn),
    namespace: 'default',
    versioning,
    identity: worker.options.identity,
    timeoutMs: 30_000,
  });

describe('Worker Versioning', () => {
  it('the first build of a deployment makes itself current; a second build does not take over', async () => {
    const deploymentName = `ccs-test-${randomUUID().slice(0, 8)}`;
    const taskQueue = `versioning-${randomUUID()}`;
    const first = { deploymentName, buildId: '0.1.0+aaaaaaa', localBuild: false };
    const second = { deploymentName, buildId: '0.1.0+bbbbbbb', localBuild: false };
    const a = await versionedWorker(taskQueue, first);
    const b = await versionedWorker(taskQueue, second);
    try {
      expect(await ensure(a.worker, first)).toEqual({ outcome: 'made-current' });
      expect(await ensure(a.worker, first)).toEqual({ outcome: 'already-current' });
      expect(await ensure(b.worker, second)).toEqual({ outcome: 'other-current', current: first.buildId });
      // A run started now goes to the current build and is pinned there (resolveCcsJobNames refuses no names at once).
      const handle = await client.workflow.start('resolveCcsJobNames', {
        taskQueue,
        workflowId: `versioning-${randomUUID()}`,
        args: [{ names: [] }],
      });
      await handle.result().catch(() => undefined);
      const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
      expect({ behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId }).toEqual({
        behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
        buildId: first.buildId,
      });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('respects unversioned workers chosen on purpose', async () => {
    const deploymentName = `ccs-test-${randomUUID().slice(0, 8)}`;
    const versioning = { deploymentName, buildId: '0.1.0+ccccccc', localBuild: false };
    const w = await versionedWorker(`versioning-${randomUUID()}`, versioning);
    try {
      expect(await ensure(w.worker, versioning)).toEqual({ outcome: 'made-current' });
      await connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace: 'default', deploymentName, identity: 'test' });
      expect(await ensure(w.worker, versioning)).toEqual({ outcome: 'unversioned-chosen' });
    } finally {
      await w.stop();
    }
  });

  it('a server with Worker Deployments disabled is named, with the setting that turns versioning off', async () => {
    const off = await startDevServer({ extraArgs: ['--dynamic-config-value', 'system.enableDeploymentVersions=false'] });
    const conn = await NativeConnection.connect({ address: off.address });
    try {
      const versioning = { deploymentName: `ccs-test-${randomUUID().slice(0, 8)}`, buildId: '0.1.0+ddddddd', localBuild: false };
      const found = ensureCurrentVersion({
        service: conn.workflowService,
        namespace: 'default',
        versioning,
        identity: 'test',
        timeoutMs: 10_000,
      });
      const err = await found.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).toBe('WorkerVersioningUnavailableError');
      expect(err?.message).toContain('set TEMPORAL_WORKER_VERSIONING=false');
    } finally {
      await conn.close();
      await off.stop();
    }
  });
});
