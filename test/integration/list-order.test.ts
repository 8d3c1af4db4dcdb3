/**
 * No dependence on list order (issue 26, part 4), against a simulator that lists runs oldest first
 * (`--jobruns-order oldest`) over real sockets: the stale-data gate takes the Completed run that ended
 * last, `ifRunning` attaches to (or names) the latest run going, a reconcile reports runs newest first.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import type { PipelineDefinition } from '../../src/domain/pipeline';
import { ErrorType } from '../../src/domain/errors';
import type { Simulator } from '../../src/sim/server';
import type { reconcileCcsRuns, runCcsPipeline } from '../../src/workflows';
import { addJob, eventually, failureOf, startRun, startSim, startWorker, type TestWorker } from '../helpers';

const HOUR = 3_600_000;
const rig = {} as { sim: Simulator; w: TestWorker };
beforeAll(async () => {
  rig.sim = await startSim({ jobrunsOrder: 'oldest' });
  rig.w = await startWorker(rig.sim);
});
afterAll(async () => {
  await rig.w?.stop();
  await rig.sim?.close();
});

/** A run of `jobId` started `hoursAgo`, going for `goingSeconds`, then `end`. */
function pastRun(jobId: string, hoursAgo: number, goingSeconds: number, end = 'Completed'): string {
  return rig.sim.state.addPastRun(jobId, Date.now() - hoursAgo * HOUR, [
    ['Executing', goingSeconds],
    [end, 0],
  ]).JobRunID;
}

describe('runs listed oldest first', () => {
  it('the stale-data gate takes the Completed run that ended last: a fresh collection is not called stale', async () => {
    const collection = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const evaluation = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    pastRun(collection, 50, 600); // listed first: two days old
    pastRun(collection, 2, 600); // the last good run
    pastRun(collection, 1, 60, 'Faulted');
    const definition: PipelineDefinition = {
      name: 'gated, oldest first',
      pollInterval: '1s',
      stages: [{ name: 'evaluate', requireFresh: { job: collection, within: '24h' }, jobs: [evaluation] }],
    };
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `order-${randomUUID()}`,
      args: [definition],
    });
    expect((await handle.result()).status).toBe('Completed');
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(1);
  });

  it('ifRunning attach follows the latest run going; ifRunning fail names it', async () => {
    const executesBefore = JSON.stringify(rig.sim.stats().execute);
    const attachJob = addJob(rig.sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]);
    pastRun(attachJob, 3, 6 * 3600); // an older run, still going, listed first
    const latest = rig.sim.state.startRun(rig.sim.state.jobs.get(attachJob)!).JobRunID;
    const attached = await startRun(rig.w, { jobId: attachJob, pollInterval: '1s', ifRunning: 'attach' });
    expect(await eventually(async () => (await attached.query(statusQuery)).jobRunId, 20_000, 'the attached run')).toBe(latest);
    expect(await attached.result()).toMatchObject({ status: 'Completed', adopted: true, jobRunId: latest });

    const failJob = addJob(rig.sim, [['Executing', 600]]);
    const older = pastRun(failJob, 3, 6 * 3600);
    const newer = rig.sim.state.startRun(rig.sim.state.jobs.get(failJob)!).JobRunID;
    const failure = await failureOf((await startRun(rig.w, { jobId: failJob, pollInterval: '1s' })).result());
    expect(failure.type).toBe(ErrorType.JobAlreadyRunning);
    expect(failure.message).toContain(newer);
    expect(failure.message).not.toContain(older);
    expect(JSON.stringify(rig.sim.stats().execute)).toBe(executesBefore); // neither workflow executed: both found the run going first
  });

  it('a reconcile reports a job’s runs without an owner newest first', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const runs = [3, 2, 1].map((h) => pastRun(jobId, h, 6 * 3600));
    const handle = await rig.w.client.workflow.start<typeof reconcileCcsRuns>('reconcileCcsRuns', {
      taskQueue: rig.w.taskQueue,
      workflowId: `order-r-${randomUUID()}`,
      args: [{ jobs: [jobId] }],
    });
    const result = await handle.result();
    expect(result.findings.map((f) => f.jobRunId)).toEqual([...runs].reverse());
  });
});
