import { randomUUID } from 'node:crypto';
import type { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { cancelSignal, pipelineStatusQuery } from '../../src/domain/contract';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, eventually, failureOf, recordHistory, simAndWorker } from '../helpers';

const rig = simAndWorker();

function startPipeline(definition: PipelineDefinition) {
  return rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
    taskQueue: rig.w.taskQueue,
    workflowId: `p-${randomUUID()}`,
    args: [definition],
  });
}

const run = (jobId: string) => {
  const r = rig.sim.state.runsOf(jobId)[0];
  if (!r) throw new Error(`no run of ${jobId}`);
  const view = rig.sim.state.view(r);
  return { start: r.startedAt, end: view.endedAt, status: view.status, aborts: r.abortRequests };
};

describe('pipeline definition', () => {
  it('an invalid definition fails the workflow at once with every problem, starting nothing', async () => {
    const before = rig.sim.state.runs.size;
    const failure = await failureOf((await startPipeline({ name: 'bad', stages: [{ name: 's', jobs: ['x', 'y'] }] })).result());
    expect(failure.type).toBe('CcsInvalidInput');
    expect(failure.message).toMatch(/^pipeline is invalid \(2 problems\): stages\[0\]\.jobs\[0\]: .*; stages\[0\]\.jobs\[1\]: /);
    expect(rig.sim.state.runs.size).toBe(before);
  });
});

describe('runCcsPipeline', () => {
  it('runs stages in order and the jobs of a stage in parallel, reporting each job', async () => {
    const collect = addJob(rig.sim, [
      ['Executing', 2],
      ['Completed', 0],
    ]);
    const evalA = addJob(rig.sim, [
      ['Executing', 2],
      ['Completed', 0],
    ]);
    const evalB = addJob(rig.sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]);
    const handle = await startPipeline({
      name: 'nightly scan',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', jobs: [evalA, { jobId: evalB, timeout: '1h' }] },
      ],
    });
    const live = await eventually(async () => {
      const r = await handle.query(pipelineStatusQuery);
      return r.stages[0]?.jobs[0]?.state === 'running' ? r : undefined;
    });
    expect(live).toMatchObject({
      status: 'running',
      stages: [{ state: 'running' }, { state: 'pending', jobs: [{ state: 'pending' }, { state: 'pending' }] }],
    });
    const report: PipelineReport = await handle.result();
    await recordHistory(handle, 'pipeline-completed');
    expect(report.status).toBe('Completed');
    expect(report.stages.map((s) => [s.name, s.state, s.jobs.map((j) => j.state)])).toEqual([
      ['collect', 'completed', ['completed']],
      ['evaluate', 'completed', ['completed', 'completed']],
    ]);
    const job = report.stages[1]!.jobs[1]!;
    expect(job).toMatchObject({
      jobId: evalB,
      status: 'Completed',
      jobRunId: rig.sim.state.runsOf(evalB)[0]?.JobRunID,
      workflowId: `${handle.workflowId}/stage-2/${evalB}`,
    });
    // Order: the evaluation runs began after collection ended; parallel: they overlapped.
    expect(run(evalA).start).toBeGreaterThanOrEqual(run(collect).end!);
    expect(run(evalB).start).toBeGreaterThanOrEqual(run(collect).end!);
    expect(run(evalB).start).toBeLessThan(run(evalA).end!);
  });

  it('a failed job stops the pipeline and aborts its running siblings; later stages are skipped', async () => {
    const faulty = addJob(
      rig.sim,
      [
        ['Executing', 2],
        ['Faulted', 0],
      ],
      { exception: 'no credentials for 3 assets' },
    );
    const sibling = addJob(rig.sim, [['Executing', 600]]);
    const later = addJob(rig.sim, [['Completed', 0]]);
    const handle = await startPipeline({
      name: 'fail fast',
      pollInterval: '1s',
      stages: [
        { name: 'evaluate', jobs: [faulty, sibling] },
        { name: 'report', jobs: [later] },
      ],
    });
    const failure = await failureOf(handle.result());
    await recordHistory(handle, 'pipeline-fail-fast');
    expect(failure.type).toBe('CcsPipelineFailed');
    expect(failure.message).toContain(`stage "evaluate" job ${faulty} failed (CcsJobFaulted)`);
    const report = failure.details?.[0] as PipelineReport;
    expect(report.status).toBe('Failed');
    expect(report.stages.map((s) => s.state)).toEqual(['failed', 'skipped']);
    expect(report.stages[0]?.jobs).toMatchObject([
      {
        jobId: faulty,
        state: 'failed',
        status: 'Faulted',
        error: { type: 'CcsJobFaulted', message: expect.stringContaining('no credentials for 3 assets') as unknown },
      },
      { jobId: sibling, state: 'cancelled', status: 'Aborted' },
    ]);
    expect(run(sibling)).toMatchObject({ status: 'Aborted', aborts: 1 });
    expect(rig.sim.state.runsOf(later)).toHaveLength(0);
  });

  it('continueOnFailure keeps the siblings and later stages going', async () => {
    const faulty = addJob(rig.sim, [
      ['Executing', 1],
      ['Faulted', 0],
    ]);
    const sibling = addJob(rig.sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]);
    const later = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const report = await (
      await startPipeline({
        name: 'tolerant',
        pollInterval: '1s',
        stages: [
          { name: 'evaluate', jobs: [faulty, sibling], continueOnFailure: true },
          { name: 'report', jobs: [later] },
        ],
      })
    ).result();
    expect(report.status).toBe('CompletedWithFailures');
    expect(report.stages.map((s) => s.jobs.map((j) => j.state))).toEqual([['failed', 'completed'], ['completed']]);
    expect(run(sibling).aborts).toBe(0);
  });

  it('cancelling the pipeline (signal) aborts every CCS run it started and waits for each abort', async () => {
    const a = addJob(rig.sim, [['Executing', 600]], { abortDelaySeconds: 1 });
    const b = addJob(rig.sim, [['Executing', 600]]);
    const later = addJob(rig.sim, [['Completed', 0]]);
    const handle = await startPipeline({
      name: 'called off',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [a, b] },
        { name: 'evaluate', jobs: [later] },
      ],
    });
    await eventually(async () => (await handle.query(pipelineStatusQuery)).stages[0]?.jobs.every((j) => j.state === 'running'));
    await eventually(() => rig.sim.state.runsOf(a).length === 1 && rig.sim.state.runsOf(b).length === 1, 10_000, 'both runs');
    await handle.signal(cancelSignal, { reason: 'maintenance window' });
    const report = await handle.result();
    await recordHistory(handle, 'pipeline-cancelled');
    expect(report.status).toBe('Cancelled');
    expect(report.stages.map((s) => s.jobs.map((j) => [j.state, j.status]))).toEqual([
      [
        ['cancelled', 'Aborted'],
        ['cancelled', 'Aborted'],
      ],
      [['skipped', undefined]],
    ]);
    expect([run(a), run(b)]).toMatchObject([
      { status: 'Aborted', aborts: 1 },
      { status: 'Aborted', aborts: 1 },
    ]);
    expect(rig.sim.state.runsOf(later)).toHaveLength(0);
  });

  it('a native cancellation of the pipeline aborts its runs, then ends it Canceled', async () => {
    const a = addJob(rig.sim, [['Executing', 600]]);
    const handle = await startPipeline({ name: 'native', pollInterval: '1s', stages: [{ name: 'collect', jobs: [a] }] });
    await eventually(
      () => rig.sim.state.runsOf(a).length === 1 && rig.sim.state.view(rig.sim.state.runsOf(a)[0]!).status === 'Executing',
      10_000,
      'the run',
    );
    await eventually(async () => (await handle.query(pipelineStatusQuery)).stages[0]?.jobs[0]?.state === 'running');
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(run(a)).toMatchObject({ status: 'Aborted', aborts: 1 });
  });
});
