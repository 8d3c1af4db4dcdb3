/**
 * Redrive's Temporal reads and its command line (issue #30), against the real dev server, the
 * simulator and a worker: what `scanAttempts` and `readRedriveSource` make of real ended pipelines
 * (completed, failed, terminated), each refusal's one line, and the CLI's flags for
 * `pipeline redrive` and `schedule create --redrive-after`.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, inject, it } from 'vitest';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { PipelineStageReport } from '../../src/domain/pipeline';
import { createRedriveActivities } from '../../src/activities/redrive';
import { readRedriveSource, scanAttempts } from '../../src/redrive/attempts';
import type { ReadRedriveSourceInput } from '../../src/domain/redrive';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, eventually, runCli, simAndWorker, type CliRun } from '../helpers';
import { tempDir } from '../temp-dir';

const rig = simAndWorker();
const dir = tempDir('ccs-redrive-cli-');
const SOME_JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue });
}

function file(text: string): string {
  const path = join(dir, `${randomUUID()}.yaml`);
  writeFileSync(path, text);
  return path;
}

function startPipeline(definition: PipelineDefinition, workflowId = `scan-${randomUUID()}`) {
  return rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
    taskQueue: rig.w.taskQueue,
    workflowId,
    args: [definition],
  });
}

/** The refusal `readRedriveSource` throws: asserted on its type, its message returned. */
async function refusal(input: ReadRedriveSourceInput): Promise<string> {
  const err = await readRedriveSource(rig.w.client, input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('CcsRedriveRefused');
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  const message = (err as ApplicationFailure).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

const shape = (report: PipelineReport | null) => report?.stages.map((s: PipelineStageReport) => [s.state, s.jobs.map((j) => j.state)]);

describe('ccs-jobs redrive flags', () => {
  const pipeline = file(`name: flags\nstages:\n  - name: s\n    jobs: [${SOME_JOB}]\n`);
  it.each([
    [
      ['pipeline', 'redrive', 'x', '--only-failed', '--from-stage', '2'],
      /^ccs-jobs: --only-failed and --from-stage cannot be given together/,
    ],
    [['pipeline', 'redrive', 'x', '--from-stage', '0'], /^ccs-jobs: --from-stage must be a stage number, 1 or more; got 0\n$/],
    [['pipeline', 'redrive', 'x', '--from-stage', 'two'], /^ccs-jobs: --from-stage must be a stage number, 1 or more; got two\n$/],
    [['pipeline', 'redrive'], /^ccs-jobs: name the pipeline workflow: ccs-jobs pipeline redrive <workflowId>\n$/],
    [['pipeline', 'run', pipeline, '--only-failed'], /^ccs-jobs: pipeline run does not take --only-failed/],
    [['pipeline', 'redrive', `no-such-scan-${randomUUID()}`], /^ccs-jobs: no pipeline "no-such-scan-.*" in namespace default/],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--job', SOME_JOB, '--redrive-after', '30m'],
      /^ccs-jobs: --redrive-after is for pipeline schedules \(--pipeline <file>\)/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--job', SOME_JOB, '--max-redrives', '2'],
      /^ccs-jobs: --max-redrives is for pipeline schedules/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--pipeline', pipeline, '--max-redrives', '2'],
      /^ccs-jobs: --max-redrives needs --redrive-after/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--pipeline', pipeline, '--redrive-after', '30s'],
      /^ccs-jobs: --redrive-after must be at least 1m; got "30s"\n$/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--pipeline', pipeline, '--redrive-after', 'soon'],
      /^ccs-jobs: --redrive-after must be a duration such as 30m or 2h; got "soon"\n$/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--pipeline', pipeline, '--redrive-after', '30m', '--max-redrives', '21'],
      /^ccs-jobs: --max-redrives must be a whole number from 1 to 20; got "21"\n$/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--pipeline', pipeline, '--redrive-after', '30m', '--max-redrives', '0'],
      /^ccs-jobs: --max-redrives must be a whole number from 1 to 20; got "0"\n$/,
    ],
  ])('%j is refused with one line naming the flag, exit 1', async (args, message) => {
    const r = await cli(args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(1);
  });

  it('schedule create --redrive-after 30m --max-redrives 2 puts redrive into the scheduled definition; list and describe show it', async () => {
    const name = `redrive-sched-${Date.now()}`;
    const scan = file(`name: nightly\nstages:\n  - name: s\n    jobs: [${SOME_JOB}]\n`);
    const created = await cli([
      'schedule',
      'create',
      name,
      '--cron',
      '0 2 * * *',
      '--pipeline',
      scan,
      '--redrive-after',
      '30m',
      '--max-redrives',
      '2',
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/, redrive after 30m, at most 2\n$/);
    try {
      const d = await rig.w.client.schedule.getHandle(name).describe();
      const action = d.action as { workflowType: string; args: PipelineDefinition[] };
      expect(action.workflowType).toBe('runCcsPipeline');
      expect(action.args[0]?.redrive).toEqual({ after: '30m', max: 2 });
      const described = JSON.parse((await cli(['schedule', 'describe', name, '--json'])).stdout) as Record<string, unknown>;
      expect(described.redrive).toEqual({ after: '30m', max: 2 });
      expect((await cli(['schedule', 'describe', name])).stdout).toMatch(/^redrive\s+redrive after 30m, at most 2$/m);
      const listed = await cli(['schedule', 'list']);
      expect(listed.stdout.split('\n').find((l) => l.startsWith(name))).toContain('after 30m, at most 2');
      // Without --max-redrives: one redrive per scan.
      const once = `${name}-once`;
      await cli(['schedule', 'create', once, '--cron', '0 2 * * *', '--pipeline', scan, '--redrive-after', '1h']);
      const d1 = await rig.w.client.schedule.getHandle(once).describe();
      expect((d1.action as { args: PipelineDefinition[] }).args[0]?.redrive).toEqual({ after: '1h', max: 1 });
      await rig.w.client.schedule.getHandle(once).delete();
    } finally {
      await rig.w.client.schedule.getHandle(name).delete();
    }
  });
});

describe('scanAttempts and readRedriveSource on real ended pipelines', () => {
  it('a completed pipeline: the report is its result; a redrive finds nothing to re-run; later attempts and wrong ids are refused', async () => {
    const job = addJob(rig.sim, [['Completed', 0]]);
    const handle = await startPipeline({ name: 'done', pollInterval: '1s', stages: [{ name: 's', jobs: [job] }] });
    const result = await handle.result();
    const [first, ...rest] = await scanAttempts(rig.w.client, handle.workflowId);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, attempt: 0, status: 'COMPLETED' });
    expect(first?.report).toEqual(result);
    expect(first?.input).toMatchObject({ name: 'done' });

    const cliRun = await cli(['pipeline', 'redrive', handle.workflowId]);
    expect(cliRun.stderr).toBe(`ccs-jobs: nothing to redrive: every job of ${handle.workflowId} completed\n`);
    expect(cliRun.code).toBe(1);
    // Nothing was started.
    expect((await scanAttempts(rig.w.client, handle.workflowId)).map((a) => a.workflowId)).toEqual([handle.workflowId]);

    const of = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    expect(await refusal({ redriveOf: of, workflowId: `${handle.workflowId}/redrive-2` })).toBe(
      `a redrive of ${handle.workflowId} must run as ${handle.workflowId}/redrive-1, not ${handle.workflowId}/redrive-2`,
    );
    // Two later attempts (here pipelines refused at once): the earlier ones may no longer be redriven.
    for (const n of [1, 2]) {
      const later = await startPipeline({ name: '', stages: [] }, `${handle.workflowId}/redrive-${n}`);
      await later.result().catch(() => undefined);
    }
    expect(await refusal({ redriveOf: of, workflowId: `${handle.workflowId}/redrive-1` })).toBe(
      `a later attempt of scan ${handle.workflowId} exists: redrive the latest one, ${handle.workflowId}/redrive-2`,
    );
    const attempts = await scanAttempts(rig.w.client, `${handle.workflowId}/redrive-1`);
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [0, 'COMPLETED'],
      [1, 'FAILED'],
      [2, 'FAILED'],
    ]);
  });

  it('a failed pipeline: the report from its failure details, names resolved as the first attempt resolved them; the CLI starts redrive-1', async () => {
    const collect = addJob(rig.sim, [['Completed', 0]]);
    const faulty = addJob(rig.sim, [
      ['Executing', 1],
      ['Faulted', 0],
    ]);
    const reportName = `redrive report ${randomUUID()}`;
    const report = addJob(rig.sim, [['Completed', 0]], { JobName: reportName });
    const handle = await startPipeline({
      name: 'failing',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', jobs: [faulty] },
        { name: 'report', jobs: [{ name: reportName }] },
      ],
    });
    const failed = await handle.result().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    const [first] = await scanAttempts(rig.w.client, handle.workflowId);
    expect(first?.status).toBe('FAILED');
    expect(first?.report?.status).toBe('Failed');
    expect(shape(first?.report ?? null)).toEqual([
      ['completed', ['completed']],
      ['failed', ['failed']],
      ['skipped', ['skipped']],
    ]);

    const source = await readRedriveSource(rig.w.client, {
      redriveOf: { workflowId: handle.workflowId, runId: '' },
      workflowId: `${handle.workflowId}/redrive-1`,
    });
    expect(source).toMatchObject({
      of: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      rootWorkflowId: handle.workflowId,
      attempt: 0,
      closedAs: 'FAILED',
    });
    expect(source.report).toEqual(first?.report);
    expect(source.definition.stages[2]?.jobs).toEqual([{ name: reportName, jobId: report }]);

    const started = await cli(['pipeline', 'redrive', handle.workflowId, '--json']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({
      workflowId: `${handle.workflowId}/redrive-1`,
      redrive: 1,
      rootWorkflowId: handle.workflowId,
      of: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      rerun: 2,
      carried: 1,
    });
    const input = (await scanAttempts(rig.w.client, handle.workflowId))[1]?.input;
    expect(input).toMatchObject({ redriveOf: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId } });
  });

  it('a running pipeline is refused; once terminated, its report is rebuilt from its children', async () => {
    const collect = addJob(rig.sim, [['Completed', 0]]);
    const long = addJob(rig.sim, [['Executing', 600]]);
    const laterName = `redrive later ${randomUUID()}`;
    const later = addJob(rig.sim, [['Completed', 0]], { JobName: laterName });
    const handle = await startPipeline({
      name: 'terminated',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [collect] },
        { name: 'evaluate', jobs: [long] },
        { name: 'report', jobs: [{ name: laterName }] },
      ],
    });
    const child = rig.w.client.workflow.getHandle(`${handle.workflowId}/stage-2/${long}`);
    await eventually(
      () =>
        child.describe().then(
          (d) => d.status.name === 'RUNNING',
          () => false,
        ),
      20_000,
      'the stage-2 job to start',
    );
    const of = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    expect(await refusal({ redriveOf: of, workflowId: `${handle.workflowId}/redrive-1` })).toBe(
      `pipeline ${handle.workflowId} is still running: cancel it or wait for it to end before redriving it`,
    );
    const cliRun = await cli(['pipeline', 'redrive', handle.workflowId, '--only-failed']);
    expect(cliRun.stderr).toBe(
      `ccs-jobs: pipeline ${handle.workflowId} is still running: cancel it or wait for it to end before redriving it\n`,
    );
    expect(cliRun.code).toBe(1);

    await handle.terminate('test: a pipeline that leaves no report');
    // The child is asked to cancel (parent close policy) and aborts its CCS run; wait until it has closed.
    await eventually(() => child.describe().then((d) => d.status.name !== 'RUNNING'), 30_000, 'the stage-2 job to close');
    const [first] = await scanAttempts(rig.w.client, handle.workflowId);
    expect(first?.status).toBe('TERMINATED');
    expect(shape(first?.report ?? null)).toEqual([
      ['completed', ['completed']],
      [expect.stringMatching(/^(cancelled|failed)$/), [expect.stringMatching(/^(cancelled|failed)$/)]],
      ['pending', ['pending']],
    ]);
    const collected = first?.report?.stages[0]?.jobs[0];
    expect(collected).toMatchObject({
      jobId: collect,
      workflowId: `${handle.workflowId}/stage-1/${collect}`,
      status: 'Completed',
      jobRunId: rig.sim.state.runsOf(collect)[0]?.JobRunID,
    });
    const source = await readRedriveSource(rig.w.client, { redriveOf: of, workflowId: `${handle.workflowId}/redrive-1` });
    expect(source.closedAs).toBe('TERMINATED');
    // The name of a stage that never started was resolved before stage 1: read back from the history's lookups.
    expect(source.definition.stages[2]?.jobs).toEqual([{ name: laterName, jobId: later }]);
  });

  it('a definition that no longer validates is refused', async () => {
    const handle = await startPipeline({ name: 'bad', stages: [{ name: 's', jobs: ['not-a-guid'] }] });
    await handle.result().catch(() => undefined);
    expect(
      await refusal({ redriveOf: { workflowId: handle.workflowId, runId: '' }, workflowId: `${handle.workflowId}/redrive-1` }),
    ).toMatch(
      new RegExp(
        `^the definition of scan ${handle.workflowId} no longer validates \\(1 problem\\): stages\\[0\\]\\.jobs\\[0\\]: must be a job GUID`,
      ),
    );
  });

  it('startAutoRedrive starts the next attempt on its own task queue, delayed; a retried start finds it and starts nothing', async () => {
    const activities = createRedriveActivities({ client: rig.w.client });
    const startAutoRedrive = (i: Parameters<typeof activities.startAutoRedrive>[0]) => activities.startAutoRedrive(i);
    const failing = addJob(rig.sim, [['Faulted', 0]]);
    const first = await startPipeline({ name: 'auto', pollInterval: '1s', stages: [{ name: 's', jobs: [failing] }] });
    await first.result().catch(() => undefined);
    const root = first.workflowId;
    const workflowId = `${root}/redrive-1`;
    const redriveOf = { workflowId: root, runId: first.firstExecutionRunId };
    const input = { workflowId, input: { redriveOf }, startDelayMs: 3_600_000 };
    const env = () => new MockActivityEnvironment({ taskQueue: rig.w.taskQueue }, { logger: new DefaultLogger('ERROR') });
    expect(await env().run(startAutoRedrive, input)).toEqual({ workflowId, started: true });
    expect(await env().run(startAutoRedrive, input)).toEqual({ workflowId, started: false });
    const handle = rig.w.client.workflow.getHandle(workflowId);
    const d = await handle.describe();
    expect(d).toMatchObject({ type: 'runCcsPipeline', taskQueue: rig.w.taskQueue, status: { name: 'RUNNING' } });
    // Delayed by an hour: no workflow task yet, so the worker has not begun it.
    expect(d.historyLength).toBe(1);
    expect(await readStart(workflowId)).toEqual([input.input]);
    // While it waits, the scan may not be redriven again: the CLI and the activity say which attempt runs.
    const cliRun = await cli(['pipeline', 'redrive', root]);
    expect(cliRun.stderr).toBe(
      `ccs-jobs: a later attempt of scan ${root} is running (${workflowId}): wait for it to end, then redrive it\n`,
    );
    expect(cliRun.code).toBe(1);
    expect(await refusal({ redriveOf: { workflowId, runId: '' }, workflowId: `${root}/redrive-2` })).toBe(
      `pipeline ${workflowId} is still running: cancel it or wait for it to end before redriving it`,
    );
    await handle.terminate('test over');
    expect(await refusal({ redriveOf, workflowId: `${root}/redrive-2` })).toBe(
      `a redrive of ${root} must run as ${workflowId}, not ${root}/redrive-2`,
    );
    // Closed: still found, still not started a second time.
    expect(await env().run(startAutoRedrive, input)).toEqual({ workflowId, started: false });
  });
});

/** A workflow's start input, as its first history event holds it. */
async function readStart(workflowId: string): Promise<unknown[]> {
  const history = await rig.w.client.workflow.getHandle(workflowId).fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return payloads.map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as unknown);
}
