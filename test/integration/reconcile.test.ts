/**
 * Reconcile (issue 18, part 1) against the simulator over real sockets: a terminated workflow's run,
 * a console-started run, a run a live workflow follows (left alone); report, adopt and abort; two
 * concurrent reconciles adopting once; paging across more than one page of jobs; the budget; the
 * schedule.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adoptionWorkflowId, statusQuery } from '../../src/domain/contract';
import type { ReconcileInput, ReconcileResult } from '../../src/domain/reconcile';
import type { Simulator } from '../../src/sim/server';
import type { reconcileCcsRuns, runCcsJob } from '../../src/workflows';
import { NativeConnection } from '@temporalio/worker';
import { createWorker } from '../../src/hosting/create-worker';
import {
  addJob,
  clientFor,
  type CliRun,
  eventually,
  recordHistory,
  runCli,
  startRun,
  startSim,
  startWorker,
  type TestWorker,
} from '../helpers';

const rig = {} as { sim: Simulator; w: TestWorker };
beforeAll(async () => {
  // Two jobs per Search Jobs page, so a handful of jobs spans several pages.
  rig.sim = await startSim({ searchPageSize: 2, maxSearchPageSize: 2 });
  rig.w = await startWorker(rig.sim);
});
afterAll(async () => {
  await rig.w?.stop();
  await rig.sim?.close();
});

function reconcileNow(input: ReconcileInput, workflowId = `r-${randomUUID()}`) {
  return rig.w.client.workflow.start<typeof reconcileCcsRuns>('reconcileCcsRuns', {
    taskQueue: rig.w.taskQueue,
    workflowId,
    args: [input],
  });
}

/** A run started at CCS without the orchestrator (the console, a script). */
async function consoleRun(jobId: string): Promise<string> {
  return (await rig.w.ccs.executeJob(jobId)).jobRunId;
}

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue });
}

const long: [string, number][] = [
  ['Executing', 120],
  ['Completed', 0],
];

describe('reconcileCcsRuns', () => {
  it('report: a terminated workflow’s run and a console-started run are found; a followed run is left alone; CLI exit 5', async () => {
    const terminatedJob = addJob(rig.sim, long);
    const consoleJob = addJob(rig.sim, long);
    const followedJob = addJob(rig.sim, long);
    const doomed = await startRun(rig.w, { jobId: terminatedJob, pollInterval: '1s' });
    const followed = await startRun(rig.w, { jobId: followedJob, pollInterval: '1s' });
    const doomedRunId = await eventually(async () => (await doomed.query(statusQuery)).jobRunId);
    await eventually(async () => (await followed.query(statusQuery)).jobRunId);
    await eventually(async () => (await rig.w.client.workflow.count(`CcsJobRunId = '${doomedRunId}'`)).count === 1, 10_000, 'visibility');
    await doomed.terminate('operator terminated it');
    const consoleRunId = await consoleRun(consoleJob);

    const handle = await reconcileNow({ jobs: [terminatedJob, consoleJob, followedJob] });
    const result: ReconcileResult = await handle.result();
    await recordHistory(handle, 'reconcile-report');
    expect(result).toMatchObject({ jobsChecked: 3, runsInProgress: 3, tracked: 1, requests: 3, budgetExhausted: false });
    expect(result.findings).toEqual([
      expect.objectContaining({
        jobId: terminatedJob,
        jobRunId: doomedRunId,
        kind: 'terminated',
        workflowId: doomed.workflowId,
        workflowStatus: 'TERMINATED',
        action: 'reported',
      }),
      expect.objectContaining({ jobId: consoleJob, jobRunId: consoleRunId, kind: 'untracked', action: 'reported' }),
    ]);
    expect(rig.sim.state.runsOf(consoleJob)[0]?.abortRequests).toBe(0);

    const r = await cli(['reconcile', '--jobs', [terminatedJob, consoleJob, followedJob].join(',')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('3 job(s) checked, 3 run(s) in progress, 1 followed by a workflow, 2 without an owner');
    expect(r.stdout).toContain(`terminated workflow ${doomed.workflowId}`);
    expect(r.stdout).toMatch(new RegExp(`${consoleRunId}\\s+Executing\\s+no workflow \\(console or script\\)\\s+reported`));
    await followed.cancel();
  });

  it('adopt: two concurrent reconciles adopt a run once; the adoption follows it to its end without a second execute', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 5],
      ['Completed', 0],
    ]);
    const jobRunId = await consoleRun(jobId);
    const [a, b] = await Promise.all([reconcileNow({ jobs: [jobId], policy: 'adopt' }), reconcileNow({ jobs: [jobId], policy: 'adopt' })]);
    const results = [await a.result(), await b.result()];
    const actions = results.flatMap((r) => r.findings.map((f) => f.action));
    expect(actions.filter((x) => x === 'adopted')).toHaveLength(1);
    // The other one saw the adoption already there: refused by id, or already followed.
    expect(actions.filter((x) => x !== 'adopted').every((x) => x === 'already-adopted')).toBe(true);
    const adoption = rig.w.client.workflow.getHandle<typeof runCcsJob>(adoptionWorkflowId(jobRunId));
    const followed = await adoption.result();
    expect(followed).toMatchObject({ jobRunId, status: 'Completed', adopted: true });
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    expect(await rig.w.client.workflow.count(`WorkflowId = '${adoptionWorkflowId(jobRunId)}'`)).toMatchObject({ count: 1 });
  });

  it('abort: the orphan is aborted at CCS and confirmed', async () => {
    const jobId = addJob(rig.sim, long);
    const jobRunId = await consoleRun(jobId);
    const result = await (await reconcileNow({ jobs: [jobId], policy: 'abort' })).result();
    expect(result.findings).toEqual([expect.objectContaining({ jobRunId, action: 'aborted', status: 'Aborted' })]);
    expect(rig.sim.state.view(rig.sim.state.runs.get(jobRunId)!).status).toBe('Aborted');
  });

  it('search: pages through every matching job (more than one page), one jobruns read each; the budget stops it cleanly', async () => {
    const tag = randomUUID().slice(0, 8);
    const jobs = Array.from({ length: 5 }, (_, i) => addJob(rig.sim, long, { JobName: `Recon ${tag} ${i}` }));
    const orphans = [await consoleRun(jobs[1]!), await consoleRun(jobs[4]!)];
    const result = await (await reconcileNow({ search: `JobName StartsWith Recon ${tag}` })).result();
    expect(result.jobsChecked).toBe(5);
    expect(result.requests).toBe(3 + 5); // 3 pages of 2, then one jobruns read per job
    expect(result.findings.map((f) => f.jobRunId).sort()).toEqual([...orphans].sort());

    const bounded = await (await reconcileNow({ search: `JobName StartsWith Recon ${tag}`, maxRequests: 4 })).result();
    expect(bounded).toMatchObject({ budgetExhausted: true, requests: 4, jobsChecked: 1 });
    expect(bounded.unchecked).toHaveLength(4);
  });

  it('--recent finds the jobs runCcsJob workflows ran on the server lately; a job CCS no longer knows is noted, not fatal', async () => {
    // A server name of this test's own: the dev server is shared by every test file, and --recent
    // selects by CcsServer.
    const server = `recon${randomUUID().slice(0, 8)}`;
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const ccs = clientFor(rig.sim);
    const taskQueue = `recent-${randomUUID()}`;
    const worker = await createWorker({
      connection,
      taskQueue,
      servers: { [server]: ccs },
      workflowBundlePath: inject('workflowBundlePath'),
      failWorkflowOnBug: true,
    });
    const running = worker.run();
    try {
      const options = () => ({ taskQueue, workflowId: `recent-${randomUUID()}` });
      const jobId = addJob(rig.sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      const gone = addJob(rig.sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      await (
        await rig.w.client.workflow.start<typeof runCcsJob>('runCcsJob', {
          ...options(),
          args: [{ jobId, ccs: server, pollInterval: '1s' }],
        })
      ).result();
      await (
        await rig.w.client.workflow.start<typeof runCcsJob>('runCcsJob', {
          ...options(),
          args: [{ jobId: gone, ccs: server, pollInterval: '1s' }],
        })
      ).result();
      rig.sim.state.jobs.delete(gone); // deleted in CCS since it ran
      await eventually(async () => (await rig.w.client.workflow.count(`CcsServer = '${server}'`)).count === 2, 10_000, 'visibility');
      const orphan = await consoleRun(jobId);
      const result = await (
        await rig.w.client.workflow.start<typeof reconcileCcsRuns>('reconcileCcsRuns', {
          ...options(),
          args: [{ ccs: server, recent: '1h' }],
        })
      ).result();
      expect(result.jobsChecked).toBe(1);
      expect(result.missing).toEqual([gone]);
      expect(result.findings.map((f) => f.jobRunId)).toEqual([orphan]);
    } finally {
      worker.shutdown();
      await running;
      await ccs.close();
      await connection.close();
    }
  });

  it('--schedule creates a schedule that runs the reconcile; bad flags are one line', async () => {
    const jobId = addJob(rig.sim, long);
    const ccsName = 'default';
    const created = await cli(['reconcile', '--jobs', jobId, '--schedule', '0 3 * * *']);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain(`created schedule ccs-reconcile-${ccsName}: reconcile (policy report) at "0 3 * * *" UTC`);
    const schedule = rig.w.client.schedule.getHandle(`ccs-reconcile-${ccsName}`);
    try {
      await schedule.trigger();
      const ran = await eventually(
        async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId,
        20_000,
        'scheduled reconcile',
      );
      const result = (await rig.w.client.workflow.getHandle(ran).result()) as ReconcileResult;
      expect(result).toMatchObject({ jobsChecked: 1, policy: 'report' });
    } finally {
      await schedule.delete();
    }
    expect((await cli(['reconcile'])).stderr).toMatch(/^ccs-jobs: ccs-jobs reconcile needs exactly one of --jobs/);
    expect((await cli(['reconcile', '--recent', '7d', '--policy', 'nuke'])).stderr).toMatch(
      /^ccs-jobs: --policy must be report, adopt or abort; got "nuke"\n$/,
    );
  });
});
