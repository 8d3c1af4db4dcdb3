/**
 * The client against a hostile CCS (the simulator's hostile faults): every request and every answer
 * is bounded, refused credentials are not retried into a lockout, echoed secrets are scrubbed, and
 * dates that are not dates are refused. No Temporal: the client and activities over real sockets.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { createActivities, type WaitForJobRunChangeResult } from '../../src/activities';
import { toFailure } from '../../src/activities/to-failure';
import type { CcsClient } from '../../src/ccs/client';
import { SecretSet } from '../../src/ccs/scrub';
import { ErrorType, type CcsError } from '../../src/domain/errors';
import type { Simulator } from '../../src/sim/server';
import { addJob, clientFor, SIM_USER, startSim } from '../helpers';

async function errorOf(promise: Promise<unknown>): Promise<CcsError> {
  return promise.then(
    () => {
      throw new Error('expected a CcsError');
    },
    (err: unknown) => err as CcsError,
  );
}

const open: { close: () => Promise<void> }[] = [];
async function rig(
  clientOptions: Parameters<typeof clientFor>[1] = {},
  simOptions: Parameters<typeof startSim>[0] = {},
): Promise<{ sim: Simulator; client: CcsClient }> {
  const sim = await startSim(simOptions);
  const client = clientFor(sim, clientOptions);
  open.push(client, sim);
  return { sim, client };
}
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tokenRequests = (sim: Simulator): number => Object.values(sim.stats().token ?? {}).reduce((a, b) => a + b, 0);

describe('every request has a total deadline', () => {
  it('a token answer dripped one byte at a time fails at the deadline and releases the single flight', async () => {
    const { sim, client } = await rig({ requestTimeoutMs: 1_500 });
    const jobId = addJob(sim, [['Executing', 60]]);
    sim.setFaults({ dripBytesPerSecond: 1, endpoints: ['token'] });
    const started = Date.now();
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err.type).toBe(ErrorType.NetworkError);
    expect(err.message).toContain('no complete answer within 1500 ms');
    expect(Date.now() - started).toBeLessThan(4_000);
    sim.setFaults({});
    // The next call is not stuck behind the failed grant: it asks for a token again and succeeds.
    expect(await client.getJobRuns(jobId)).toEqual([]);
    expect(tokenRequests(sim)).toBe(2);
  });

  it('a dripped jobruns answer fails at the deadline too (undici’s body timeout restarts per chunk)', async () => {
    const { sim, client } = await rig({ requestTimeoutMs: 1_500, bodyTimeoutMs: 1_000 });
    const jobId = addJob(sim, [['Executing', 60]]);
    await client.getJobRuns(jobId);
    sim.setFaults({ dripBytesPerSecond: 20, endpoints: ['jobruns'], oversizeBytes: 2_000 });
    expect((await errorOf(client.getJobRuns(jobId))).type).toBe(ErrorType.NetworkError);
  });
});

describe('every answer is read with a byte limit', () => {
  it('refuses an answer over the limit with CcsResponseTooLarge, not retryable, without reading it', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [['Executing', 60]]);
    sim.setFaults({ oversizeBytes: 9 * 1024 * 1024, endpoints: ['jobruns'] });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: ErrorType.ResponseTooLarge, retryable: false });
    expect(err.message).toContain('over the limit of 8388608 bytes');
  });

  it('honours a configured limit, also when the answer declares no length', async () => {
    const { sim, client } = await rig({ maxResponseBytes: 100_000 });
    const jobId = addJob(sim, [['Executing', 60]]);
    sim.setFaults({ oversizeBytes: 200_000, dripBytesPerSecond: 10_000_000, endpoints: ['jobruns'] });
    expect((await errorOf(client.getJobRuns(jobId))).type).toBe(ErrorType.ResponseTooLarge);
  });
});

describe('activity results stay far below the payload limit', () => {
  it('a 3 MB ActivityStatusList becomes a result under 256 KB that says what was dropped', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(
      sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { messages: Array.from({ length: 500 }, (_, i) => ({ Message: `message ${i} ${'m'.repeat(3000)}` })) },
    );
    const [started] = [await client.executeJob(jobId)];
    await eventuallyEnded(client, jobId);
    sim.setFaults({ activityStatusBytes: 3 * 1024 * 1024 });
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
    const wait = (input: Parameters<ReturnType<typeof createActivities>['waitForJobRunChange']>[0]): Promise<unknown> =>
      createActivities({ client, polling: { jitter: 0, holdBelowMs: 0 } }).waitForJobRunChange(input);
    const answer: unknown = await env.run(wait, {
      jobId,
      jobRunId: started.jobRunId,
      lastStatus: 'Executing',
      lastCustomStatusText: null,
      pollIntervalMs: 1000,
      maxPollIntervalMs: 1000,
      attention: null,
    });
    const result = answer as WaitForJobRunChangeResult;
    const size = Buffer.byteLength(JSON.stringify(result));
    expect(result.run.status).toBe('Completed');
    expect(size).toBeLessThan(256 * 1024);
    expect(result.run.omitted).toMatchObject({ activities: expect.any(Number) as number, messages: 400 });
    expect(result.run.omitted!.activities).toBeGreaterThan(3000);
    expect(result.run.omitted!.truncated).toContain('messages[0].text');
    expect(result.run.activities).toHaveLength(20);
  });
});

describe('Retry-After', () => {
  it('is honoured up to a cap (default 5 min), so a day-long Retry-After cannot park a run', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [['Completed', 0]]);
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 86_400, endpoints: ['jobruns'], limit: 1 });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: ErrorType.RateLimited, retryAfterMs: 300_000 });
    expect(toFailure(err, { nextRetryDelay: 1000 })).toMatchObject({ nextRetryDelay: 300_000 });
  });

  it('is capped by the configured maximum', async () => {
    const { sim, client } = await rig({ maxRetryAfterMs: 2_000 });
    const jobId = addJob(sim, [['Completed', 0]]);
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 86_400, endpoints: ['jobruns'], limit: 1 });
    expect((await errorOf(client.getJobRuns(jobId))).retryAfterMs).toBe(2_000);
  });
});

describe('refused credentials are cached negatively', () => {
  it('one password grant per back-off window, growing; a changed password is tried at once', async () => {
    let password = 'wrong-password';
    const { sim, client } = await rig({ password: () => password, refusalBackoffMs: 600 });
    const jobId = addJob(sim, [['Executing', 60]]);
    for (let i = 0; i < 5; i++) expect((await errorOf(client.getJobRuns(jobId))).type).toBe(ErrorType.AuthenticationFailed);
    expect(sim.stats().token).toEqual({ '400': 1 });
    const held = await errorOf(client.getJobRuns(jobId));
    expect(held.message).toContain('account lockout protection');
    expect(held.message).not.toContain('wrong-password');
    await new Promise((r) => setTimeout(r, 700));
    await errorOf(client.getJobRuns(jobId)); // the window passed: one more grant, refused, window doubles
    await new Promise((r) => setTimeout(r, 700));
    await errorOf(client.getJobRuns(jobId)); // 700 ms < 1200 ms: still held back
    expect(sim.stats().token).toEqual({ '400': 2 });
    expect(client.tokenStats.grantsHeldBack).toBe(6);
    password = SIM_USER.password; // the password file was rewritten
    expect(await client.getJobRuns(jobId)).toEqual([]);
    expect(sim.stats().token).toEqual({ '400': 2, '200': 1 });
  });
});

describe('echoed secrets', () => {
  it('a 403 that quotes the Authorization header, and a refused grant that quotes the form body, leave no secret in the error', async () => {
    const { sim, client } = await rig({}, { users: { [SIM_USER.username]: { password: SIM_USER.password, role: 'viewer' } } });
    const jobId = addJob(sim, [['Executing', 60]]);
    sim.setFaults({ echoRequest: true });
    const forbidden = await errorOf(client.executeJob(jobId));
    expect(forbidden.type).toBe(ErrorType.Forbidden);
    expect(forbidden.message).toContain('Authorization: [redacted]');
    for (const token of sim.issuedTokens()) expect(forbidden.message).not.toContain(token);
    const wrong = clientFor(sim, { password: 'p@ss=word&secret%' });
    open.push(wrong);
    const refused = await errorOf(wrong.getJobRuns(jobId));
    expect(refused.type).toBe(ErrorType.AuthenticationFailed);
    expect(refused.message).toContain('password=[redacted]');
    for (const form of ['p@ss=word&secret%', encodeURIComponent('p@ss=word&secret%'), 'p%40ss%3Dword%26secret%25'])
      expect(refused.message).not.toContain(form);
  });

  it('run texts that quote credentials are scrubbed as they are read: the exception, the messages', async () => {
    const { sim, client } = await rig();
    const password = SIM_USER.password;
    const jobId = addJob(
      sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: `login with password=${password} failed; header Authorization: Bearer abc.def.ghi; ${password}` },
    );
    await client.executeJob(jobId);
    const [run] = await eventuallyEnded(client, jobId);
    expect(run!.exception).toBe('login with password=[redacted] failed; header Authorization: [redacted]; [redacted]');
    expect(JSON.stringify(run)).not.toContain(password);
  });

  it('remembers the password and the newest 64 tokens, however many were issued', () => {
    const secrets = new SecretSet();
    secrets.addPassword('first-password');
    for (let i = 0; i < 1000; i++) secrets.add(`token-${i}-${'x'.repeat(20)}`);
    expect(secrets.scrub('first-password')).toBe('[redacted]');
    expect(secrets.scrub(`token-999-${'x'.repeat(20)}`)).toBe('[redacted]');
    expect(secrets.scrub(`token-936-${'x'.repeat(20)}`)).toBe('[redacted]');
    expect(secrets.scrub(`token-0-${'x'.repeat(20)}`)).toBe(`token-0-${'x'.repeat(20)}`);
  });
});

describe('answers in other shapes', () => {
  it('a form-encoded token answer is read, and never quoted', async () => {
    const { sim, client } = await rig({}, {});
    const jobId = addJob(sim, [['Executing', 60]]);
    sim.setFaults({ tokenForm: true });
    expect(await client.getJobRuns(jobId)).toEqual([]);
    expect(sim.stats().token).toEqual({ '200': 1 });
  });

  it('dates that are not dates are never rolled over into other dates: an end time is a CcsProtocolError', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [['Executing', 60]]);
    await client.executeJob(jobId);
    sim.setFaults({ malformedDates: true });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err.type).toBe(ErrorType.ProtocolError);
    expect(err.message).toContain('invalid date-time "2024-13-45T99:99:99"');
  });
});

describe('a followed run is never dropped', () => {
  it('reports an error that needs a person once as attention, then retries it quietly, and clears it on the next read', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [['Executing', 60]]);
    const run = await client.executeJob(jobId);
    const env = (): MockActivityEnvironment => new MockActivityEnvironment({ attempt: 2 }, { logger: new DefaultLogger('ERROR') });
    const wait = (input: Parameters<ReturnType<typeof createActivities>['waitForJobRunChange']>[0]): Promise<unknown> =>
      createActivities({ client, polling: { jitter: 0, holdBelowMs: 0 } }).waitForJobRunChange(input);
    const base = {
      jobId,
      jobRunId: run.jobRunId,
      lastStatus: 'Executing',
      lastCustomStatusText: null,
      pollIntervalMs: 1000,
      maxPollIntervalMs: 4000,
    };
    sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'] });
    expect(await env().run(wait, { ...base, attention: null })).toMatchObject({ attention: { type: ErrorType.Forbidden }, polls: 2 });
    const again = await env()
      .run(wait, { ...base, attention: ErrorType.Forbidden })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApplicationFailure);
    expect(again).toMatchObject({ type: ErrorType.Forbidden, nonRetryable: false, nextRetryDelay: 1250 });
    sim.setFaults({});
    expect(await env().run(wait, { ...base, attention: ErrorType.Forbidden })).toMatchObject({
      run: { status: 'Executing' },
      attention: null,
    });
  });
});

/** The runs of `jobId` once the latest has ended (the simulator walks its steps in real time). */
async function eventuallyEnded(client: CcsClient, jobId: string) {
  for (let i = 0; i < 50; i++) {
    const runs = await client.getJobRuns(jobId);
    if (runs[0]?.endTime) return runs;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the run of ${jobId} did not end`);
}
