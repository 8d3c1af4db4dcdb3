import { describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery, type RunCcsJobResult } from '../../src/domain/contract';
import { addJob, eventually, failureOf, recordHistory, searchAttributeHistory, simAndWorker, startRun } from '../helpers';

const rig = simAndWorker();

const FAST = { pollInterval: '1s', maxPollInterval: '1s' };

describe('runCcsJob outcomes', () => {
  it('completes with the run result when CCS reports Completed', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Pending', 1.5],
        ['Executing', 2],
        ['Completed', 0],
      ],
      { summary: 'Collected 3 of 3 assets' },
    );
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const result: RunCcsJobResult = await handle.result();
    await recordHistory(handle, 'completed');
    expect(result).toMatchObject({
      jobId,
      status: 'Completed',
      statusCode: 4,
      summary: 'Collected 3 of 3 assets',
      exception: null,
      adopted: false,
      messages: [],
    });
    expect(result.endTime).not.toBeNull();
    expect(result.polls).toBeGreaterThanOrEqual(2);
    const runs = rig.sim.state.runsOf(jobId);
    expect(runs).toHaveLength(1);
    expect(result.jobRunId).toBe(runs[0]?.JobRunID);
    const seen = await searchAttributeHistory(handle, 'CcsJobStatus');
    expect([seen[0], seen.at(-1)]).toEqual(['Pending', 'Completed']);
    expect(await searchAttributeHistory(handle, 'CcsJobRunId')).toEqual([result.jobRunId]);
  });

  it('fails CcsJobFaulted with the result and messages as details', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'Collection failed on 2 assets', messages: [{ Message: 'host lnx-07 unreachable' }] },
    );
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobFaulted');
    await recordHistory(handle, 'faulted');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Collection failed on 2 assets');
    const details = failure.details?.[0] as RunCcsJobResult;
    expect(details).toMatchObject({ status: 'Faulted', statusCode: 5, exception: 'Collection failed on 2 assets' });
    expect(details.messages.map((m) => m.text)).toEqual(['host lnx-07 unreachable']);
  });

  it('fails CcsJobAborted when the run is aborted outside the workflow (e.g. the CCS console)', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.jobRunId ? s : undefined;
    });
    await rig.w.ccs.abortJobRun(status.jobRunId!);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobAborted');
    await recordHistory(handle, 'aborted-externally');
    expect((failure.details?.[0] as RunCcsJobResult).status).toBe('Aborted');
    expect(rig.sim.state.runs.get(status.jobRunId!)?.abortRequests).toBe(1);
  });

  it('keeps waiting through Custom, Idle and unknown statuses, reporting each', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Pending', 2],
        ['Custom', 2.5],
        ['Idle', 2.5],
        [9, 2.5],
        ['Completed', 0],
      ],
      { customStatusText: 'Waiting for collector' },
    );
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const custom = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.status === 'Custom' ? s : undefined;
    });
    expect(custom).toMatchObject({ phase: 'running', jobId, statusCode: 6, customStatusText: 'Waiting for collector' });
    expect(custom.lastChangeAt).toMatch(/^\d{4}-/);
    const result = await handle.result();
    expect(result.status).toBe('Completed');
    expect(await searchAttributeHistory(handle, 'CcsJobStatus')).toEqual(['Pending', 'Custom', 'Idle', '9', 'Completed']);
    await recordHistory(handle, 'custom-idle-unknown');
  });

  it('keeps the status query and search attributes current during a run', async () => {
    const jobId = addJob(rig.sim, [
      ['Pending', 1],
      ['Executing', 600],
    ]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const running = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.status === 'Executing' ? s : undefined;
    });
    expect(running).toMatchObject({ phase: 'running', jobId, statusCode: 2 });
    const listed = await eventually(
      async () => {
        const found = [];
        for await (const wf of rig.w.client.workflow.list({ query: `CcsJobStatus='Executing' AND CcsJobId='${jobId}'` })) found.push(wf);
        return found.length === 1 ? found : undefined;
      },
      20_000,
      'the visibility query to find the workflow',
    );
    expect(listed[0]?.workflowId).toBe(handle.workflowId);
    expect(listed[0]?.searchAttributes.CcsJobRunId).toEqual([running.jobRunId]);
    await handle.signal(cancelSignal, { reason: 'test done' });
    await handle.result();
  });

  it('fails CcsJobAlreadyRunning when the job is busy and ifRunning is fail, starting nothing', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const consoleRun = rig.sim.state.startRun(rig.sim.state.jobs.get(jobId)!);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    const failure = await failureOf(handle.result());
    await recordHistory(handle, 'already-running');
    expect(failure.type).toBe('CcsJobAlreadyRunning');
    expect(failure.message).toContain(consoleRun.JobRunID);
    expect(failure.message).toContain("ifRunning: 'attach'");
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
  });

  it("adopts the job's current run with ifRunning: 'attach'", async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const consoleRun = rig.sim.state.startRun(rig.sim.state.jobs.get(jobId)!);
    const handle = await startRun(rig.w, { jobId, ...FAST, ifRunning: 'attach' });
    const result = await handle.result();
    await recordHistory(handle, 'attach');
    expect(result).toMatchObject({ jobRunId: consoleRun.JobRunID, status: 'Completed', adopted: true });
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
  });

  it('aborts the run and fails CcsJobTimedOut when the deadline passes', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const handle = await startRun(rig.w, { jobId, ...FAST, timeout: '2s' });
    const failure = await failureOf(handle.result());
    await recordHistory(handle, 'timed-out');
    expect(failure.type).toBe('CcsJobTimedOut');
    const details = failure.details?.[0] as RunCcsJobResult;
    expect(details).toMatchObject({ status: 'Aborted', cancelled: { by: 'timeout' } });
    const [run] = rig.sim.state.runsOf(jobId);
    expect(run?.abortRequests).toBe(1);
  });
});
