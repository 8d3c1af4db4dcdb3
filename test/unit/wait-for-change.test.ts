/**
 * A held wait in a mock activity context (no server): below the hold threshold it polls inside one
 * attempt with the SDK's cancellation-aware sleep, heartbeating its progress; a cancellation ends
 * the sleep at once (the workflow's as the SDK's CancelledFailure, a worker stop as the benign
 * CcsWorkerStopping); at the threshold it goes back to retry-as-poll. Also the one builder of a
 * wait's input. The CCS client is a scripted stand-in.
 */
import type { Info } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  createActivities,
  waitForChangeInput,
  type WaitForJobRunChangeInput,
  type WaitForJobRunChangeResult,
  type WatchProgress,
} from '../../src/activities';
import type { CcsClient } from '../../src/ccs/client';
import { ErrorType } from '../../src/domain/errors';
import type { JobRun } from '../../src/domain/job-run';
import { fakeRun } from '../fake-run';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const RUN = '11111111-2222-3333-4444-555555555555';

function run(status: string): JobRun {
  return fakeRun(JOB, RUN, status);
}

/** A client whose getJobRun answers the next of `statuses` (the last one from then on), counting reads. */
function reading(statuses: string[]): { client: CcsClient; reads: { showMessages?: boolean }[] } {
  const reads: { showMessages?: boolean }[] = [];
  const client = {
    getJobRun: (_job: string, _run: string, options: { showMessages?: boolean } = {}) => {
      reads.push(options);
      return Promise.resolve(run(statuses[Math.min(reads.length - 1, statuses.length - 1)]!));
    },
  } as unknown as CcsClient;
  return { client, reads };
}

function mockContext(info: Partial<Info> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(
    { heartbeatTimeoutMs: 600, startToCloseTimeoutMs: 60_000, ...info },
    { logger: new DefaultLogger('ERROR') },
  );
}

const WATCH = { jobId: JOB, pollIntervalMs: 50, maxPollIntervalMs: 100, attention: null };
const wait = (client: CcsClient, holdBelowMs: number) => (input: WaitForJobRunChangeInput) =>
  createActivities({ client, polling: { jitter: 0, holdBelowMs } }).waitForJobRunChange(input);

describe('a held wait', () => {
  it('polls inside one attempt, heartbeating each unchanged read, and returns the change', async () => {
    const { client, reads } = reading(['Executing', 'Executing', 'Completed']);
    const env = mockContext();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const input = waitForChangeInput(WATCH, run('Executing'), { delayFirstPoll: true });
    const answer: unknown = await env.run(wait(client, 60_000), input);
    const result = answer as WaitForJobRunChangeResult;
    expect(result).toMatchObject({ run: { status: 'Completed' }, polls: 3, attention: null });
    // Three status reads, and the ended run read once more with its messages.
    expect(reads.map((r) => r.showMessages === true)).toEqual([false, false, false, true]);
    expect(beats).toContainEqual({ polls: 1, attempt: 1, status: 'Executing' } satisfies WatchProgress);
    expect(beats).toContainEqual({ polls: 2, attempt: 1, status: 'Executing' } satisfies WatchProgress);
  });

  it('heartbeats its progress while it sleeps between reads (how a cancellation reaches it at all)', async () => {
    const { client } = reading(['Executing', 'Completed']);
    const env = mockContext();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(
      wait(client, 60_000),
      waitForChangeInput({ ...WATCH, pollIntervalMs: 1_000, maxPollIntervalMs: 1_000 }, run('Executing')),
    );
    // One beat right after the first read, and every 200 ms (a third of the heartbeat timeout) of the 1 s sleep.
    expect(
      beats.filter((d) => JSON.stringify(d) === JSON.stringify({ polls: 1, attempt: 1, status: 'Executing' })).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it("a cancellation by the workflow ends its sleep at once with the SDK's CancelledFailure", async () => {
    const { client, reads } = reading(['Executing']);
    const env = mockContext();
    // The wait heartbeats right after its first unchanged read, then sleeps 30 s before the next.
    env.on('heartbeat', () => env.cancel());
    const started = performance.now();
    const err = await env
      .run(wait(client, 120_000), waitForChangeInput({ ...WATCH, pollIntervalMs: 30_000, maxPollIntervalMs: 30_000 }, run('Executing')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(reads).toHaveLength(1);
  });

  it('a worker that stops hands the wait on: the benign CcsWorkerStopping, due in a second', async () => {
    const { client } = reading(['Executing']);
    const env = mockContext();
    env.on('heartbeat', () => env.cancel('WORKER_SHUTDOWN'));
    const err = await env
      .run(wait(client, 120_000), waitForChangeInput({ ...WATCH, pollIntervalMs: 30_000, maxPollIntervalMs: 30_000 }, run('Executing')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ErrorType.WorkerStopping, nextRetryDelay: 1_000, nonRetryable: false });
  });

  it('goes back to retry-as-poll once the interval reaches the hold threshold', async () => {
    const { client, reads } = reading(['Executing']);
    // 50 ms, then 63 ms: the second wait is at the 60 ms threshold, so the attempt ends with the delay.
    const err = await mockContext()
      .run(wait(client, 60), waitForChangeInput(WATCH, run('Executing')))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ type: ErrorType.RunUnchanged, nextRetryDelay: 63 });
    expect(reads).toHaveLength(2);
  });
});

describe('waitForChangeInput', () => {
  it("is the run's watch with the last run seen and this wait's options; an option left undefined keeps the watch's value", () => {
    const watch = {
      ...WATCH,
      ccs: 'emea',
      attention: ErrorType.Forbidden,
      unknownStatus: { since: '2026-01-01T00:00:00.000Z', afterMs: 1_000 },
    };
    const seen = { ...run('Custom'), customStatusText: 'step 2' };
    expect(
      waitForChangeInput(watch, seen, { live: { known: 3, every: 5, pollsBefore: 7 }, pollIntervalMs: undefined, maxPollIntervalMs: 10 }),
    ).toEqual({
      jobId: JOB,
      ccs: 'emea',
      jobRunId: RUN,
      lastStatus: 'Custom',
      lastCustomStatusText: 'step 2',
      pollIntervalMs: 50,
      maxPollIntervalMs: 10,
      attention: ErrorType.Forbidden,
      unknownStatus: { since: '2026-01-01T00:00:00.000Z', afterMs: 1_000 },
      live: { known: 3, every: 5, pollsBefore: 7 },
    });
  });
});
