/**
 * `ccsScanWatch` on the time-skipping test server: days of windows in milliseconds. The announce
 * activity is a recorder (its workflow time and event); successes are the `scanSucceeded` signal the
 * announce activity sends for a schedule's Completed runs. Each test has its own task queue and
 * worker, so one can stop its worker across a deadline.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  NotificationEventType,
  scanSucceededSignal,
  scanWatchStatusQuery,
  scanWatchWorkflowId,
  type AnnounceNotificationInput,
  type NotificationEvent,
} from '../../src/domain/notifications';
import type { ccsScanWatch } from '../../src/workflows';
import { WINDOWS_PER_RUN } from '../../src/workflows/scan-watch';
import { eventually, quietRuntime } from '../helpers';
import { HOUR, MINUTE, activityNow, eventsOf } from './rig';

const WINDOW = 26 * HOUR;
/** How late after its deadline a miss may be announced: the workflow task and the activity's schedule. */
const SLACK = MINUTE;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  quietRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
});
afterAll(async () => {
  await env?.teardown();
});

interface Announced {
  at: number;
  event: NotificationEvent;
}

/**
 * A worker on `taskQueue` whose announce activity records each call; stop and start it at will.
 * `sticky: false` for a worker that is stopped mid-test: the test server's clock is held while a
 * task waits, so a task left on a stopped worker's sticky queue would never time out to the normal one.
 */
function watchWorker(taskQueue: string, sticky = true) {
  const announced: Announced[] = [];
  let running: { worker: Worker; done: Promise<void> } | undefined;
  const activities = {
    announceNotification: (input: AnnounceNotificationInput) => {
      announced.push({ at: activityNow(), event: input.event });
      return Promise.resolve({ channels: ['ops'] });
    },
  };
  return {
    announced,
    async start() {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities,
        ...(sticky ? {} : { maxCachedWorkflows: 0 }),
      });
      running = { worker, done: worker.run() };
    },
    async stop() {
      if (!running) return;
      running.worker.shutdown();
      await running.done;
      running = undefined;
    },
  };
}

async function startWatch(taskQueue: string, scheduleId: string): Promise<WorkflowHandle<typeof ccsScanWatch>> {
  return env.client.workflow.start<typeof ccsScanWatch>('ccsScanWatch', {
    taskQueue,
    workflowId: scanWatchWorkflowId(scheduleId),
    args: [{ scheduleId, alertIfNoSuccess: '26h' }],
  });
}

/** Workflow start time (epoch ms), read back from the first window's deadline. */
async function startedAt(handle: WorkflowHandle<typeof ccsScanWatch>): Promise<number> {
  return Date.parse((await handle.query(scanWatchStatusQuery)).deadline) - WINDOW;
}

async function succeed(handle: WorkflowHandle<typeof ccsScanWatch>, at: number): Promise<void> {
  await handle.signal(scanSucceededSignal, { at: new Date(at).toISOString(), workflowId: `run-${at}`, runId: randomUUID() });
}

/** Cancels the watchdog (what `schedule delete` does) and checks it ends cancelled, never on its own. */
async function cancelled(handle: WorkflowHandle<typeof ccsScanWatch>): Promise<void> {
  await handle.cancel();
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
}

describe('ccsScanWatch', () => {
  it('raises scan.missed once per 26 h window without a success, scan.recovered once after one, then nothing', async () => {
    const taskQueue = `ts-${randomUUID()}`;
    const w = watchWorker(taskQueue);
    await w.start();
    try {
      const schedule = `nightly-${randomUUID().slice(0, 8)}`;
      const handle = await startWatch(taskQueue, schedule);
      const t0 = await startedAt(handle);

      await env.sleep(WINDOW + SLACK);
      await eventually(() => w.announced.length >= 1);
      await env.sleep(WINDOW);
      await eventually(() => w.announced.length >= 2);
      expect(w.announced).toHaveLength(2);
      const [first, second] = w.announced;
      for (const [i, miss] of [first!, second!].entries()) {
        expect(miss.event.type).toBe(NotificationEventType.ScanMissed);
        expect(miss.at - t0).toBeGreaterThanOrEqual((i + 1) * WINDOW);
        expect(miss.at - t0).toBeLessThan((i + 1) * WINDOW + SLACK);
        expect(miss.event).toMatchObject({
          severity: 'critical',
          incident: { action: 'trigger', key: `scan/${schedule}` },
          schedule,
          workflowType: 'ccsScanWatch',
          details: { window: '26h', lastSuccessAt: null, missedSince: new Date(t0 + WINDOW).toISOString(), missedWindows: i + 1 },
        });
      }
      expect(first!.event.id).not.toBe(second!.event.id);
      expect(await handle.query(scanWatchStatusQuery)).toMatchObject({ scheduleId: schedule, window: '26h', missedWindows: 2 });

      // 60 h: the scan completes again.
      const now = await env.currentTimeMs();
      await env.sleep(t0 + 60 * HOUR - now);
      const success = await env.currentTimeMs();
      await succeed(handle, success);
      await eventually(() => w.announced.length >= 3);
      const recovered = w.announced[2]!;
      expect(recovered.event).toMatchObject({
        type: NotificationEventType.ScanRecovered,
        severity: 'info',
        incident: { action: 'resolve', key: `scan/${schedule}` },
        details: { lastSuccessAt: new Date(success).toISOString(), missedSince: new Date(t0 + WINDOW).toISOString() },
      });
      expect(await handle.query(scanWatchStatusQuery)).toMatchObject({
        lastSuccessAt: new Date(success).toISOString(),
        missedSince: null,
        missedWindows: 0,
        deadline: new Date(success + WINDOW).toISOString(),
      });

      // A success within each of the next three windows: nothing more is raised over 3 days.
      let last = success;
      for (let day = 0; day < 3; day++) {
        await env.sleep(24 * HOUR);
        last = await env.currentTimeMs();
        await succeed(handle, last);
        await eventually(async () => (await handle.query(scanWatchStatusQuery)).lastSuccessAt === new Date(last).toISOString());
      }
      await env.sleep(WINDOW - HOUR);
      expect(w.announced).toHaveLength(3);
      await cancelled(handle);
    } finally {
      await w.stop();
    }
  });

  it('takes a success just before the deadline as the new window start, and ignores an older one', async () => {
    const taskQueue = `ts-${randomUUID()}`;
    const w = watchWorker(taskQueue);
    await w.start();
    try {
      const handle = await startWatch(taskQueue, `weekly-${randomUUID().slice(0, 8)}`);
      const t0 = await startedAt(handle);
      await env.sleep(WINDOW - MINUTE);
      const success = await env.currentTimeMs();
      await succeed(handle, success);
      await eventually(async () => (await handle.query(scanWatchStatusQuery)).lastSuccessAt !== null);
      // A late signal about an older run changes nothing.
      await succeed(handle, success - 5 * HOUR);
      await env.sleep(2 * MINUTE);
      const status = await handle.query(scanWatchStatusQuery);
      expect(status).toMatchObject({
        lastSuccessAt: new Date(success).toISOString(),
        missedWindows: 0,
        deadline: new Date(success + WINDOW).toISOString(),
      });
      expect(w.announced).toHaveLength(0);
      expect((await env.currentTimeMs()) - t0).toBeGreaterThan(WINDOW);

      // The window moved, it did not stop: a miss comes 26 h after that success.
      await env.sleep(WINDOW);
      await eventually(() => w.announced.length >= 1);
      expect(w.announced[0]!.at - success).toBeGreaterThanOrEqual(WINDOW);
      expect(w.announced[0]!.at - success).toBeLessThan(WINDOW + SLACK);
      expect(w.announced[0]!.event.details).toMatchObject({ lastSuccessAt: new Date(success).toISOString() });
      await cancelled(handle);
    } finally {
      await w.stop();
    }
  });

  it('raises the miss as soon as a worker is back when none was up at the deadline', async () => {
    const taskQueue = `ts-${randomUUID()}`;
    const w = watchWorker(taskQueue, false);
    await w.start();
    try {
      const handle = await startWatch(taskQueue, `monthly-${randomUUID().slice(0, 8)}`);
      const t0 = await startedAt(handle);
      await w.stop();
      // The test server holds its clock while a workflow task waits for a worker, so time stops at the
      // deadline until one is back: the deadline's timer fires with no worker up.
      const skipping = env.sleep(WINDOW + 3 * HOUR);
      await eventually(async () => (await eventsOf(handle)).some((e) => e.type === 'TIMER_FIRED'), 20_000, 'the deadline timer fired');
      expect(w.announced).toHaveLength(0);
      await w.start();
      await eventually(() => w.announced.length >= 1);
      await skipping;
      const [miss] = w.announced;
      expect(miss!.at).toBeGreaterThanOrEqual(t0 + WINDOW);
      expect(miss!.at - (t0 + WINDOW)).toBeLessThan(SLACK);
      expect(miss!.event.details).toMatchObject({ missedSince: new Date(t0 + WINDOW).toISOString(), missedWindows: 1 });
      expect(w.announced).toHaveLength(1);
      await cancelled(handle);
    } finally {
      await w.stop();
    }
  });

  it('continues as new after 100 windows, carrying the miss: one scan.missed per window, each under its own id', async () => {
    const taskQueue = `ts-${randomUUID()}`;
    const w = watchWorker(taskQueue);
    await w.start();
    try {
      const scheduleId = `hourly-${randomUUID().slice(0, 8)}`;
      const handle = await env.client.workflow.start<typeof ccsScanWatch>('ccsScanWatch', {
        taskQueue,
        workflowId: scanWatchWorkflowId(scheduleId),
        args: [{ scheduleId, alertIfNoSuccess: '1m' }],
      });
      const t0 = Date.parse((await handle.query(scanWatchStatusQuery)).deadline) - MINUTE;
      await env.sleep(WINDOWS_PER_RUN * MINUTE + 30_000);
      await eventually(() => w.announced.length >= WINDOWS_PER_RUN, 60_000, `${WINDOWS_PER_RUN} misses`);
      expect(w.announced).toHaveLength(WINDOWS_PER_RUN);
      expect(new Set(w.announced.map((a) => a.event.id)).size).toBe(WINDOWS_PER_RUN);
      const latest = await handle.describe();
      expect(latest.runId).not.toBe(handle.firstExecutionRunId);
      expect(await handle.query(scanWatchStatusQuery)).toMatchObject({
        missedWindows: WINDOWS_PER_RUN,
        missedSince: new Date(t0 + MINUTE).toISOString(),
        deadline: new Date(t0 + (WINDOWS_PER_RUN + 1) * MINUTE).toISOString(),
      });
      await cancelled(handle);
    } finally {
      await w.stop();
    }
  }, 120_000);
});
