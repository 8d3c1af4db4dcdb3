/**
 * `runCcsJob`'s timers on the time-skipping test server, with a scripted CCS: hours of workflow time
 * in milliseconds, each moment read from the workflow's history or the scripted calls' workflow times.
 * A Temporal timer starts when the workflow task that set it completes, so moments are asserted from
 * the timer's start, to within a second of processing.
 */
import { describe, expect, it } from 'vitest';
import { pauseSignal, statusQuery, type RunCcsJobInput } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { runCcsJob } from '../../src/workflows';
import { failureOf } from '../helpers';
import { HOUR, JOB, MINUTE, eventsOf, jobRun, scriptedCcs, startOf, timeSkippingEnv, timersOf, withWorker, type Step } from './rig';

const rig = timeSkippingEnv();
/** Processing time allowed between a timer firing and what it causes (real milliseconds, not hours). */
const SLACK = 1_000;
const POLL = 5 * MINUTE;

function start(taskQueue: string, input: Partial<RunCcsJobInput>) {
  return rig.env.client.workflow.start<typeof runCcsJob>('runCcsJob', {
    taskQueue,
    workflowId: `timers-${Date.now()}-${Math.random()}`,
    args: [{ jobId: JOB, pollInterval: POLL, ...input }],
  });
}

const executing: Step[] = [{ afterMs: 0, status: 'Executing' }];

describe('runCcsJob deadline', () => {
  it('aborts a run that never ends when its timeout passes (3 h), and fails CcsJobTimedOut', async () => {
    const ccs = scriptedCcs(executing);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { timeout: '3h' });
      expect((await failureOf(handle.result())).type).toBe(ErrorType.JobTimedOut);
      const events = await eventsOf(handle);
      const [deadline] = timersOf(events, 3 * HOUR);
      expect(deadline?.fired).toBeDefined();
      const [abort] = ccs.times('abortJobRun');
      expect(ccs.times('abortJobRun')).toHaveLength(1);
      expect(abort! - deadline!.started).toBeGreaterThanOrEqual(3 * HOUR);
      expect(abort! - deadline!.started).toBeLessThan(3 * HOUR + SLACK);
      // Followed until then at the poll interval: a read every 5 minutes, none after the abort but its confirmation.
      const reads = ccs.times('waitForJobRunChange').filter((t) => t < abort!);
      expect(reads.length).toBeGreaterThanOrEqual((3 * HOUR) / POLL - 1);
      expect(abort! - startOf(events)).toBeLessThan(3 * HOUR + 5 * SLACK);
    });
  });

  it('holds the deadline during a pause that says so, then counts the rest: 3 h timeout, 90 min paused, abort at 4 h 30', async () => {
    const ccs = scriptedCcs(executing);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { timeout: '3h' });
      await rig.env.sleep(HOUR);
      const pausedAt = await rig.env.currentTimeMs();
      await handle.signal(pauseSignal, { reason: 'patching', until: new Date(pausedAt + 90 * MINUTE).toISOString(), holdDeadline: true });
      await rig.env.sleep(MINUTE);
      expect((await handle.query(statusQuery)).phase).toBe('paused');
      expect((await failureOf(handle.result())).type).toBe(ErrorType.JobTimedOut);
      const events = await eventsOf(handle);
      const [abort] = ccs.times('abortJobRun');
      const deadlineStarted = timersOf(events, 3 * HOUR)[0]!.started;
      expect(abort! - deadlineStarted).toBeGreaterThanOrEqual(4.5 * HOUR - SLACK);
      expect(abort! - deadlineStarted).toBeLessThan(4.5 * HOUR + 2 * SLACK);
      // Nothing reached CCS while paused.
      expect(ccs.calls.filter((c) => c.at > pausedAt + SLACK && c.at < pausedAt + 90 * MINUTE - SLACK)).toEqual([]);
    });
  });

  it('keeps counting during a pause that does not hold it: aborted at 3 h while still paused', async () => {
    const ccs = scriptedCcs(executing);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { timeout: '3h' });
      await rig.env.sleep(HOUR);
      await handle.signal(pauseSignal, { reason: 'hold', until: new Date((await rig.env.currentTimeMs()) + 5 * HOUR).toISOString() });
      expect((await failureOf(handle.result())).type).toBe(ErrorType.JobTimedOut);
      const [abort] = ccs.times('abortJobRun');
      const deadlineStarted = timersOf(await eventsOf(handle), 3 * HOUR)[0]!.started;
      expect(abort! - deadlineStarted).toBeGreaterThanOrEqual(3 * HOUR);
      expect(abort! - deadlineStarted).toBeLessThan(3 * HOUR + SLACK);
    });
  });
});

describe('runCcsJob pause', () => {
  it('a pause with until ends at until by itself: no read in between, the next read at until, then followed to the end', async () => {
    const ccs = scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 6 * HOUR, status: 'Completed' },
    ]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, {});
      await rig.env.sleep(HOUR);
      const pausedAt = await rig.env.currentTimeMs();
      const until = pausedAt + 2 * HOUR;
      await handle.signal(pauseSignal, { reason: 'window', until: new Date(until).toISOString() });
      await rig.env.sleep(HOUR);
      const status = await handle.query(statusQuery);
      expect(status.phase).toBe('paused');
      expect(status.paused).toMatchObject({ reason: 'window', until: new Date(until).toISOString(), by: 'signal' });
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      const reads = ccs.times('waitForJobRunChange');
      expect(reads.filter((t) => t > pausedAt + SLACK && t < until)).toEqual([]);
      const firstAfter = reads.find((t) => t >= until)!;
      expect(firstAfter - until).toBeLessThan(SLACK);
      expect(Date.parse(result.endTime!) - ccs.startedAt!).toBeGreaterThanOrEqual(6 * HOUR);
      expect(Date.parse(result.endTime!) - ccs.startedAt!).toBeLessThan(6 * HOUR + POLL + SLACK);
    });
  });
});

describe('runCcsJob duration alert', () => {
  it('flags a run late at its given expected duration (2 h) and follows it on', async () => {
    const ccs = scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 5 * HOUR, status: 'Completed' },
    ]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { expectedDuration: '2h' });
      await rig.env.sleep(2 * HOUR - MINUTE);
      expect((await handle.query(statusQuery)).late).toBeUndefined();
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(result.late).toMatchObject({ expectedMs: 2 * HOUR, basis: 'given' });
      const lateAt = Date.parse(result.late!.since) - ccs.startedAt!;
      expect(lateAt).toBeGreaterThanOrEqual(2 * HOUR);
      expect(lateAt).toBeLessThan(2 * HOUR + 2 * SLACK);
      expect(ccs.times('abortJobRun')).toEqual([]);
    });
  });

  const history = [10, 20, 30, 40].map((minutes, i) => {
    const end = Date.parse('2026-11-01T00:00:00Z') + i * 86_400_000;
    return jobRun('Completed', {
      jobRunId: `0000000${i}-0000-0000-0000-000000000000`,
      statusCode: 4,
      startTime: new Date(end - minutes * MINUTE).toISOString(),
      endTime: new Date(end).toISOString(),
    });
  });

  it('"auto": late at p95 of the job history × factor (40 min × 1.5 = 60 min)', async () => {
    const ccs = scriptedCcs(
      [
        { afterMs: 0, status: 'Executing' },
        { afterMs: 2 * HOUR, status: 'Completed' },
      ],
      { known: history },
    );
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const result = await (await start(taskQueue, { expectedDuration: 'auto', expectedDurationFactor: 1.5 })).result();
      expect(result.late).toMatchObject({ expectedMs: HOUR });
      expect(result.late!.basis).toContain('p95 of 4 completed runs');
      const lateAt = Date.parse(result.late!.since) - ccs.startedAt!;
      expect(lateAt).toBeGreaterThanOrEqual(HOUR);
      expect(lateAt).toBeLessThan(HOUR + 2 * SLACK);
    });
  });

  it('"auto": a run that ends before p95 × factor is not late', async () => {
    const ccs = scriptedCcs(
      [
        { afterMs: 0, status: 'Executing' },
        { afterMs: 55 * MINUTE, status: 'Completed' },
      ],
      { known: history },
    );
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { expectedDuration: 'auto', expectedDurationFactor: 1.5, pollInterval: MINUTE });
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(result.late).toBeUndefined();
      expect(timersOf(await eventsOf(handle), HOUR)).toHaveLength(1);
    });
  });
});

describe('runCcsJob maintenance', () => {
  it('holds before executing while its server is in maintenance, looks again every minute, and executes at the first look that finds it closed (after 21)', async () => {
    // The look is a local activity, which runs on the worker's clock: the window closes by count, and
    // the moments are read from the history (server time).
    let looks = 0;
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }], {
      window: () => (++looks <= 21 ? { reason: 'patching', until: null } : null),
    });
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, {});
      await rig.env.sleep(MINUTE / 2);
      expect((await handle.query(statusQuery)).paused).toMatchObject({ by: 'maintenance', reason: 'patching' });
      expect(ccs.times('executeJob')).toEqual([]);
      expect((await handle.result()).status).toBe('Completed');
      expect(looks).toBe(22);
      const events = await eventsOf(handle);
      const rechecks = timersOf(events, MINUTE);
      expect(rechecks).toHaveLength(21);
      // Back to back: each recheck timer starts when the previous one fired.
      for (const [i, t] of rechecks.slice(1).entries()) expect(t.started - rechecks[i]!.fired!).toBeLessThan(SLACK);
      const executed = events.find((e) => e.type === 'ACTIVITY_TASK_SCHEDULED' && e.activity === 'executeJob')!.at;
      expect(executed - rechecks.at(-1)!.fired!).toBeGreaterThanOrEqual(0);
      expect(executed - rechecks.at(-1)!.fired!).toBeLessThan(SLACK);
      expect(executed - startOf(events)).toBeGreaterThanOrEqual(21 * MINUTE);
      expect(executed - startOf(events)).toBeLessThan(21 * MINUTE + 5 * SLACK);
    });
  });
});
