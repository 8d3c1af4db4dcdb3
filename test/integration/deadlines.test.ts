/**
 * Deadlines that fire: a run's `timeout` carried across continue-as-new ends the run at the original
 * deadline (not one restarted by each new execution), and a pipeline's `timeout` ends the jobs it
 * caps. Either way CCS gets the abort.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pipelineStatusQuery, statusQuery } from '../../src/domain/contract';
import type { PipelineReport } from '../../src/domain/pipeline';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, continueAsNewRig, eventually, failureOf, simAndWorker, startRun } from '../helpers';

const rig = simAndWorker();
const FAST = { pollInterval: '1s', maxPollInterval: '1s' };

describe('a run timeout across continue-as-new', () => {
  const continuing = continueAsNewRig(() => rig.sim);

  it('fires at the deadline set by the first execution, and CCS gets the abort', async () => {
    const TIMEOUT_MS = 20_000;
    const jobId = addJob(rig.sim, [
      ['Pending', 2],
      ['Executing', 2],
      ['Idle', 2],
      ['Executing', 600],
    ]);
    const startedAt = Date.now();
    const handle = await startRun(continuing.w, { jobId, ...FAST, timeout: `${TIMEOUT_MS}ms` });
    // The deadline has not passed when a later execution is following the run.
    await eventually(
      async () => {
        const d = await handle.describe();
        return d.runId !== handle.firstExecutionRunId && (await handle.query(statusQuery)).polls > 0;
      },
      TIMEOUT_MS,
      'a continued execution following the run',
    );
    await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', 2 * TIMEOUT_MS, 'the deadline to end the run');
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobTimedOut');
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    const [run] = rig.sim.state.runsOf(jobId);
    expect(run?.abortRequests).toBe(1);
    // Aborted once the first execution's deadline passed, not a full timeout after a later execution
    // began: a deadline restarted at each continue-as-new would keep moving and never fire.
    const abortAfterMs = run!.abortRequestedAt! - startedAt;
    console.log(`timeout ${TIMEOUT_MS} ms across continue-as-new: CCS got the abort ${abortAfterMs} ms after the start`);
    expect(abortAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(abortAfterMs).toBeLessThan(2 * TIMEOUT_MS);
  }, 90_000);
});

describe('a pipeline timeout', () => {
  it('passes while a job runs: the job is aborted at CCS, the pipeline fails and its next stage never starts', async () => {
    const TIMEOUT_MS = 10_000;
    const slowA = addJob(rig.sim, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const slowB = addJob(rig.sim, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const next = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const startedAt = Date.now();
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `timeout-${randomUUID()}`,
      args: [
        {
          name: 'timed pipeline',
          timeout: `${TIMEOUT_MS}ms`,
          ...FAST,
          stages: [
            { name: 'collect', jobs: [slowA, slowB] },
            { name: 'evaluate', jobs: [next] },
          ],
        },
      ],
    });
    await eventually(
      async () => (await handle.query(pipelineStatusQuery)).stages[0]?.jobs.every((j) => j.state === 'running'),
      20_000,
      'both jobs running',
    );
    await eventually(
      async () => (await handle.describe()).status.name !== 'RUNNING',
      3 * TIMEOUT_MS,
      'the pipeline timeout to end the pipeline',
    );
    const failure = await failureOf(handle.result());
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(failure.type).toBe('CcsPipelineFailed');
    expect(failure.message).toMatch(/^pipeline timed pipeline failed: stage "collect" job \S+ failed \(CcsJobTimedOut\)/);
    const report = failure.details?.[0] as PipelineReport;
    expect(report.stages[0]?.jobs.map((j) => [j.state, j.error?.type])).toEqual([
      ['failed', 'CcsJobTimedOut'],
      ['failed', 'CcsJobTimedOut'],
    ]);
    expect(report.stages[1]).toMatchObject({ state: 'skipped', jobs: [{ state: 'skipped' }] });
    for (const jobId of [slowA, slowB]) {
      const runs = rig.sim.state.runsOf(jobId);
      expect(runs).toHaveLength(1);
      expect(runs[0]?.abortRequests).toBe(1);
      expect(runs[0]!.abortRequestedAt! - startedAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 1_000);
    }
    expect(rig.sim.state.runsOf(next)).toHaveLength(0);
  }, 60_000);
});
