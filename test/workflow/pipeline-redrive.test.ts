/**
 * `runCcsPipeline` as a redrive, on the time-skipping test server with scripted activities: what it
 * carries and what it runs again (attaching, never executing twice), a refusal before any child, the
 * automatic redrive an ending attempt starts (and when it does not), and the stale-data gate of a
 * re-run stage checked again. The Temporal reads behind `readRedriveSource` are tested in integration.
 */
import { ApplicationFailure } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { cancelSignal, childWorkflowId, pipelineStatusQuery } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { RunCcsJobInput } from '../../src/domain/job-workflow';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { RedriveSource, RunCcsPipelineInput, StartAutoRedriveInput } from '../../src/domain/redrive';
import type { runCcsPipeline } from '../../src/workflows';
import { failureOf } from '../helpers';
import { HOUR, JOB, MINUTE, eventsOf, jobRun, scriptedCcs, timeSkippingEnv, withWorker, type Scripted } from './rig';

const rig = timeSkippingEnv();
const COLLECT = '9f6b7e1a-0c2d-4e3f-8a9b-0c1d2e3f4a5b';
const REPORT = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';

function start(taskQueue: string, workflowId: string, input: RunCcsPipelineInput) {
  return rig.env.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', { taskQueue, workflowId, args: [input] });
}

const rootId = () => `scan-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** A scan of two stages: a collection, then an evaluation that failed in the attempt redriven. */
const definition = (): PipelineDefinition => ({
  name: 'nightly',
  stages: [
    { name: 'collect', jobs: [COLLECT] },
    { name: 'evaluate', jobs: [{ jobId: JOB, pollInterval: '1m' }] },
  ],
});

/** The source of a redrive of attempt `attempt` of `root`: the collection completed (at `collectedAt`), the evaluation failed. */
function sourceOf(root: string, attempt: number, def: PipelineDefinition, collectedAt = '2026-12-01T00:00:00.000Z'): RedriveSource {
  const of = attempt === 0 ? root : `${root}/redrive-${attempt}`;
  return {
    of: { workflowId: of, runId: `run-${attempt}` },
    rootWorkflowId: root,
    attempt,
    definition: def,
    closedAs: 'FAILED',
    report: {
      name: def.name,
      status: 'Failed',
      startedAt: '2026-12-01T00:00:00.000Z',
      endedAt: '2026-12-01T05:00:00.000Z',
      stages: [
        {
          name: 'collect',
          state: 'completed',
          jobs: [
            {
              jobId: COLLECT,
              workflowId: childWorkflowId(of, 0, COLLECT),
              runId: 'child-run-1',
              state: 'completed',
              status: 'Completed',
              jobRunId: 'collect-run',
              startTime: '2026-11-30T20:00:00.000Z',
              endTime: collectedAt,
            },
          ],
        },
        {
          name: 'evaluate',
          state: 'failed',
          jobs: [
            {
              jobId: JOB,
              workflowId: childWorkflowId(of, 1, JOB),
              state: 'failed',
              status: 'Faulted',
              error: { type: ErrorType.JobFaulted, message: 'faulted' },
            },
          ],
        },
      ],
    },
  };
}

/** Scripted redrive activities: the source given (or a refusal), and every automatic start recorded. */
function redriveActivities(source: RedriveSource | ApplicationFailure | null) {
  const reads: unknown[] = [];
  const starts: StartAutoRedriveInput[] = [];
  const activities: Scripted = {
    readRedriveSource: (input) => {
      reads.push(input);
      if (source instanceof ApplicationFailure) return Promise.reject(source);
      if (!source) return Promise.reject(ApplicationFailure.nonRetryable('no source scripted', 'NotScripted'));
      return Promise.resolve(source);
    },
    startAutoRedrive: (input) => {
      starts.push(input);
      return Promise.resolve({ workflowId: input.workflowId, started: true });
    },
  };
  return { activities, reads, starts };
}

/** The input the child workflow `workflowId` was started with (first history event). */
async function childInput(workflowId: string): Promise<RunCcsJobInput> {
  const history = await rig.env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return defaultPayloadConverter.fromPayload(payload!);
}

describe('runCcsPipeline redrive', () => {
  it('carries the completed collection and runs only the failed evaluation, attaching (ifRunning: attach)', async () => {
    const root = rootId();
    const ccs = scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 10 * MINUTE, status: 'Completed', statusCode: 4 },
    ]);
    const redrive = redriveActivities(sourceOf(root, 0, definition()));
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const id = `${root}/redrive-1`;
      const handle = await start(taskQueue, id, { redriveOf: { workflowId: root, runId: 'run-0' } });
      const report = await handle.result();
      expect(redrive.reads).toEqual([{ redriveOf: { workflowId: root, runId: 'run-0' }, workflowId: id }]);
      expect(report.status).toBe('Completed');
      expect(report.redrive).toEqual({ of: { workflowId: root, runId: 'run-0' }, rootWorkflowId: root, attempt: 1, mode: 'unfinished' });
      const [collect] = report.stages[0]!.jobs;
      expect(collect).toMatchObject({
        state: 'completed',
        jobRunId: 'collect-run',
        workflowId: childWorkflowId(root, 0, COLLECT),
        carried: { workflowId: root, runId: 'run-0', attempt: 0, evidenceKey: `${childWorkflowId(root, 0, COLLECT)}/child-run-1` },
      });
      const [evaluate] = report.stages[1]!.jobs;
      expect(evaluate).toMatchObject({ state: 'completed', workflowId: childWorkflowId(id, 1, JOB), status: 'Completed' });
      expect(evaluate!.carried).toBeUndefined();
      expect(report.stages.map((s) => s.state)).toEqual(['completed', 'completed']);
      // Only the evaluation ran: one execute, of its job, by a child that would attach to a run still going.
      expect(ccs.calls.filter((c) => c.name === 'executeJob').map((c) => (c.input as { jobId: string }).jobId)).toEqual([JOB]);
      expect((await childInput(childWorkflowId(id, 1, JOB))).ifRunning).toBe('attach');
      const children = (await eventsOf(handle)).filter((e) => e.type === 'START_CHILD_WORKFLOW_EXECUTION_INITIATED');
      expect(children).toHaveLength(1);
    });
  });

  it('a refusal from readRedriveSource fails the redrive CcsRedriveRefused, in one line, before any child starts', async () => {
    const root = rootId();
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }]);
    const line = `pipeline ${root} is still running; redrive it once it has ended`;
    const redrive = redriveActivities(ApplicationFailure.nonRetryable(line, ErrorType.RedriveRefused));
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const handle = await start(taskQueue, `${root}/redrive-1`, { redriveOf: { workflowId: root, runId: '' } });
      const f = await failureOf(handle.result());
      expect(f.type).toBe(ErrorType.RedriveRefused);
      expect(f.message).toBe(line);
      expect(redrive.reads).toHaveLength(1);
      expect(ccs.calls).toEqual([]);
      expect((await eventsOf(handle)).filter((e) => e.type === 'START_CHILD_WORKFLOW_EXECUTION_INITIATED')).toEqual([]);
    });
  });

  it("refuses a redrive started under an id that is not the scan's next attempt, naming the right one", async () => {
    const root = rootId();
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }]);
    const redrive = redriveActivities(sourceOf(root, 0, definition()));
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const f = await failureOf(
        start(taskQueue, `${root}/redrive-2`, { redriveOf: { workflowId: root, runId: 'run-0' } }).then((h) => h.result()),
      );
      expect(f.type).toBe(ErrorType.RedriveRefused);
      expect(f.message).toBe(`redrive of ${root} must run as ${root}/redrive-1 (the scan's next attempt), not ${root}/redrive-2`);
      expect(ccs.calls).toEqual([]);
    });
  });

  it('refuses a redrive with nothing left to run', async () => {
    const root = rootId();
    const source = sourceOf(root, 0, definition());
    Object.assign(source.report.stages[1]!.jobs[0]!, { state: 'completed', status: 'Completed', jobRunId: 'eval-run' });
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }]);
    const redrive = redriveActivities(source);
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const f = await failureOf(
        start(taskQueue, `${root}/redrive-1`, { redriveOf: { workflowId: root, runId: 'run-0' } }).then((h) => h.result()),
      );
      expect(f.type).toBe(ErrorType.RedriveRefused);
      expect(f.message).toBe(`nothing to redrive: every job of ${root} completed`);
      expect(ccs.calls).toEqual([]);
    });
  });
});

describe('runCcsPipeline automatic redrive', () => {
  const faulting = () =>
    scriptedCcs([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 5 * MINUTE, status: 'Faulted', statusCode: 6, exception: 'disk full' },
    ]);
  const oneJob = (redrive?: PipelineDefinition['redrive']): PipelineDefinition => ({
    name: 'nightly',
    stages: [{ name: 'evaluate', jobs: [{ jobId: JOB, pollInterval: '1m' }] }],
    ...(redrive ? { redrive } : {}),
  });

  it('a failed first attempt with redrive { after: 30m, max: 2 } starts redrive-1 once, delayed 30 min', async () => {
    const root = rootId();
    const ccs = faulting();
    const redrive = redriveActivities(null);
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const handle = await start(taskQueue, root, oneJob({ after: '30m', max: 2 }));
      const f = await failureOf(handle.result());
      expect(f.type).toBe(ErrorType.PipelineFailed);
      expect(redrive.starts).toEqual([
        {
          workflowId: `${root}/redrive-1`,
          input: { redriveOf: { workflowId: root, runId: handle.firstExecutionRunId }, automatic: true },
          startDelayMs: 1_800_000,
        },
      ]);
      // Its last step before the evidence record: after the job's child closed.
      const events = await eventsOf(handle);
      const scheduled = events.filter((e) => e.type === 'ACTIVITY_TASK_SCHEDULED').map((e) => e.activity);
      expect(scheduled.slice(-2)).toEqual(['startAutoRedrive', 'recordEvidence']);
    });
  });

  it('attempt 2 of max 2 fails without starting another', async () => {
    const root = rootId();
    const ccs = faulting();
    const def = { ...definition(), redrive: { after: '30m', max: 2 } };
    const redrive = redriveActivities(sourceOf(root, 1, def));
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const handle = await start(taskQueue, `${root}/redrive-2`, {
        redriveOf: { workflowId: `${root}/redrive-1`, runId: 'run-1' },
        automatic: true,
      });
      const f = await failureOf(handle.result());
      expect(f.type).toBe(ErrorType.PipelineFailed);
      const report = f.details?.[0] as PipelineReport;
      expect(report.redrive).toMatchObject({ attempt: 2, automatic: true });
      expect(report.stages[1]!.jobs[0]!.state).toBe('failed');
      expect(ccs.times('executeJob')).toHaveLength(1);
      expect(redrive.starts).toEqual([]);
    });
  });

  it('a cancelled pipeline does not start one, though a job of it failed', async () => {
    const root = rootId();
    const ccs = faulting();
    const redrive = redriveActivities(null);
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const handle = await start(taskQueue, root, {
        name: 'nightly',
        redrive: { after: '30m', max: 2 },
        stages: [
          { name: 'evaluate', continueOnFailure: true, jobs: [{ jobId: JOB, pollInterval: '1m' }] },
          { name: 'report', jobs: [{ jobId: REPORT, pollInterval: '1m' }] },
        ],
      });
      // The first job faults at 5 min; the second (the scripted run executed again) runs 5 min more.
      await rig.env.sleep(8 * MINUTE);
      const running = await handle.query(pipelineStatusQuery);
      expect(running.stages.map((s) => s.jobs[0]!.state)).toEqual(['failed', 'running']);
      await handle.signal(cancelSignal, { reason: 'operator' });
      const report = await handle.result();
      expect(report.status).toBe('Cancelled');
      expect(report.stages[0]!.jobs[0]!.state).toBe('failed');
      expect(redrive.starts).toEqual([]);
    });
  });
});

describe('runCcsPipeline redrive stale-data gate', () => {
  it('a re-run stage checks its window again at redrive time: the carried collection went stale, CcsStaleData, in the report', async () => {
    const root = rootId();
    const gated: PipelineDefinition = {
      name: 'nightly',
      redrive: { after: '30m', max: 3 },
      stages: [
        { name: 'collect', jobs: [COLLECT] },
        { name: 'evaluate', requireFresh: { fromStage: 'collect', within: '24h' }, jobs: [{ jobId: JOB, pollInterval: '1m' }] },
      ],
    };
    const ended = { at: '' };
    // The collection's last good run ended 25 h before the redrive's gate looked.
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }], {
      known: (at, jobId) => {
        if (jobId !== COLLECT) return [];
        ended.at = new Date(at - 25 * HOUR).toISOString();
        return [
          jobRun('Completed', {
            jobId: COLLECT,
            jobRunId: 'collect-run',
            statusCode: 4,
            startTime: new Date(at - 26 * HOUR).toISOString(),
            endTime: ended.at,
          }),
        ];
      },
    });
    const redrive = redriveActivities(sourceOf(root, 0, gated));
    await withWorker(rig, { ...ccs.activities, ...redrive.activities }, async (taskQueue) => {
      const f = await failureOf(
        start(taskQueue, `${root}/redrive-1`, { redriveOf: { workflowId: root, runId: 'run-0' } }).then((h) => h.result()),
      );
      expect(f.type).toBe(ErrorType.StaleData);
      const report = f.details?.[0] as PipelineReport;
      const [check] = report.stages[1]!.freshness!;
      expect(report.stages[1]!.freshness).toHaveLength(1);
      expect(check).toMatchObject({
        jobId: COLLECT,
        ccs: 'default',
        within: '1d',
        jobRunId: 'collect-run',
        endTime: ended.at,
        fresh: false,
      });
      // Checked at redrive time: the gate's read and its check are the same moment of workflow time, give or take the read.
      const age = Date.parse(check!.checkedAt) - Date.parse(ended.at);
      expect(age).toBeGreaterThanOrEqual(25 * HOUR);
      expect(age).toBeLessThan(25 * HOUR + 5_000);
      expect(report.stages[1]!.jobs[0]).toMatchObject({ state: 'skipped', error: { type: ErrorType.StaleData } });
      expect(ccs.times('executeJob')).toEqual([]);
      // A stale gate is not a failure a redrive can fix by waiting: none is started.
      expect(redrive.starts).toEqual([]);
    });
  });

  it('a first attempt records its gate check too (fresh), in the stage report', async () => {
    const root = rootId();
    const ccs = scriptedCcs(
      [
        { afterMs: 0, status: 'Executing' },
        { afterMs: 5 * MINUTE, status: 'Completed', statusCode: 4 },
      ],
      {
        known: (at, jobId) =>
          jobId === COLLECT
            ? [jobRun('Completed', { jobId: COLLECT, jobRunId: 'collect-run', statusCode: 4, endTime: new Date(at - HOUR).toISOString() })]
            : [],
      },
    );
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const report = await (
        await start(taskQueue, root, {
          name: 'gated',
          stages: [{ name: 'scan', requireFresh: { job: COLLECT, within: '24h' }, jobs: [{ jobId: JOB, pollInterval: '1m' }] }],
        })
      ).result();
      expect(report.status).toBe('Completed');
      expect(report.stages[0]!.freshness).toEqual([
        expect.objectContaining({ jobId: COLLECT, ccs: 'default', within: '1d', jobRunId: 'collect-run', fresh: true }),
      ]);
    });
  });
});
