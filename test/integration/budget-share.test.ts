/**
 * The count a worker divides each CCS request budget by, read from the real dev server: every
 * worker polling the activity task queue, whichever partition its polls reached; and worker
 * processes that change their share as another joins.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import { liveWorkers, taskQueuePollers } from '../../src/hosting/budget-share';
import { SIM_USER, eventually, quietRuntime, spawnWorkerProcess, startSim, type WorkerProcess } from '../helpers';
import { tempDir } from '../temp-dir';

let connection: NativeConnection;
beforeAll(async () => {
  quietRuntime();
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await connection?.close();
});

describe('taskQueuePollers', () => {
  it('lists every worker polling the activity task queue, each once', async () => {
    const taskQueue = `budget-share-${randomUUID()}`;
    // One connection each: the SDK refuses two workers of one task queue on one connection.
    const connections = await Promise.all([1, 2, 3].map(() => NativeConnection.connect({ address: inject('temporalAddress') })));
    const workers = await Promise.all(
      ['worker-a', 'worker-b', 'worker-c'].map((identity, i) =>
        Worker.create({ connection: connections[i]!, taskQueue, identity, activities: { idle: () => Promise.resolve() } }),
      ),
    );
    const running = workers.map((w) => w.run());
    try {
      const pollers = taskQueuePollers(connection, 'default', taskQueue);
      // Three polling workers and the one asking, which does not poll yet (as at a worker's start).
      await eventually(async () => liveWorkers(await pollers(), 'starting-worker', Date.now()) === 4, 30_000, 'four workers counted');
      expect(new Set((await pollers()).map((p) => p.identity))).toEqual(new Set(['worker-a', 'worker-b', 'worker-c']));
      // Another task queue's workers are not this one's.
      expect(await taskQueuePollers(connection, 'default', `${taskQueue}-other`)()).toEqual([]);
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await Promise.all(connections.map((c) => c.close()));
    }
  });
});

describe('a worker process', () => {
  /** The `ccs_request_budget_share` a worker's /metrics serves for the default server. */
  async function share(metrics: string): Promise<number | undefined> {
    const text = await (await fetch(`http://${metrics}/metrics`)).text();
    const value = /^ccs_request_budget_share\{[^}]*ccs="default"[^}]*\} (\S+)$/m.exec(text)?.[1];
    return value === undefined ? undefined : Number(value);
  }

  it('sends the whole budget once counted alone, and half of it once a second worker polls the task queue', async () => {
    const sim = await startSim();
    const dir = tempDir('budget-share-');
    writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `budget-share-${randomUUID()}`,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      CCS_BASE_URL: sim.baseUrl,
      CCS_USERNAME: SIM_USER.username,
      CCS_PASSWORD: SIM_USER.password,
      CCS_CA_FILE: join(dir, 'ca.pem'),
      CCS_REQUESTS_PER_SECOND: '12',
    };
    const metrics = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const procs: WorkerProcess[] = [];
    try {
      procs.push(await spawnWorkerProcess({ ...env, METRICS_BIND_ADDRESS: metrics[0]! }));
      // Until Temporal lists it polling, a worker assumes 3 workers (CCS_BUDGET_ASSUMED_WORKERS); then
      // it counts (every 15 s).
      expect(await share(metrics[0]!)).toBe(4);
      await eventually(async () => (await share(metrics[0]!)) === 12, 40_000, 'the worker alone to take the whole budget');
      procs.push(await spawnWorkerProcess({ ...env, METRICS_BIND_ADDRESS: metrics[1]! }));
      await eventually(
        async () => (await share(metrics[0]!)) === 6 && (await share(metrics[1]!)) === 6,
        40_000,
        'both workers to take half',
      );
      expect(procs[0]!.output()).toContain('"msg":"CCS request budget shared","workers":2');
    } finally {
      for (const p of procs) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      await sim.close();
    }
  }, 120_000);
});
