/**
 * `runCcsJob`'s orchestration against scripted activities on the time-skipping test server: which
 * activity is called when, with what, and what the workflow makes of the answers, with no CCS at all.
 */
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery, type RunCcsJobInput } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { runCcsJob } from '../../src/workflows';
import { failureOf } from '../helpers';
import { JOB, MINUTE, jobRun, scriptedCcs, timeSkippingEnv, watchOf, withWorker } from './rig';

const rig = timeSkippingEnv();
const SLACK = 1_000;

function start(taskQueue: string, input: Partial<RunCcsJobInput> = {}) {
  return rig.env.client.workflow.start<typeof runCcsJob>('runCcsJob', {
    taskQueue,
    workflowId: `scripted-${Date.now()}-${Math.random()}`,
    args: [{ jobId: JOB, pollInterval: '1m', ...input }],
  });
}

/** The activities called, each run of repeats (retry-as-poll attempts) counted once. */
function sequence(calls: { name: string }[]): string[] {
  return calls.map((c) => c.name).filter((name, i, all) => name !== all[i - 1]);
}

describe('runCcsJob with scripted activities', () => {
  it('lists, executes, then waits for each change until the run ends; no extra read when the end came with messages', async () => {
    const ccs = scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 10 * MINUTE, status: 'Completed', statusCode: 4, messages: [{ time: null, text: 'ok' }] },
    ]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const result = await (await start(taskQueue)).result();
      expect(result).toMatchObject({ status: 'Completed', adopted: false, messages: [{ time: null, text: 'ok' }] });
      expect(result.polls).toBeGreaterThanOrEqual(2);
      expect(sequence(ccs.calls)).toEqual(['maintenanceWindowOf', 'listJobRuns', 'executeJob', 'waitForJobRunChange']);
      // The read that saw Completed (with its messages) was the last call.
      expect(ccs.calls.at(-1)!.at - ccs.startedAt!).toBeGreaterThanOrEqual(10 * MINUTE);
    });
  });

  it('follows a run in progress with ifRunning attach, and never executes', async () => {
    const ccs = scriptedCcs(
      [
        { afterMs: 0, status: 'Executing' },
        { afterMs: 20 * MINUTE, status: 'Faulted', exception: 'boom' },
      ],
      { known: [jobRun('Executing', { statusCode: 2 })] },
    );
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const f = await failureOf((await start(taskQueue, { ifRunning: 'attach' })).result());
      expect(f.type).toBe(ErrorType.JobFaulted);
      expect(f.message).toContain('boom');
      expect(sequence(ccs.calls)).toEqual(['maintenanceWindowOf', 'listJobRuns', 'waitForJobRunChange']);
    });
  });

  it('fails CcsJobAlreadyRunning before executing when a run is in progress and attach was not asked for', async () => {
    const ccs = scriptedCcs([], { known: [jobRun('Executing', { statusCode: 2 })] });
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const f = await failureOf((await start(taskQueue)).result());
      expect(f.type).toBe(ErrorType.JobAlreadyRunning);
      expect(sequence(ccs.calls)).toEqual(['maintenanceWindowOf', 'listJobRuns']);
    });
  });

  it('on a cancel signal stops waiting, aborts once, confirms, and completes Aborted with the reason', async () => {
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Executing' }]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await rig.env.sleep(10 * MINUTE);
      expect((await handle.query(statusQuery)).phase).toBe('running');
      await handle.signal(cancelSignal, { reason: 'scan called off' });
      const result = await handle.result();
      expect(result.status).toBe('Aborted');
      expect(result.cancelled).toMatchObject({ by: 'signal', reason: 'scan called off' });
      expect(ccs.times('abortJobRun')).toHaveLength(1);
      expect(ccs.calls.at(-1)!.name).toBe('waitForJobRunChange');
    });
  });

  it('on a native cancellation aborts the run, then ends cancelled', async () => {
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Executing' }]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue);
      await rig.env.sleep(10 * MINUTE);
      expect((await handle.query(statusQuery)).phase).toBe('running');
      await handle.cancel();
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => (e as { cause?: unknown }).cause,
      );
      expect(err).toBeInstanceOf(CancelledFailure);
      expect(ccs.times('abortJobRun')).toHaveLength(1);
    });
  });

  it('hands every wait the moment the status went outside 0-7 and the time allowed; flags CcsUnknownStatus when it has lasted 15 min, clears it on a known status', async () => {
    const ccs = scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 5 * MINUTE, status: 'Stage9', statusCode: null },
      { afterMs: 40 * MINUTE, status: 'Executing' },
      { afterMs: 60 * MINUTE, status: 'Completed', statusCode: 4 },
    ]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, { unknownStatusAttentionAfter: '15m' });
      await rig.env.sleep(30 * MINUTE);
      const status = await handle.query(statusQuery);
      expect(status.attention?.type).toBe(ErrorType.UnknownStatus);
      const flaggedAt = Date.parse(status.attention!.since) - ccs.startedAt!;
      expect(flaggedAt).toBeGreaterThanOrEqual(20 * MINUTE);
      expect(flaggedAt).toBeLessThan(21 * MINUTE + SLACK);
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect((await handle.query(statusQuery)).attention).toBeUndefined();
      const watched = ccs.calls
        .filter((c) => c.name === 'waitForJobRunChange')
        .map((c) => ({ at: c.at - ccs.startedAt!, unknown: watchOf(c.input).unknownStatus }));
      const during = watched.filter((w) => w.at > 6 * MINUTE + SLACK && w.at < 40 * MINUTE);
      expect(during.length).toBeGreaterThan(0);
      const firstSeen = during[0]!.unknown!.since;
      expect(Date.parse(firstSeen) - ccs.startedAt!).toBeGreaterThanOrEqual(5 * MINUTE);
      expect(Date.parse(firstSeen) - ccs.startedAt!).toBeLessThan(6 * MINUTE + SLACK);
      for (const w of during) expect(w.unknown).toEqual({ since: firstSeen, afterMs: 15 * MINUTE });
      expect(watched.filter((w) => w.at > 41 * MINUTE + SLACK).every((w) => w.unknown === undefined)).toBe(true);
    });
  });
});
