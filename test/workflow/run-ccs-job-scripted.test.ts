/**
 * `runCcsJob`'s orchestration against scripted activities on the real dev server: which activity
 * is called when, with what, and what the workflow makes of the answers, with no CCS at all.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { CcsActivities } from '../../src/activities';
import { cancelSignal, statusQuery, type RunCcsJobInput } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { JobRun } from '../../src/domain/job-run';
import { createWorker } from '../../src/hosting/create-worker';
import type { runCcsJob } from '../../src/workflows';
import { eventually, failureOf, quietRuntime } from '../helpers';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const RUN = '11111111-2222-3333-4444-555555555555';

function run(status: string, extra: Partial<JobRun> = {}): JobRun {
  return { jobId: JOB, jobRunId: RUN, status, statusCode: null, startTime: null, endTime: null, customStatusText: null, exception: null, summary: null, activities: [], ...extra };
}

/** Scripted activities: each call is recorded; `changes` are what successive waits report. */
function script(known: JobRun[], changes: JobRun[], waitForever = false) {
  const calls: string[] = [];
  let aborted = false;
  const activities: Partial<CcsActivities> = {
    listJobRuns: () => (calls.push('listJobRuns'), Promise.resolve(known)),
    executeJob: () => (calls.push('executeJob'), Promise.resolve({ run: run('Pending'), adopted: false })),
    waitForJobRunChange: async () => {
      calls.push('waitForJobRunChange');
      if (aborted) return { run: run('Aborted', { messages: [] }), polls: 1, observedAt: new Date().toISOString() };
      const next = changes.shift();
      if (!next || waitForever) {
        // A run that never changes: heartbeat until the workflow (or the worker's shutdown) cancels the wait.
        for (;;) {
          Context.current().heartbeat();
          await Context.current().sleep(200);
        }
      }
      return { run: next, polls: 2, observedAt: new Date().toISOString() };
    },
    abortJobRun: () => {
      calls.push('abortJobRun');
      aborted = true;
      return Promise.resolve({ accepted: true });
    },
  };
  return { activities, calls };
}

let native: NativeConnection;
let connection: Connection;
let client: Client;
const workers: { worker: Worker; running: Promise<void> }[] = [];

beforeAll(async () => {
  quietRuntime();
  native = await NativeConnection.connect({ address: inject('temporalAddress') });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});
afterAll(async () => {
  for (const w of workers) {
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await w.running;
  }
  await connection?.close();
  await native?.close();
});

/** A worker with these activities on its own task queue; starts `runCcsJob` there. */
async function start(activities: Partial<CcsActivities>, input: Partial<RunCcsJobInput> = {}) {
  const taskQueue = `scripted-${randomUUID()}`;
  const worker = await createWorker({ connection: native, taskQueue, servers: {}, activities, workflowBundlePath: inject('workflowBundlePath'), failWorkflowOnBug: true });
  workers.push({ worker, running: worker.run() });
  return client.workflow.start<typeof runCcsJob>('runCcsJob', { taskQueue, workflowId: `scripted-${randomUUID()}`, args: [{ jobId: JOB, pollInterval: '1s', ...input }] });
}

describe('runCcsJob with scripted activities', () => {
  it('lists, executes, then waits for each change until the run ends; no extra read when the end came with messages', async () => {
    const { activities, calls } = script([], [run('Executing'), run('Completed', { messages: [{ time: null, text: 'ok' }] })]);
    const result = await (await start(activities)).result();
    expect(result).toMatchObject({ status: 'Completed', jobRunId: RUN, polls: 4, adopted: false, messages: [{ time: null, text: 'ok' }] });
    expect(calls).toEqual(['listJobRuns', 'executeJob', 'waitForJobRunChange', 'waitForJobRunChange']);
  });

  it('follows a run in progress with ifRunning attach, and never executes', async () => {
    const { activities, calls } = script([run('Executing')], [run('Faulted', { exception: 'boom', messages: [] })]);
    const f = await failureOf((await start(activities, { ifRunning: 'attach' })).result());
    expect(f.type).toBe(ErrorType.JobFaulted);
    expect(calls).toEqual(['listJobRuns', 'waitForJobRunChange']);
  });

  it('fails CcsJobAlreadyRunning before executing when a run is in progress and attach was not asked for', async () => {
    const { activities, calls } = script([run('Executing')], []);
    const f = await failureOf((await start(activities)).result());
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe(ErrorType.JobAlreadyRunning);
    expect(calls).toEqual(['listJobRuns']);
  });

  it('on a cancel signal stops waiting, aborts once, confirms, and completes Aborted with the reason', async () => {
    const { activities, calls } = script([], [run('Executing')], true);
    const handle = await start(activities);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    await handle.signal(cancelSignal, { reason: 'scan called off' });
    const result = await handle.result();
    expect(result.status).toBe('Aborted');
    expect(result.cancelled).toMatchObject({ by: 'signal', reason: 'scan called off' });
    expect(calls.filter((c) => c === 'abortJobRun')).toHaveLength(1);
    expect(calls.at(-1)).toBe('waitForJobRunChange');
  });

  it('on a native cancellation aborts the run, then ends cancelled', async () => {
    const { activities, calls } = script([], [run('Executing')], true);
    const handle = await start(activities);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    await handle.cancel();
    const err = await handle.result().then(() => undefined, (e: unknown) => (e as { cause?: unknown }).cause);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(calls.filter((c) => c === 'abortJobRun')).toHaveLength(1);
  });
});
