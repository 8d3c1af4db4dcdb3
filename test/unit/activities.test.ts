/**
 * The activities in a mock activity context (no server): retry-as-poll's benign failure and delays,
 * adoption on a retried execute, "already running" told apart by looking, the unknown-server refusal.
 * The CCS client is a scripted stand-in: what is tested here is what the activities do with its answers.
 */
import type { Info } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_END_MARGIN_MS,
  EXECUTE_SEND_MARGIN_MS,
  createActivities,
  jittered,
  pollDelayMs,
  type CcsActivities,
  type WaitForJobRunChangeResult,
} from '../../src/activities';
import type { CcsClient } from '../../src/ccs/client';
import { CcsError, ErrorType } from '../../src/domain/errors';
import type { JobRun } from '../../src/domain/job-run';
import { fakeRun } from '../fake-run';
import { createEvidenceActivities } from '../../src/activities/evidence';
import { jobEvidence, type EvidenceContent } from '../../src/domain/evidence';
import { canonicalJson, sha256 } from '../../src/evidence/chain';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const RUN = '11111111-2222-3333-4444-555555555555';
const OTHER_RUN = '66666666-7777-8888-9999-000000000000';
/** Polls at exactly the computed delays (no jitter), held never: the retry-as-poll arithmetic. */
const EXACT = { jitter: 0, holdBelowMs: 0 };

function run(status: string, jobRunId = RUN): JobRun {
  return fakeRun(JOB, jobRunId, status);
}

/** A CCS client whose answers the test scripts; counts what was asked. */
function scripted(answers: Partial<Record<'getJobRun' | 'getJobRuns' | 'executeJob' | 'abortJobRun', (...args: unknown[]) => unknown>>) {
  const calls: string[] = [];
  const client = new Proxy({} as CcsClient, {
    get:
      (_target, name: string) =>
      (...args: unknown[]) => {
        calls.push(name);
        const answer = answers[name as keyof typeof answers];
        return answer ? Promise.resolve(answer(...args)) : Promise.reject(new Error(`unexpected call ${name}`));
      },
  });
  return { client, calls };
}

/** An activity context with the given attempt number (and other info), logging nothing below ERROR (failures are the point here). */
function mockContext(info: Partial<Info> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const WAIT = {
  jobId: JOB,
  jobRunId: RUN,
  lastStatus: 'Executing',
  lastCustomStatusText: null,
  pollIntervalMs: 2_000,
  maxPollIntervalMs: 5_000,
  attention: null,
};

describe('waitForJobRunChange (retry-as-poll)', () => {
  it('grows the poll delay from the interval toward the maximum', () => {
    expect([1, 2, 3, 4, 5, 9].map((a) => pollDelayMs(a, 2_000, 5_000))).toEqual([2_000, 2_500, 3_125, 3_906, 4_883, 5_000]);
  });

  it('defers the first read by one interval without asking CCS', async () => {
    const { client, calls } = scripted({});
    const f = await failure(
      mockContext({ attempt: 1 }).run(
        (input: Parameters<CcsActivities['waitForJobRunChange']>[0]) =>
          createActivities({ client, polling: EXACT }).waitForJobRunChange(input),
        { ...WAIT, delayFirstPoll: true },
      ),
    );
    expect(f.type).toBe(ErrorType.RunUnchanged);
    expect(f.nextRetryDelay).toBe(2_000);
    expect(calls).toEqual([]);
  });

  it('answers an unchanged run with the benign retry and the next delay', async () => {
    const { client, calls } = scripted({ getJobRun: () => run('Executing') });
    const f = await failure(
      mockContext({ attempt: 3 }).run(
        (input: Parameters<CcsActivities['waitForJobRunChange']>[0]) =>
          createActivities({ client, polling: EXACT }).waitForJobRunChange(input),
        WAIT,
      ),
    );
    expect(f.type).toBe(ErrorType.RunUnchanged);
    expect(f.nextRetryDelay).toBe(3_125);
    expect(calls).toEqual(['getJobRun']);
  });

  it('returns a change with the polls it took; an ended run is read again with its messages', async () => {
    const polls: unknown[] = [];
    const { client, calls } = scripted({
      getJobRun: (_job, _run, options) => {
        polls.push(options);
        return {
          ...run('Completed'),
          ...((options as { showMessages?: boolean }).showMessages ? { messages: [{ time: null, text: 'done' }] } : {}),
        };
      },
    });
    const wait = (input: Parameters<CcsActivities['waitForJobRunChange']>[0]): Promise<unknown> =>
      createActivities({ client, polling: EXACT }).waitForJobRunChange(input);
    const answer: unknown = await mockContext({ attempt: 4 }).run(wait, { ...WAIT, delayFirstPoll: true });
    const result = answer as WaitForJobRunChangeResult;
    expect(result.polls).toBe(3);
    expect(result.run.messages).toEqual([{ time: null, text: 'done' }]);
    expect(calls).toEqual(['getJobRun', 'getJobRun']);
  });

  it('turns a client error into its typed failure, paced by the poll delay', async () => {
    const { client } = scripted({ getJobRun: () => Promise.reject(new CcsError(ErrorType.ServerError, 'GET /Jobs failed (500)')) });
    const f = await failure(
      mockContext({ attempt: 2 }).run(
        (input: Parameters<CcsActivities['waitForJobRunChange']>[0]) =>
          createActivities({ client, polling: EXACT }).waitForJobRunChange(input),
        WAIT,
      ),
    );
    expect(f.type).toBe(ErrorType.ServerError);
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(2_500);
  });
});

describe('executeJob', () => {
  it('on a retry, adopts the run an earlier attempt started instead of executing again', async () => {
    const { client, calls } = scripted({ getJobRuns: () => [run('Executing', OTHER_RUN), run('Completed')] });
    const result = await mockContext({ attempt: 2 }).run(
      (input: Parameters<CcsActivities['executeJob']>[0]) => createActivities({ client }).executeJob(input),
      { jobId: JOB, knownRunIds: [RUN] },
    );
    expect(result).toEqual({ run: run('Executing', OTHER_RUN), adopted: true });
    expect(calls).toEqual(['getJobRuns']);
  });

  it('tells "already running" apart from other 400s by looking at the latest run', async () => {
    const refused = (): Promise<never> =>
      Promise.reject(new CcsError(ErrorType.BadRequest, 'POST /jobs was rejected (400)', { status: 400 }));
    const running = scripted({ executeJob: refused, getJobRuns: () => [run('Executing', OTHER_RUN)] });
    const f = await failure(
      mockContext().run(
        (input: Parameters<CcsActivities['executeJob']>[0]) => createActivities({ client: running.client }).executeJob(input),
        { jobId: JOB, knownRunIds: [] },
      ),
    );
    expect(f.type).toBe(ErrorType.JobAlreadyRunning);
    expect(f.message).toContain(OTHER_RUN);
    const idle = scripted({ executeJob: refused, getJobRuns: () => [run('Completed')] });
    expect(
      (
        await failure(
          mockContext().run(
            (input: Parameters<CcsActivities['executeJob']>[0]) => createActivities({ client: idle.client }).executeJob(input),
            { jobId: JOB, knownRunIds: [] },
          ),
        )
      ).type,
    ).toBe(ErrorType.BadRequest);
  });
});

describe('executeJob when the listing lags new runs', () => {
  const refused = (): Promise<never> =>
    Promise.reject(new CcsError(ErrorType.BadRequest, 'POST /jobs was rejected (400)', { status: 400 }));
  const execute = (env: MockActivityEnvironment, input: Parameters<CcsActivities['executeJob']>[0], client: CcsClient): Promise<unknown> =>
    env.run((i: typeof input) => createActivities({ client }).executeJob(i), input);
  /** A second attempt after one whose execute may have reached CCS (its heartbeat said so), with a minute to run. */
  const retried = (): MockActivityEnvironment =>
    mockContext({ attempt: 2, heartbeatDetails: { executeSent: true }, startToCloseTimeoutMs: 60_000 });

  it('a retried execute refused as already running keeps looking and adopts the run the earlier attempt started once it is listed', async () => {
    let looks = 0;
    // The run the first attempt started is listed from the third look on (the pre-look and one more miss it).
    const { client, calls } = scripted({
      executeJob: refused,
      getJobRuns: () => (++looks >= 3 ? [run('Executing', OTHER_RUN), run('Completed')] : [run('Completed')]),
    });
    const result = await execute(retried(), { jobId: JOB, knownRunIds: [RUN] }, client);
    expect(result).toEqual({ run: run('Executing', OTHER_RUN), adopted: true });
    expect(calls).toEqual(['getJobRuns', 'executeJob', 'getJobRuns', 'getJobRuns']);
  });

  it('keeps looking for a bounded time, then fails with the 400 naming the look', async () => {
    const { client, calls } = scripted({ executeJob: refused, getJobRuns: () => [run('Completed')] });
    // Three seconds left to look before the attempt's own deadline: looks at 0, 1 and 2.5 s.
    const env = mockContext({ attempt: 2, heartbeatDetails: { executeSent: true }, startToCloseTimeoutMs: ATTEMPT_END_MARGIN_MS + 3_000 });
    const f = await failure(execute(env, { jobId: JOB, knownRunIds: [RUN] }, client));
    expect(f.type).toBe(ErrorType.BadRequest);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('no new run of the job was listed');
    expect(calls.filter((c) => c === 'getJobRuns').length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the attempt retryable when its last look was not answered: only answered looks may end in "no run"', async () => {
    let looks = 0;
    const { client } = scripted({
      executeJob: refused,
      getJobRuns: () =>
        ++looks === 1
          ? [run('Completed')]
          : Promise.reject(
              new CcsError(ErrorType.RateLimited, 'GET /Jobs not sent: reads are paused (429)', { mayHaveReachedServer: false }),
            ),
    });
    const env = mockContext({ attempt: 2, startToCloseTimeoutMs: ATTEMPT_END_MARGIN_MS + 3_000 });
    const f = await failure(execute(env, { jobId: JOB, knownRunIds: [RUN] }, client));
    expect(f.type).toBe(ErrorType.RateLimited);
    expect(f.nonRetryable).toBe(false);
    expect(looks).toBeGreaterThanOrEqual(3);
  });

  it('a first attempt refused while a run goes raises CcsJobAlreadyRunning at once, whether the run is in the snapshot or not', async () => {
    for (const inProgress of [RUN, OTHER_RUN]) {
      const { client, calls } = scripted({ executeJob: refused, getJobRuns: () => [run('Executing', inProgress)] });
      const f = await failure(execute(mockContext({ startToCloseTimeoutMs: 60_000 }), { jobId: JOB, knownRunIds: [RUN] }, client));
      expect(f.type).toBe(ErrorType.JobAlreadyRunning);
      expect(f.message).toContain(inProgress);
      expect(calls).toEqual(['executeJob', 'getJobRuns']);
    }
  });

  it('a retry looks first even when the last heartbeat it can read said no execute was sent (a later one may have been lost)', async () => {
    const { client, calls } = scripted({ executeJob: refused, getJobRuns: () => [run('Executing', OTHER_RUN), run('Completed')] });
    const env = mockContext({ attempt: 2, heartbeatDetails: { executeSent: false }, startToCloseTimeoutMs: 60_000 });
    expect(await execute(env, { jobId: JOB, knownRunIds: [RUN] }, client)).toEqual({ run: run('Executing', OTHER_RUN), adopted: true });
    expect(calls).toEqual(['getJobRuns']);
  });

  it("sends its execute no later than the attempt's heartbeat timeout, less the margin, after the attempt began", async () => {
    const sent: unknown[] = [];
    const { client } = scripted({
      executeJob: (_id, options) => {
        sent.push(options);
        return run('Executing', OTHER_RUN);
      },
    });
    const before = Date.now();
    await execute(mockContext({ heartbeatTimeoutMs: 30_000, startToCloseTimeoutMs: 60_000 }), { jobId: JOB, knownRunIds: [] }, client);
    const { sendBy } = sent[0] as { sendBy: number };
    expect(sendBy).toBeGreaterThanOrEqual(before + 30_000 - EXECUTE_SEND_MARGIN_MS);
    expect(sendBy).toBeLessThanOrEqual(Date.now() + 30_000 - EXECUTE_SEND_MARGIN_MS);
  });

  it('a cancellation while it looks ends the look at once', async () => {
    const env = retried();
    let looks = 0;
    const { client, calls } = scripted({
      executeJob: refused,
      getJobRuns: () => {
        if (++looks === 2) env.cancel();
        return [run('Completed')];
      },
    });
    const err = await execute(env, { jobId: JOB, knownRunIds: [RUN] }, client).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(calls).toEqual(['getJobRuns', 'executeJob', 'getJobRuns']);
  });
});

describe('the CCS server a run names', () => {
  it('is refused before anything is sent when the worker does not know it', async () => {
    const { client, calls } = scripted({});
    const f = await failure(
      mockContext().run(
        (input: Parameters<CcsActivities['listJobRuns']>[0]) => createActivities({ servers: { emea: client } }).listJobRuns(input),
        { jobId: JOB, ccs: 'apac' },
      ),
    );
    expect(f.type).toBe(ErrorType.InvalidInput);
    expect(f.message).toContain('configured: emea');
    expect(calls).toEqual([]);
  });
});

describe('jitter', () => {
  it("moves each wait at most ±10 % by default, evenly, and never below Temporal's 1 s resolution", () => {
    expect(jittered(30_000, 0.1, () => 0)).toBe(27_000);
    expect(jittered(30_000, 0.1, () => 0.999_999)).toBe(33_000);
    expect(jittered(30_000, 0, () => 0)).toBe(30_000);
    expect(jittered(1_000, 0.1, () => 0)).toBe(1_000);
    const samples = Array.from({ length: 10_000 }, () => jittered(10_000, 0.1));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(9_000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(11_000);
    // Spread over the whole band, not bunched: each tenth of it gets about a tenth of the waits.
    for (let k = 0; k < 10; k++) {
      const inBand = samples.filter((v) => v >= 9_000 + k * 200 && v < 9_000 + (k + 1) * 200).length;
      expect(inBand).toBeGreaterThan(700);
      expect(inBand).toBeLessThan(1_300);
    }
  });
});

describe('recordEvidence', () => {
  it('adds the starter identity, the version and the definition digest; keeps no credential-shaped text an operator typed', async () => {
    const appended: EvidenceContent[] = [];
    const sink = {
      append: (c: EvidenceContent) => Promise.resolve({ ...c, seq: 7, prevHash: '0'.repeat(64), hash: 'a'.repeat(64), duplicate: false }),
    };
    const asked: string[] = [];
    const evidence = createEvidenceActivities({
      sink: { append: (c) => (appended.push(c), sink.append(c)) },
      workerVersion: '1.2.3',
      starterOf: (workflowId, runId) => (asked.push(`${workflowId}/${runId}`), Promise.resolve('ccs-jobs:alice@host-1')),
    });
    const draft = jobEvidence({
      workflowId: 'ccs-job-x',
      runId: 'r1',
      startedBy: { requestedBy: 'alice' },
      ccs: 'default',
      jobId: JOB,
      result: undefined,
      error: { type: 'CcsCancelled', message: 'cancelled: rotate password=hunter2 first' },
      cancel: { by: 'signal', reason: 'Authorization: Bearer abc.def.ghi was pasted here', at: '2026-11-29T00:00:00.000Z' },
      deadlineAt: null,
    });
    const env = mockContext({ workflowExecution: { workflowId: 'ccs-job-x', runId: 'r1' } });
    expect(await env.run(() => evidence.recordEvidence({ ...draft, pipelineDefinition: { name: 'n', stages: [] } }))).toEqual({
      seq: 7,
      hash: 'a'.repeat(64),
      duplicate: false,
    });
    expect(asked).toEqual(['ccs-job-x/r1']);
    const [record] = appended;
    expect(record).toMatchObject({
      startedBy: { requestedBy: 'alice', identity: 'ccs-jobs:alice@host-1' },
      workerVersion: '1.2.3',
      status: 'NotStarted',
    });
    expect(record?.pipelineDigest).toBe(sha256(canonicalJson({ name: 'n', stages: [] })));
    expect(JSON.stringify(record)).not.toMatch(/hunter2|abc\.def\.ghi/);
    expect(record?.error?.message).toBe('cancelled: rotate password=[redacted] first');
    expect(record?.cancel?.reason).toBe('Authorization: [redacted]');
    expect(record).not.toHaveProperty('pipelineDefinition');
  });

  it('a starter Temporal no longer knows leaves the identity out, and the record is still written', async () => {
    const appended: EvidenceContent[] = [];
    const evidence = createEvidenceActivities({
      sink: {
        append: (c) => (
          appended.push(c),
          Promise.resolve({ ...c, seq: 1, prevHash: '0'.repeat(64), hash: 'b'.repeat(64), duplicate: false })
        ),
      },
      workerVersion: '1.2.3',
      starterOf: () => Promise.resolve(undefined),
    });
    const draft = jobEvidence({
      workflowId: 'w',
      runId: 'r',
      startedBy: {},
      ccs: 'default',
      jobId: JOB,
      result: undefined,
      error: null,
      cancel: undefined,
      deadlineAt: null,
    });
    await mockContext({ workflowExecution: { workflowId: 'w', runId: 'r' } }).run(() => evidence.recordEvidence(draft));
    expect(appended[0]?.startedBy).toEqual({});
  });
});
