/**
 * A run whose status stays outside the documented codes 0–7: the wait (in a mock activity context)
 * returns the `CcsUnknownStatus` attention with the run once the status has lasted longer than the
 * workflow allows, stays quiet while it is flagged, and clears it at the first documented status.
 * The input field that sets the time is checked like every other duration.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  createActivities,
  type WaitForJobRunAttention,
  type WaitForJobRunChangeInput,
  type WaitForJobRunChangeResult,
} from '../../src/activities';
import type { CcsClient } from '../../src/ccs/client';
import { CcsError, ErrorType } from '../../src/domain/errors';
import { DEFAULT_UNKNOWN_STATUS_ATTENTION_AFTER_MS, validateRunCcsJobInput } from '../../src/domain/job-workflow';
import { hasUndocumentedStatus, type JobRun } from '../../src/domain/job-run';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const RUN = '11111111-2222-3333-4444-555555555555';
const AFTER_MS = 60_000;

function runWith(status: string, statusCode: number | null): JobRun {
  return {
    jobId: JOB,
    jobRunId: RUN,
    status,
    statusCode,
    startTime: null,
    endTime: null,
    customStatusText: null,
    exception: null,
    summary: null,
    activities: [],
  };
}

/** One wait attempt against a CCS that always answers `seen`, polled per attempt (never held), no jitter. */
async function waitOnce(
  seen: JobRun,
  watch: Pick<WaitForJobRunChangeInput, 'attention' | 'unknownStatus'>,
): Promise<WaitForJobRunChangeResult | ApplicationFailure> {
  const client = { getJobRun: () => Promise.resolve(seen) } as unknown as CcsClient;
  const activities = createActivities({ client, polling: { jitter: 0, holdBelowMs: 0 } });
  const input: WaitForJobRunChangeInput = {
    jobId: JOB,
    jobRunId: RUN,
    lastStatus: '9',
    lastCustomStatusText: null,
    pollIntervalMs: 2_000,
    maxPollIntervalMs: 5_000,
    ...watch,
  };
  const env = new MockActivityEnvironment({ attempt: 3 }, { logger: new DefaultLogger('ERROR') });
  return env
    .run((i: WaitForJobRunChangeInput) => activities.waitForJobRunChange(i), input)
    .then(
      (result) => result as WaitForJobRunChangeResult,
      (err: unknown) => {
        if (err instanceof ApplicationFailure) return err;
        throw err;
      },
    );
}

const since = (agoMs: number): string => new Date(Date.now() - agoMs).toISOString();

describe('a status outside 0–7 for longer than unknownStatusAttentionAfter', () => {
  it('counts as undocumented only while the run goes with a code outside 0–7', () => {
    expect(hasUndocumentedStatus(runWith('9', null))).toBe(true);
    expect(hasUndocumentedStatus(runWith('Paused', null))).toBe(true);
    expect(hasUndocumentedStatus(runWith('Executing', 2))).toBe(false);
    expect(hasUndocumentedStatus({ ...runWith('9', null), endTime: '2026-12-01T00:00:00.000Z' })).toBe(false);
  });

  it('keeps polling quietly while the unknown status is younger than the allowed time', async () => {
    const answer = await waitOnce(runWith('9', null), {
      attention: null,
      unknownStatus: { since: since(AFTER_MS - 10_000), afterMs: AFTER_MS },
    });
    expect(answer).toBeInstanceOf(ApplicationFailure);
    expect((answer as ApplicationFailure).type).toBe(ErrorType.RunUnchanged);
  });

  it('returns the run with the CcsUnknownStatus attention once it has lasted longer', async () => {
    const answer = await waitOnce(runWith('9', null), {
      attention: null,
      unknownStatus: { since: since(AFTER_MS + 5_000), afterMs: AFTER_MS },
    });
    const result = answer as WaitForJobRunChangeResult;
    expect(result.run).toMatchObject({ jobRunId: RUN, status: '9', statusCode: null });
    expect(result.attention).toMatchObject({ type: ErrorType.UnknownStatus });
    expect(result.attention?.message).toMatch(
      /^job run 11111111-2222-3333-4444-555555555555 has reported status "9", outside the documented codes 0–7, for 1m\d+s \(unknownStatusAttentionAfter 1m\); it is still followed/,
    );
  });

  it('is quiet again while the workflow flags it, and clears it at the first documented status', async () => {
    const flagged = { attention: ErrorType.UnknownStatus, unknownStatus: { since: since(AFTER_MS * 3), afterMs: AFTER_MS } };
    const still = await waitOnce(runWith('9', null), flagged);
    expect((still as ApplicationFailure).type).toBe(ErrorType.RunUnchanged);
    const known = (await waitOnce(runWith('Executing', 2), flagged)) as WaitForJobRunChangeResult;
    expect(known.run.status).toBe('Executing');
    expect(known.attention).toBeNull();
  });

  it('a read error while flagged replaces the flag by the error; the next read of the stuck run flags it again', async () => {
    const client = {
      getJobRun: () => Promise.reject(new CcsError(ErrorType.Forbidden, 'GET /Jobs forbidden (403)')),
    } as unknown as CcsClient;
    const env = new MockActivityEnvironment({ attempt: 2 }, { logger: new DefaultLogger('ERROR') });
    const input: WaitForJobRunChangeInput = {
      jobId: JOB,
      jobRunId: RUN,
      lastStatus: '9',
      lastCustomStatusText: null,
      pollIntervalMs: 2_000,
      maxPollIntervalMs: 5_000,
      attention: ErrorType.UnknownStatus,
      unknownStatus: { since: since(AFTER_MS * 2), afterMs: AFTER_MS },
    };
    const refused: unknown = await env.run((i: WaitForJobRunChangeInput) => createActivities({ client }).waitForJobRunChange(i), input);
    expect((refused as WaitForJobRunAttention).attention.type).toBe(ErrorType.Forbidden);
    const again = (await waitOnce(runWith('9', null), {
      attention: ErrorType.Forbidden,
      unknownStatus: { since: since(AFTER_MS * 2), afterMs: AFTER_MS },
    })) as WaitForJobRunChangeResult;
    expect(again.attention).toMatchObject({ type: ErrorType.UnknownStatus });
  });

  it('without the workflow saying since when, an unknown status is just a status', async () => {
    const answer = await waitOnce(runWith('9', null), { attention: null });
    expect((answer as ApplicationFailure).type).toBe(ErrorType.RunUnchanged);
  });
});

describe('unknownStatusAttentionAfter (input)', () => {
  it('defaults to 15 minutes and takes a duration', () => {
    expect(validateRunCcsJobInput({ jobId: JOB }).unknownStatusAttentionAfterMs).toBe(DEFAULT_UNKNOWN_STATUS_ATTENTION_AFTER_MS);
    expect(DEFAULT_UNKNOWN_STATUS_ATTENTION_AFTER_MS).toBe(15 * 60_000);
    expect(validateRunCcsJobInput({ jobId: JOB, unknownStatusAttentionAfter: '2h' }).unknownStatusAttentionAfterMs).toBe(7_200_000);
  });

  it.each([
    [
      'ten minutes',
      /^unknownStatusAttentionAfter must be a duration such as "30s", "5m", "1h30m" or a number of milliseconds; got "ten minutes"$/,
    ],
    [-1, /^unknownStatusAttentionAfter must be a duration such as/],
    [500, /^unknownStatusAttentionAfter must be at least 1000 ms; got 500$/],
    ['400d', /^unknownStatusAttentionAfter must be at most 366d; got "400d"$/],
  ])('refuses %j with one line naming the field and the fix', (value, message) => {
    let thrown: unknown;
    try {
      validateRunCcsJobInput({ jobId: JOB, unknownStatusAttentionAfter: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CcsError);
    expect((thrown as CcsError).type).toBe(ErrorType.InvalidInput);
    expect((thrown as CcsError).message).toMatch(message);
    expect((thrown as CcsError).message).not.toContain('\n');
  });
});
