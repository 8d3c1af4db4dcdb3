/**
 * Pause and resume (issue 18, part 2): a paused run sends nothing to CCS (counted at the simulator)
 * and is not aborted; a cancel while paused aborts; deadlines keep counting unless held; a paused
 * pipeline holds its next stage; a pause survives a worker restart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/server';
import { cancelSignal, pauseSignal, pipelineStatusQuery, resumeSignal, statusQuery } from '../../src/domain/contract';
import type { PipelineReport } from '../../src/domain/pipeline';
import type { PauseInput } from '../../src/domain/pause';
import type { WorkflowHandle } from '@temporalio/client';
import type { runCcsJob, runCcsPipeline } from '../../src/workflows';
import {
  addJob,
  eventually,
  failureOf,
  recordHistory,
  searchAttributeHistory,
  startRun,
  startSim,
  startWorker,
  type TestWorker,
} from '../helpers';

/**
 * A poll every second, never growing: the pace of the witness below and of the runs whose silence it
 * measures, so the witness's reads are the reads they would have made.
 */
const EVERY_SECOND = { pollInterval: '1s', maxPollInterval: '1s' };

/** Every jobruns request the simulator answered, by JobID: what "no CCS request while paused" is counted on. */
const reads: string[] = [];
const rig = {} as { sim: Simulator; w: TestWorker; witness: WorkflowHandle; witnessJob: string };
beforeAll(async () => {
  rig.sim = await startSim({ onRequest: (e) => void (e.endpoint === 'jobruns' && e.id && reads.push(e.id.toLowerCase())) });
  rig.w = await startWorker(rig.sim);
  rig.witnessJob = addJob(rig.sim, [['Executing', 3600]]);
  rig.witness = await startRun(rig.w, { jobId: rig.witnessJob, ...EVERY_SECOND, heartbeatTimeout: '5s' });
});
afterAll(async () => {
  await rig.witness?.terminate('the test file is done');
  await rig.w?.stop();
  await rig.sim?.close();
});

/** Status reads of one job at the simulator so far. */
function readsOf(jobId: string): number {
  return reads.filter((id) => id === jobId).length;
}

/**
 * Waits while an unpaused run on the same worker, polling every second as the paused ones would, is
 * read `polls` more times: the time in which a paused run that still polled would have been read as
 * often. "No request while paused" is counted over that, not over a guessed sleep.
 */
async function whileTheWitnessIsRead(polls: number): Promise<void> {
  const from = readsOf(rig.witnessJob);
  await eventually(() => readsOf(rig.witnessJob) >= from + polls, 20_000, `${polls} more reads of the unpaused witness run`);
}

/** Waits until the workflow says it is paused (its wait in flight has stopped). */
async function pausedPhase(handle: { query: (q: typeof statusQuery) => Promise<{ phase: string }> }): Promise<void> {
  await eventually(async () => (await handle.query(statusQuery)).phase === 'paused', 20_000, 'phase paused');
}

describe('pause and resume a runCcsJob', () => {
  it('no CCS request while paused, not aborted; resume goes on to Completed', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 14],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, ...EVERY_SECOND, heartbeatTimeout: '5s' });
    await eventually(async () => (await handle.query(statusQuery)).status === 'Executing');
    await handle.signal(pauseSignal, { reason: 'CCS patching CHG0012345' });
    await pausedPhase(handle);
    const status = await handle.query(statusQuery);
    expect(status.paused).toMatchObject({ reason: 'CCS patching CHG0012345', by: 'signal', until: null, holdDeadline: false });
    const before = readsOf(jobId);
    await whileTheWitnessIsRead(4);
    expect(readsOf(jobId)).toBe(before); // 0 requests while a run polled every second was read 4 times
    expect((await handle.query(statusQuery)).phase).toBe('paused');
    expect(await rig.w.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND CcsPaused = 'signal'`)).toMatchObject({ count: 1 });
    await handle.signal(resumeSignal, {});
    await eventually(() => readsOf(jobId) > before, 10_000, 'polling again');
    const result = await handle.result();
    await recordHistory(handle, 'paused-then-resumed');
    expect(result.status).toBe('Completed');
    expect(rig.sim.state.runsOf(jobId)[0]?.abortRequests).toBe(0);
    expect(await searchAttributeHistory(handle, 'CcsPaused')).toEqual(['signal', null]);
  });

  it('a pause with until resumes by itself', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 12],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', heartbeatTimeout: '5s' });
    await eventually(async () => (await handle.query(statusQuery)).status === 'Executing');
    const until = new Date(Date.now() + 6_000).toISOString();
    await handle.signal(pauseSignal, { until });
    // It was paused (not merely slow to notice the signal) ...
    await pausedPhase(handle);
    expect((await handle.query(statusQuery)).paused).toMatchObject({ by: 'signal', until });
    // ... and its until ends the pause, with no resume signal: it reads CCS again and completes.
    const pausedReads = readsOf(jobId);
    await eventually(() => readsOf(jobId) > pausedReads, 20_000, 'polling again after until');
    expect((await handle.query(statusQuery)).paused ?? null).toBeNull();
    expect((await handle.result()).status).toBe('Completed');
    expect(await searchAttributeHistory(handle, 'CcsPaused')).toEqual(['signal', null]);
  });

  it('cancel while paused aborts the run at CCS', async () => {
    const cancelled = addJob(rig.sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    const h1 = await startRun(rig.w, { jobId: cancelled, pollInterval: '1s', heartbeatTimeout: '5s' });
    await eventually(async () => (await h1.query(statusQuery)).jobRunId);
    await h1.signal(pauseSignal, {});
    await pausedPhase(h1);
    await h1.signal(cancelSignal, { reason: 'scan called off' });
    const result = await h1.result();
    expect(result.status).toBe('Aborted');
    expect(result.cancelled).toMatchObject({ by: 'signal', reason: 'scan called off' });
    expect(rig.sim.state.runsOf(cancelled)[0]?.abortRequests).toBe(1);
  });

  it('a deadline keeps counting while paused', async () => {
    const timed = addJob(rig.sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    const h2 = await startRun(rig.w, { jobId: timed, pollInterval: '1s', heartbeatTimeout: '5s', timeout: '12s' });
    await eventually(async () => (await h2.query(statusQuery)).jobRunId);
    await h2.signal(pauseSignal, {});
    // Paused, with the deadline still ahead: it is the deadline, not a failed pause, that ends the run.
    await pausedPhase(h2);
    expect((await h2.query(statusQuery)).paused).toMatchObject({ holdDeadline: false });
    expect((await h2.describe()).status.name).toBe('RUNNING');
    await eventually(async () => (await h2.describe()).status.name !== 'RUNNING', 30_000, 'the deadline to end the paused run');
    const failure = await failureOf(h2.result());
    expect(failure.type).toBe('CcsJobTimedOut');
    expect(rig.sim.state.runsOf(timed)[0]?.abortRequests).toBe(1);
  });

  it('holdDeadline stops the timeout clock while paused', async () => {
    // The run ends at CCS while it is paused: once resumed, its first read completes it.
    const jobId = addJob(rig.sim, [
      ['Executing', 6],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', heartbeatTimeout: '5s', timeout: '6s' });
    // A twin started just after it, with the same deadline and no pause: when the twin times out,
    // the held run's unheld deadline has passed too.
    const twin = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
      heartbeatTimeout: '5s',
      timeout: '6s',
    });
    await eventually(async () => (await handle.query(statusQuery)).jobRunId);
    await handle.signal(pauseSignal, { holdDeadline: true });
    await pausedPhase(handle);
    expect((await failureOf(twin.result())).type).toBe('CcsJobTimedOut'); // past the unheld deadline
    expect((await handle.query(statusQuery)).phase).toBe('paused');
    await handle.signal(resumeSignal, {});
    expect((await handle.result()).status).toBe('Completed');
  });

  it('a pause before the execute holds the start: not even a listing until resumed', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    // signalWithStart: the pause is in the first workflow task, before the workflow reads anything.
    const handle = await rig.w.client.workflow.signalWithStart<typeof runCcsJob, [PauseInput?]>('runCcsJob', {
      taskQueue: rig.w.taskQueue,
      workflowId: `t-${randomUUID()}`,
      args: [{ jobId, ...EVERY_SECOND }],
      signal: pauseSignal,
      signalArgs: [{ reason: 'not yet' }],
    });
    await pausedPhase(handle);
    await whileTheWitnessIsRead(2);
    expect(readsOf(jobId)).toBe(0);
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(0);
    expect((await handle.query(statusQuery)).jobRunId).toBeUndefined();
    await handle.signal(resumeSignal, {});
    expect((await handle.result()).status).toBe('Completed');
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
  });

  it('a paused run resumes after its worker is replaced', async () => {
    const own = await startWorker(rig.sim);
    const jobId = addJob(rig.sim, [
      ['Executing', 10],
      ['Completed', 0],
    ]);
    const handle = await startRun(own, { jobId, pollInterval: '1s', heartbeatTimeout: '5s' });
    await eventually(async () => (await handle.query(statusQuery)).jobRunId);
    await handle.signal(pauseSignal, { reason: 'worker restart test' });
    await pausedPhase(handle);
    await own.stop();
    const replacement = await startWorker(rig.sim, {}, undefined, undefined, own.taskQueue);
    try {
      const again = replacement.client.workflow.getHandle<typeof runCcsJob>(handle.workflowId);
      expect((await again.query(statusQuery)).paused?.reason).toBe('worker restart test');
      await again.signal(resumeSignal, {});
      expect((await again.result()).status).toBe('Completed');
      expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    } finally {
      await replacement.stop();
    }
  });
});

describe('pause and resume a runCcsPipeline', () => {
  it('holds its next stage and pauses its running job; resume completes it', async () => {
    // The first job's run must still be going when the pause reaches its child (8 s of margin).
    const first = addJob(rig.sim, [
      ['Executing', 8],
      ['Completed', 0],
    ]);
    const second = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `p-${randomUUID()}`,
      args: [
        {
          name: 'paused scan',
          ...EVERY_SECOND,
          stages: [
            { name: 'collect', jobs: [first] },
            { name: 'evaluate', jobs: [second] },
          ],
        },
      ],
    });
    const running = await eventually(async () => {
      const r = await handle.query(pipelineStatusQuery);
      return r.stages[0]?.jobs[0]?.state === 'running' ? r : undefined;
    });
    await handle.signal(pauseSignal, { reason: 'hold the evaluation' });
    const child = rig.w.client.workflow.getHandle(running.stages[0]!.jobs[0]!.workflowId);
    await eventually(async () => (await child.query(statusQuery)).paused?.reason === 'hold the evaluation', 20_000, 'child paused');
    // The first job's run ends at CCS, and the witness is read three more times: an unpaused child
    // would have seen the end by then, and an unheld pipeline would have started the next stage.
    const [firstRun] = rig.sim.state.runsOf(first);
    await eventually(() => rig.sim.state.view(firstRun!).endedAt !== null, 20_000, "the first job's run to end at CCS");
    await whileTheWitnessIsRead(3);
    const held: PipelineReport = await handle.query(pipelineStatusQuery);
    expect(held.paused?.reason).toBe('hold the evaluation');
    expect(held.stages[1]?.state).toBe('pending');
    expect(rig.sim.state.runsOf(second)).toHaveLength(0);
    await handle.signal(resumeSignal, {});
    const report = await handle.result();
    await recordHistory(handle, 'pipeline-paused');
    expect(report.status).toBe('Completed');
    expect(report.paused).toBeUndefined();
    expect(rig.sim.state.runsOf(second)).toHaveLength(1);
  });
});
