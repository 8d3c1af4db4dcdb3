/**
 * Redriving a failed scan pipeline (issue 30) against the simulator over real sockets, a real dev
 * server, workers (in process, and as processes killed with SIGKILL) and the CLI as users run it:
 * what is carried and what is re-run (the simulator's runs prove it), `--from-stage`, every refusal,
 * a job whose CCS run outlived its pipeline attached to, the stale-data gate checked again, and the
 * redrive's evidence record, and an attempt that starts its own automatic redrive.
 */
import https from 'node:https';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { cancelSignal, pipelineStatusQuery } from '../../src/domain/contract';
import type { EvidenceContent } from '../../src/domain/evidence';
import type { PipelineDefinition, PipelineJobReport, PipelineReport } from '../../src/domain/pipeline';
import { redriveWorkflowId, type PipelineRedriveInput } from '../../src/domain/redrive';
import type { Chained } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import type { Simulator } from '../../src/sim/server';
import type { SimStep } from '../../src/sim/state';
import type { runCcsPipeline } from '../../src/workflows';
import {
  SIM_USER,
  addJob,
  eventually,
  failureOf,
  recordHistory,
  runCli,
  simAndWorker,
  spawnWorkerProcess,
  type CliRun,
  type TestWorker,
  type WorkerProcess,
} from '../helpers';
import { tempDir } from '../temp-dir';

const rig = simAndWorker();

/** A run that executes for `seconds`, then ends with `end`. */
const steps = (seconds: number, end = 'Completed'): SimStep[] => [
  ['Executing', seconds],
  [end, 0],
];

function cli(args: string[], taskQueue = rig.w.taskQueue): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue });
}

function startPipeline(definition: PipelineDefinition, w: TestWorker = rig.w, taskQueue = w.taskQueue) {
  return w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
    taskQueue,
    workflowId: `rd-${randomUUID()}`,
    args: [definition],
  });
}

/** A redrive started as any client may, bypassing the CLI's own checks: the workflow must refuse by itself. */
function startRedrive(workflowId: string, input: PipelineRedriveInput) {
  return rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', { taskQueue: rig.w.taskQueue, workflowId, args: [input] });
}

const attempt = (root: string, n: number) => rig.w.client.workflow.getHandle<typeof runCcsPipeline>(redriveWorkflowId(root, n));

async function exists(workflowId: string): Promise<boolean> {
  return rig.w.client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
}

/** A refusal as a user sees it: one line on stderr, exit 1, nothing on stdout. */
function expectRefused(r: CliRun, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^ccs-jobs: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(1);
}

const jobsOf = (report: PipelineReport): PipelineJobReport[] => report.stages.flatMap((s) => s.jobs);
const job = (report: PipelineReport, jobId: string): PipelineJobReport => {
  const found = jobsOf(report).find((j) => j.jobId === jobId);
  if (!found) throw new Error(`no job ${jobId} in the report`);
  return found;
};

async function recordsOf(workflowId: string): Promise<(EvidenceContent & Chained)[]> {
  const out: (EvidenceContent & Chained)[] = [];
  for await (const r of new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).records()) if (r && r.workflowId === workflowId) out.push(r);
  return out;
}

/** The simulator's control API over its socket, as an operator's script would call it. */
function control(sim: Simulator, method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const url = new URL(sim.baseUrl);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, method, path, ca: sim.caPem, headers: { 'content-length': Buffer.byteLength(text) } },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (answer += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: answer ? (JSON.parse(answer) as unknown) : null }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('pipeline redrive', () => {
  it('re-runs the faulted job and what never started, carries the rest; then --from-stage 2 re-runs stages 2 and 3', async () => {
    const collect = addJob(rig.sim, steps(1), { JobName: 'Data collection - Linux' });
    const faulty = addJob(rig.sim, steps(1), {
      // Run 1 faults (a credential expired on a target), run 2 completes: the owner fixed the cause.
      runs: [
        { steps: steps(4, 'Faulted'), exception: 'credential expired on 3 assets' },
        { steps: steps(1), exception: null },
      ],
    });
    const sibling = addJob(rig.sim, steps(1)); // completes well before its sibling faults: carried
    const reporting = addJob(rig.sim, steps(1));
    const first = await startPipeline({
      name: 'nightly scan',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', jobs: [faulty, sibling] },
        { name: 'report', jobs: [reporting] },
      ],
    });
    const root = first.workflowId;
    const failure = await failureOf(first.result());
    expect(failure.type).toBe('CcsPipelineFailed');
    const original = failure.details?.[0] as PipelineReport;
    expect(original.stages.map((s) => s.jobs.map((j) => j.state))).toEqual([['completed'], ['failed', 'completed'], ['skipped']]);

    const r = await cli(['pipeline', 'redrive', root, '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const redrive = attempt(root, 1);
    const report = await redrive.result();
    await recordHistory(redrive, 'pipeline-redrive');
    expect(report.status).toBe('Completed');
    expect(report.redrive).toMatchObject({
      of: { workflowId: root, runId: first.firstExecutionRunId },
      rootWorkflowId: root,
      attempt: 1,
      mode: 'unfinished',
    });
    // The simulator's runs: stage 1 and the completed sibling ran once, the faulted job twice, stage 3 once.
    expect([collect, faulty, sibling, reporting].map((id) => rig.sim.state.runsOf(id).length)).toEqual([1, 2, 1, 1]);
    const origin = { workflowId: root, runId: first.firstExecutionRunId, attempt: 0 };
    for (const carried of [collect, sibling]) {
      expect(job(report, carried)).toMatchObject({
        state: 'completed',
        status: 'Completed',
        jobRunId: rig.sim.state.runsOf(carried)[0]!.JobRunID,
        startTime: job(original, carried).startTime,
        endTime: job(original, carried).endTime,
        carried: origin,
      });
    }
    for (const [rerun, stage] of [
      [faulty, 2],
      [reporting, 3],
    ] as const) {
      expect(job(report, rerun)).toMatchObject({
        state: 'completed',
        jobRunId: rig.sim.state.runsOf(rerun)[0]!.JobRunID,
        workflowId: `${root}/redrive-1/stage-${stage}/${rerun}`,
      });
      expect(job(report, rerun).carried).toBeUndefined();
    }

    // One story: the redrive's own record names what it continued, what it carried and what it ran again.
    const [record] = await eventually(async () => {
      const found = await recordsOf(redrive.workflowId);
      return found.length > 0 ? found : undefined;
    });
    expect(record?.redrive).toMatchObject({ of: { workflowId: root, runId: first.firstExecutionRunId }, rootWorkflowId: root, attempt: 1 });
    expect(record?.redrive?.carried.map((c) => [c.jobId, c.jobRunId, c.from.attempt])).toEqual([
      [collect, rig.sim.state.runsOf(collect)[0]!.JobRunID, 0],
      [sibling, rig.sim.state.runsOf(sibling)[0]!.JobRunID, 0],
    ]);
    expect(record?.redrive?.rerun.map((c) => [c.jobId, c.jobRunId])).toEqual([
      [faulty, rig.sim.state.runsOf(faulty)[0]!.JobRunID],
      [reporting, rig.sim.state.runsOf(reporting)[0]!.JobRunID],
    ]);

    // Nothing left: the scan's latest attempt completed. Given the first attempt's id, the CLI finds the latest.
    const runsBefore = rig.sim.state.runs.size;
    expectRefused(await cli(['pipeline', 'redrive', root]), /redrive-1/);
    expectRefused(await cli(['pipeline', 'redrive', root, '--from-stage', '4']), /stage/);
    expect(await exists(redriveWorkflowId(root, 2))).toBe(false);

    // --from-stage 2 re-runs stage 2 and after, completed or not; stage 1 stays carried from the first attempt.
    const fromStage = await cli(['pipeline', 'redrive', redriveWorkflowId(root, 1), '--from-stage', '2', '--wait']);
    expect(fromStage.stderr).toBe('');
    expect(fromStage.code).toBe(0);
    const second = await attempt(root, 2).result();
    expect(second.status).toBe('Completed');
    expect(second.redrive).toMatchObject({ of: { workflowId: redriveWorkflowId(root, 1) }, attempt: 2, mode: 'from-stage', fromStage: 2 });
    expect(job(second, collect).carried).toMatchObject(origin);
    expect([collect, faulty, sibling, reporting].map((id) => rig.sim.state.runsOf(id).length)).toEqual([1, 3, 2, 2]);
    expect(rig.sim.state.runs.size).toBe(runsBefore + 3);

    // Any client: a redrive under the wrong id, or of an attempt that is not the latest (its id reused), is
    // refused by the workflow itself, naming the id to use or the attempt to redrive.
    const latest = await attempt(root, 2).describe();
    for (const [id, of, says] of [
      [redriveWorkflowId(root, 9), { workflowId: latest.workflowId, runId: latest.runId }, /must run as \S+\/redrive-3/],
      [redriveWorkflowId(root, 1), { workflowId: root, runId: first.firstExecutionRunId }, /redrive the latest one, \S+\/redrive-2$/],
    ] as const) {
      const refused = await failureOf((await startRedrive(id, { redriveOf: of })).result());
      expect(refused.type).toBe('CcsRedriveRefused');
      expect(refused.message).not.toContain('\n');
      expect(refused.message).toMatch(says);
    }
    expect(rig.sim.state.runs.size).toBe(runsBefore + 3);
  }, 120_000);

  it('--only-failed re-runs the failed job only: the cancelled sibling and the skipped stage stay as they were', async () => {
    const faulty = addJob(rig.sim, steps(1), { runs: [{ steps: steps(1, 'Faulted') }, { steps: steps(1) }] });
    const sibling = addJob(rig.sim, [['Executing', 600]]); // aborted when its sibling fails
    const later = addJob(rig.sim, steps(1));
    const first = await startPipeline({
      name: 'only failed',
      pollInterval: '1s',
      stages: [
        { name: 'evaluate', jobs: [faulty, sibling] },
        { name: 'report', jobs: [later] },
      ],
    });
    expect((await failureOf(first.result())).type).toBe('CcsPipelineFailed');
    const r = await cli(['pipeline', 'redrive', first.workflowId, '--only-failed', '--wait']);
    // Not Completed: the carried cancelled and skipped jobs leave the scan unfinished.
    expect(r.code).toBe(2);
    const report = await attempt(first.workflowId, 1).result();
    expect(report.redrive).toMatchObject({ mode: 'only-failed', attempt: 1 });
    expect(report.status).toBe('CompletedWithFailures');
    expect(report.stages.map((s) => s.jobs.map((j) => [j.state, j.carried?.attempt]))).toEqual([
      [
        ['completed', undefined],
        ['cancelled', 0],
      ],
      [['skipped', 0]],
    ]);
    expect([faulty, sibling, later].map((id) => rig.sim.state.runsOf(id).length)).toEqual([2, 1, 0]);
  }, 60_000);

  it('refuses an attempt still running, and a redrive while the redrive of it is running', async () => {
    const slow = addJob(rig.sim, [['Executing', 600]]);
    const first = await startPipeline({ name: 'long scan', pollInterval: '1s', stages: [{ name: 'collect', jobs: [slow] }] });
    const root = first.workflowId;
    await eventually(() => rig.sim.state.runsOf(slow).length === 1, 20_000, 'the CCS run');
    expectRefused(await cli(['pipeline', 'redrive', root]), /running/);
    expect(await exists(redriveWorkflowId(root, 1))).toBe(false);

    // Cancelled (its run aborted and confirmed): the cancelled job is what a redrive re-runs.
    await first.signal(cancelSignal, { reason: 'maintenance window' });
    expect((await first.result()).status).toBe('Cancelled');
    const started = await cli(['pipeline', 'redrive', root]);
    expect(started.code).toBe(0);
    const redrive = attempt(root, 1);
    await eventually(() => rig.sim.state.runsOf(slow).length === 2, 20_000, 'the redrive to run the cancelled job again');
    expectRefused(await cli(['pipeline', 'redrive', root]), /redrive-1.*running|running.*redrive-1/);
    const current = await redrive.describe();
    const refused = await failureOf(
      (await startRedrive(redriveWorkflowId(root, 2), { redriveOf: { workflowId: current.workflowId, runId: current.runId } })).result(),
    );
    expect(refused.type).toBe('CcsRedriveRefused');
    expect(refused.message).toMatch(/running/);
    expect(rig.sim.state.runsOf(slow)).toHaveLength(2);

    await redrive.signal(cancelSignal, { reason: 'test over' });
    expect((await redrive.result()).status).toBe('Cancelled');
  }, 90_000);

  it('refuses a scan whose definition does not validate, starting nothing', async () => {
    const first = await startPipeline({ name: 'bad', stages: [{ name: 's', jobs: ['not-a-guid'] }] });
    expect((await failureOf(first.result())).type).toBe('CcsInvalidInput');
    const runsBefore = rig.sim.state.runs.size;
    expectRefused(await cli(['pipeline', 'redrive', first.workflowId]), /definition of scan \S+ no longer validates/);
    expect(await exists(redriveWorkflowId(first.workflowId, 1))).toBe(false);
    // Any client: the workflow refuses it by itself, before any CCS request.
    const redrive = await startRedrive(redriveWorkflowId(first.workflowId, 1), {
      redriveOf: { workflowId: first.workflowId, runId: first.firstExecutionRunId },
    });
    const refused = await failureOf(redrive.result());
    await recordHistory(redrive, 'pipeline-redrive-refused');
    expect(refused).toMatchObject({
      type: 'CcsRedriveRefused',
      message: expect.stringMatching(/no longer validates \(1 problem\): /) as unknown,
    });
    expect(rig.sim.state.runs.size).toBe(runsBefore);
  });

  it('a job whose CCS run outlived its pipeline (abort never confirmed) is attached to, not executed again', async () => {
    const collect = addJob(rig.sim, steps(1));
    // CCS accepts the abort but never stops: the run goes on to complete in its own time.
    const stubborn = addJob(rig.sim, steps(20), { ignoreAbort: true });
    const first = await startPipeline({
      name: 'abort unconfirmed',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', jobs: [stubborn] },
      ],
    });
    const root = first.workflowId;
    await eventually(async () => (await first.query(pipelineStatusQuery)).stages[1]?.jobs[0]?.state === 'running', 20_000, 'stage 2');
    await eventually(() => rig.sim.state.runsOf(stubborn).length === 1, 20_000, 'the CCS run');
    await first.signal(cancelSignal, { reason: 'called off' });
    const run = rig.sim.state.runsOf(stubborn)[0]!;
    await eventually(() => run.abortRequests === 1, 20_000, 'the abort request');
    // The pipeline waits for CCS to confirm the abort, which never comes; an operator terminates it.
    await first.terminate('abort never confirmed');
    const executes = rig.sim.stats().execute?.['200'] ?? 0;

    const r = await cli(['pipeline', 'redrive', root, '--wait']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = await attempt(root, 1).result();
    expect(report.status).toBe('Completed');
    // Rebuilt from the terminated attempt's children: stage 1's child completed and is carried.
    expect(job(report, collect).carried).toMatchObject({ workflowId: root, attempt: 0 });
    expect(job(report, stubborn)).toMatchObject({
      state: 'completed',
      jobRunId: run.JobRunID,
      workflowId: `${root}/redrive-1/stage-2/${stubborn}`,
    });
    expect(rig.sim.state.runsOf(stubborn)).toHaveLength(1);
    expect(rig.sim.stats().execute?.['200'] ?? 0).toBe(executes);
  }, 90_000);

  it('a carried collection that went stale closes the gate at redrive time: CcsStaleData, the check in the report', async () => {
    const collect = addJob(rig.sim, steps(1), { JobName: 'Data collection - Windows' });
    const evaluation = addJob(rig.sim, steps(1), { runs: [{ steps: steps(1, 'Faulted') }, { steps: steps(1) }] });
    const first = await startPipeline({
      name: 'gated scan',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', requireFresh: { fromStage: 'collect', within: '1m' }, jobs: [evaluation] },
      ],
    });
    const failure = await failureOf(first.result());
    expect(failure.type).toBe('CcsPipelineFailed');
    const collection = rig.sim.state.runsOf(collect)[0]!;
    expect((failure.details?.[0] as PipelineReport).stages[1]?.freshness).toMatchObject([
      { jobId: collect, within: '1m', jobRunId: collection.JobRunID, fresh: true },
    ]);

    // Two minutes later, as far as CCS's run times say.
    expect(await control(rig.sim, 'POST', `/__sim/jobs/${collect}/age`, { seconds: 120 })).toEqual({
      status: 200,
      body: { aged: [collection.JobRunID] },
    });
    const r = await cli(['pipeline', 'redrive', first.workflowId, '--wait']);
    expect(r.code).toBe(2);
    const redrive = attempt(first.workflowId, 1);
    const stale = await failureOf(redrive.result());
    await recordHistory(redrive, 'pipeline-redrive-stale');
    expect(stale.type).toBe('CcsStaleData');
    expect(stale.message).toContain(collection.JobRunID);
    const report = stale.details?.[0] as PipelineReport;
    expect(job(report, collect).carried).toMatchObject({ workflowId: first.workflowId, attempt: 0 });
    expect(report.stages[1]).toMatchObject({ state: 'failed', jobs: [{ state: 'skipped', error: { type: 'CcsStaleData' } }] });
    expect(report.stages[1]?.freshness).toMatchObject([
      {
        jobId: collect,
        within: '1m',
        jobRunId: collection.JobRunID,
        endTime: new Date(rig.sim.state.view(collection).endedAt!).toISOString(),
        fresh: false,
      },
    ]);
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(1);
  }, 90_000);
});

describe('automatic redrive', () => {
  it('an attempt that ends with a failed job starts the next one itself, delayed by redrive.after', async () => {
    const faulty = addJob(rig.sim, steps(1, 'Faulted'));
    const first = await startPipeline({
      name: 'auto redriven',
      pollInterval: '1s',
      redrive: { after: '1m', max: 1 },
      stages: [{ name: 'evaluate', jobs: [faulty] }],
    });
    expect((await failureOf(first.result())).type).toBe('CcsPipelineFailed');
    await recordHistory(first, 'pipeline-auto-redrive');
    // Started before the attempt closed (its last step), waiting for its start delay: no task, no CCS request yet.
    const next = attempt(first.workflowId, 1);
    const { raw, status } = await next.describe();
    expect(status.name).toBe('RUNNING');
    const info = raw.workflowExecutionInfo!;
    const delayMs = (Number(info.executionTime!.seconds) - Number(info.startTime!.seconds)) * 1000;
    expect(delayMs).toBeGreaterThanOrEqual(59_000);
    expect(delayMs).toBeLessThanOrEqual(61_000);
    const started = (await next.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(started!).toString('utf8'))).toEqual({
      redriveOf: { workflowId: first.workflowId, runId: first.firstExecutionRunId },
      automatic: true,
    });
    expect(rig.sim.state.runsOf(faulty)).toHaveLength(1);
    await next.terminate('test over: the delayed redrive is not waited for');
  });
});

describe('a worker SIGKILLed during a redrive', () => {
  const children = new Set<ChildProcess>();
  let env: Record<string, string>;
  beforeAll(() => {
    const dir = tempDir('ccs-redrive-worker-');
    writeFileSync(join(dir, 'ca.pem'), rig.sim.caPem!);
    writeFileSync(join(dir, 'password'), `${SIM_USER.password}\n`);
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `redrive-proc-${randomUUID()}`,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      CCS_BASE_URL: rig.sim.baseUrl,
      CCS_USERNAME: SIM_USER.username,
      CCS_PASSWORD_FILE: join(dir, 'password'),
      CCS_CA_FILE: join(dir, 'ca.pem'),
    };
  });
  afterEach(() => {
    rig.sim.setFaults({});
    for (const child of children) child.kill('SIGKILL');
  });
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const spawnWorker = async (): Promise<WorkerProcess> => {
    const proc = await spawnWorkerProcess(env);
    children.add(proc.child);
    void proc.exited.then(() => children.delete(proc.child));
    return proc;
  };

  it('killed while the re-run job is being executed: another worker finishes the redrive, no job executed twice', async () => {
    const first = await spawnWorker();
    const collect = addJob(rig.sim, steps(1));
    const faulty = addJob(rig.sim, steps(1), { runs: [{ steps: steps(1, 'Faulted') }, { steps: steps(2) }] });
    const reporting = addJob(rig.sim, steps(1));
    const scan = await startPipeline(
      {
        name: 'killed mid-redrive',
        pollInterval: '1s',
        stages: [
          { name: 'collect', jobs: [collect] },
          { name: 'evaluate', jobs: [faulty] },
          { name: 'report', jobs: [reporting] },
        ],
      },
      rig.w,
      env.TEMPORAL_TASK_QUEUE,
    );
    expect((await failureOf(scan.result())).type).toBe('CcsPipelineFailed');

    // CCS starts the run, then sends the execute's answer a byte a second: the worker dies between
    // CCS acting and the answer arriving, mid-stage, the moment that makes an execute ambiguous.
    rig.sim.setFaults({ dripBytesPerSecond: 1, endpoints: ['execute'] });
    expect((await cli(['pipeline', 'redrive', scan.workflowId], env.TEMPORAL_TASK_QUEUE)).code).toBe(0);
    await eventually(() => rig.sim.state.runsOf(faulty).length === 2, 30_000, 'CCS to start the re-run');
    first.child.kill('SIGKILL');
    await first.exited;
    rig.sim.setFaults({});
    const second = await spawnWorker();

    const report = await attempt(scan.workflowId, 1).result();
    expect(report.status).toBe('Completed');
    expect([collect, faulty, reporting].map((id) => rig.sim.state.runsOf(id).length)).toEqual([1, 2, 1]);
    expect(job(report, faulty).jobRunId).toBe(rig.sim.state.runsOf(faulty)[0]!.JobRunID);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 150_000);
});
