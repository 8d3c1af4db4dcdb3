import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery, type RunCcsJobInput, type RunCcsJobResult } from '../src/contract';
import type { Simulator } from '../src/sim/server';
import type { runCcsJob } from '../src/workflows';
import { addJob, eventually, startSim, startWorker, type TestWorker } from './helpers';

let sim: Simulator;
let w: TestWorker;

beforeAll(async () => {
  sim = await startSim();
  w = await startWorker(sim);
});
afterAll(async () => {
  await w?.stop();
  await sim?.close();
});

function start(input: RunCcsJobInput) {
  return w.client.workflow.start<typeof runCcsJob>('runCcsJob', { taskQueue: w.taskQueue, workflowId: `t-${randomUUID()}`, args: [input] });
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => {
      throw new Error('expected the workflow to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

describe('runCcsJob outcomes', () => {
  it('completes with the run result when CCS reports Completed', async () => {
    const jobId = addJob(sim, [['Pending', 0.3], ['Executing', 0.6], ['Completed', 0]], { summary: 'Collected 3 of 3 assets' });
    const handle = await start({ jobId, pollInterval: '200ms', maxPollInterval: '200ms' });
    const result: RunCcsJobResult = await handle.result();
    expect(result).toMatchObject({ jobId, status: 'Completed', statusCode: 4, summary: 'Collected 3 of 3 assets', exception: null, adopted: false, messages: [] });
    expect(result.endTime).not.toBeNull();
    expect(result.polls).toBeGreaterThanOrEqual(2);
    const runs = sim.state.runsOf(jobId);
    expect(runs).toHaveLength(1);
    expect(result.jobRunId).toBe(runs[0]?.JobRunID);
  });

  it('fails CcsJobFaulted with the result and messages as details', async () => {
    const jobId = addJob(sim, [['Executing', 0.3], ['Faulted', 0]], { exception: 'Collection failed on 2 assets', messages: [{ Message: 'host lnx-07 unreachable' }] });
    const handle = await start({ jobId, pollInterval: '200ms' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobFaulted');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('Collection failed on 2 assets');
    const details = failure.details?.[0] as RunCcsJobResult;
    expect(details).toMatchObject({ status: 'Faulted', statusCode: 5, exception: 'Collection failed on 2 assets' });
    expect(details.messages.map((m) => m.text)).toEqual(['host lnx-07 unreachable']);
  });

  it('cancel signal aborts the CCS run once and completes with status Aborted', async () => {
    const jobId = addJob(sim, [['Executing', 600]]);
    const handle = await start({ jobId, pollInterval: '200ms' });
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 10_000, 'running');
    await handle.signal(cancelSignal, { reason: 'scan called off' });
    const result = await handle.result();
    expect(result.status).toBe('Aborted');
    expect(result.cancelled).toMatchObject({ by: 'signal', reason: 'scan called off' });
    const [run] = sim.state.runsOf(jobId);
    expect(run?.abortRequests).toBe(1);
  });
});
