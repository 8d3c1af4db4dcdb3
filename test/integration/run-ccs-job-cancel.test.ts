import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery, type RunCcsJobResult } from '../../src/domain/contract';
import { activityInFlight, addJob, eventually, failureOf, recordHistory, simAndWorker, startRun, startSim, startWorker } from '../helpers';

const rig = simAndWorker();

const FAST = { pollInterval: '1s', maxPollInterval: '1s' };

async function runningRunId(handle: Awaited<ReturnType<typeof startRun>>): Promise<string> {
  return eventually(async () => {
    const s = await handle.query(statusQuery);
    return s.phase === 'running' && s.jobRunId ? s.jobRunId : undefined;
  });
}

describe('cancelling runCcsJob', () => {
  it('the cancel signal aborts the CCS run with exactly one abort request and completes Aborted', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const runId = await runningRunId(handle);
    await handle.signal(cancelSignal, { reason: 'scan called off' });
    const result: RunCcsJobResult = await handle.result();
    await recordHistory(handle, 'cancel-signal');
    expect(result).toMatchObject({
      jobRunId: runId,
      status: 'Aborted',
      statusCode: 7,
      cancelled: { by: 'signal', reason: 'scan called off' },
    });
    expect(result.cancelled?.at).toMatch(/^\d{4}-/);
    expect(rig.sim.state.runs.get(runId)?.abortRequests).toBe(1);
    expect(await handle.query(statusQuery)).toMatchObject({ phase: 'finished', status: 'Aborted', cancelReason: 'scan called off' });
  });

  it('a native cancellation aborts the CCS run once, then ends the workflow Canceled', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const runId = await runningRunId(handle);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await recordHistory(handle, 'cancel-native');
    const run = rig.sim.state.runs.get(runId)!;
    expect(run.abortRequests).toBe(1);
    expect(rig.sim.state.view(run).status).toBe('Aborted');
  });

  it('a cancel that arrives while execute is in flight waits for the JobRunID, then aborts it', async () => {
    const s = await startSim();
    const worker = await startWorker(s);
    try {
      const jobId = addJob(s, [['Executing', 600]]);
      s.setFaults({ latencyMs: 2500, endpoints: ['execute'] });
      const handle = await startRun(worker, { jobId, ...FAST });
      // A worker has the execute in hand (the simulator holds its answer for 2.5 s): the cancel lands mid-execute.
      await eventually(() => activityInFlight(handle, 'executeJob'), 10_000, 'the execute to be in flight');
      expect(s.state.runsOf(jobId)).toHaveLength(0);
      await handle.signal(cancelSignal, { reason: 'changed my mind' });
      const result = await handle.result();
      const runs = s.state.runsOf(jobId);
      expect(runs).toHaveLength(1);
      expect(result).toMatchObject({ jobRunId: runs[0]?.JobRunID, status: 'Aborted', cancelled: { by: 'signal' } });
      expect(runs[0]?.abortRequests).toBe(1);
      await recordHistory(handle, 'cancel-during-execute');
    } finally {
      await worker.stop();
      await s.close();
    }
  });

  it('a cancel after the run already ended aborts nothing and reports the real outcome', async () => {
    const s = await startSim();
    const worker = await startWorker(s);
    try {
      const jobId = addJob(
        s,
        [
          ['Executing', 1],
          ['Completed', 0],
        ],
        { summary: 'done' },
      );
      // A long poll interval: the workflow has not noticed the completion when the cancel arrives.
      const handle = await startRun(worker, { jobId, pollInterval: '30s' });
      await runningRunId(handle);
      await eventually(() => s.state.view(s.state.runsOf(jobId)[0]!).status === 'Completed', 5_000, 'CCS to complete the run');
      await handle.signal(cancelSignal, { reason: 'too late' });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'Completed', summary: 'done', cancelled: { by: 'signal', reason: 'too late' } });
      expect(s.stats().abort).toEqual({ '400': 1 });
      await recordHistory(handle, 'cancel-after-end');
      expect(s.state.runsOf(jobId)[0]?.abortRequests).toBe(0);
    } finally {
      await worker.stop();
      await s.close();
    }
  });

  it('a cancel after the run ended still reports the real outcome when the follow-up read fails once', async () => {
    const s = await startSim();
    const worker = await startWorker(s);
    try {
      const jobId = addJob(s, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      const handle = await startRun(worker, { jobId, pollInterval: '30s' });
      await runningRunId(handle);
      await eventually(() => s.state.view(s.state.runsOf(jobId)[0]!).status === 'Completed', 5_000, 'CCS to complete the run');
      // The abort is refused (400, not running); the read that tells why fails once with a 503.
      s.setFaults({ errorRate: 1, errorStatus: [503], endpoints: ['jobruns'], limit: 1 });
      await handle.signal(cancelSignal, { reason: 'too late, flaky CCS' });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'Completed', cancelled: { by: 'signal' } });
      expect(s.stats().abort).toEqual({ '400': 2 });
      expect(s.stats().jobruns?.['503']).toBe(1);
    } finally {
      await worker.stop();
      await s.close();
    }
  });

  it('an abort CCS never confirms fails CcsAbortUnconfirmed naming the JobRunID', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]], { ignoreAbort: true });
    const handle = await startRun(rig.w, { jobId, ...FAST, abortConfirmTimeout: '3s' });
    const runId = await runningRunId(handle);
    await handle.signal(cancelSignal, {});
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsAbortUnconfirmed');
    await recordHistory(handle, 'abort-unconfirmed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(runId);
    expect(failure.details?.[0]).toMatchObject({ jobId, jobRunId: runId, lastStatus: 'Executing' });
    expect(rig.sim.state.runs.get(runId)?.abortRequests).toBe(1);
  });

  it('a second cancel changes nothing: one abort request', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]], { abortDelaySeconds: 1.5 });
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const runId = await runningRunId(handle);
    await handle.signal(cancelSignal, { reason: 'first' });
    await handle.signal(cancelSignal, { reason: 'second' });
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    // The signal came first and is what is reported; the later native cancellation still ends the workflow Canceled.
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(rig.sim.state.runs.get(runId)?.abortRequests).toBe(1);
    expect(await handle.query(statusQuery)).toMatchObject({ phase: 'finished', cancelReason: 'first', status: 'Aborted' });
  });
});
