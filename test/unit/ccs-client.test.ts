import { randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toFailure } from '../../src/activities/to-failure';
import { CcsClient } from '../../src/ccs/client';
import { normalizeFingerprint } from '../../src/ccs/tls';
import { MAX_PAUSE_WAIT_MS } from '../../src/ccs/transport';
import type { CcsError } from '../../src/domain/errors';
import { startSimulator, type Simulator } from '../../src/sim/server';
import { addJob, clientFor, SIM_USER, startSim } from '../helpers';

async function errorOf(promise: Promise<unknown>): Promise<CcsError> {
  return promise.then(
    () => {
      throw new Error('expected a CcsError');
    },
    (err: unknown) => err as CcsError,
  );
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSim({
    users: { ...{ [SIM_USER.username]: { password: SIM_USER.password, role: 'operator' } }, viewer: { password: 'v', role: 'viewer' } },
  });
});
afterAll(async () => {
  await sim?.close();
});

describe('tokens', () => {
  it('100 concurrent calls with no token make exactly one token request', async () => {
    const s = await startSim();
    const jobId = addJob(s, [['Completed', 0]]);
    const client = clientFor(s);
    try {
      await Promise.all(Array.from({ length: 100 }, () => client.getJobRuns(jobId)));
      expect(s.stats().token).toEqual({ '200': 1 });
      expect(s.stats().jobruns).toEqual({ '200': 100 });
      expect(client.tokenStats).toEqual({ passwordGrants: 1, refreshGrants: 0, grantsHeldBack: 0 });
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('renews ahead of expiry with the refresh grant, so no call meets a 401', async () => {
    const s = await startSim({ tokenTtlSeconds: 1 });
    const jobId = addJob(s, [['Completed', 0]]);
    // This simulator's 1 s lifetime is real: believe it, below the floor meant for lifetimes CCS misstates.
    const client = clientFor(s, { refreshLeadMs: 200, minTokenLifetimeMs: 0 });
    try {
      await client.getJobRuns(jobId);
      await new Promise((r) => setTimeout(r, 900));
      await client.getJobRuns(jobId);
      expect(client.tokenStats).toEqual({ passwordGrants: 1, refreshGrants: 1, grantsHeldBack: 0 });
      expect(s.stats().jobruns).toEqual({ '200': 2 });
      expect(client.requestStats.replaysAfter401).toBe(0);
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('after tokens are revoked (server restart), a 401 renews once and replays the call', async () => {
    const s = await startSim();
    const jobId = addJob(s, [['Completed', 0]]);
    const client = clientFor(s);
    try {
      await client.getJobRuns(jobId);
      s.revokeTokens();
      await expect(client.getJobRuns(jobId)).resolves.toEqual([]);
      expect(s.stats().jobruns).toEqual({ '200': 2, '401': 1 });
      // The revoked refresh token is refused (400), then the password grant succeeds.
      expect(s.stats().token).toEqual({ '200': 2, '400': 1 });
      expect(client.requestStats.replaysAfter401).toBe(1);
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('wrong credentials fail CcsAuthenticationFailed without echoing the password', async () => {
    const client = clientFor(sim, { password: 'not-the-password-123' });
    const err = await errorOf(client.getJobRuns(randomUUID()));
    expect(err.type).toBe('CcsAuthenticationFailed');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('sim-user');
    expect(err.message).not.toContain('not-the-password-123');
    await client.close();
  });
});

describe('operations', () => {
  it('executes, reads the run, aborts with 204 and sees it Aborted', async () => {
    const client = clientFor(sim);
    const jobId = addJob(sim, [
      ['Pending', 0.1],
      ['Executing', 60],
    ]);
    const run = await client.executeJob(jobId);
    expect(run).toMatchObject({ jobId, status: 'Pending', statusCode: 1, endTime: null, exception: null });
    await client.abortJobRun(run.jobRunId);
    const after = await client.getJobRun(jobId, run.jobRunId);
    expect(after.status).toBe('Aborted');
    expect(after.endTime).not.toBeNull();
    expect(sim.state.runs.get(run.jobRunId)?.abortRequests).toBe(1);
    await client.close();
  });

  it('reads both documented JobStatusInfo shapes and Status as a name', async () => {
    for (const options of [{ responseShape: 'flat' as const }, { responseShape: 'wrapped' as const, statusFormat: 'name' as const }]) {
      const s = await startSim(options);
      const client = clientFor(s);
      const jobId = addJob(s, [['Executing', 60]]);
      const run = await client.executeJob(jobId);
      expect(run).toMatchObject({ jobId, status: 'Executing', statusCode: 2 });
      await client.close();
      await s.close();
    }
  });

  it('finds an old run by widening the window to all runs once', async () => {
    const s = await startSim();
    const client = clientFor(s, { runWindow: 3 });
    const jobId = addJob(s, [['Completed', 0]]);
    const first = await client.executeJob(jobId);
    for (let i = 0; i < 5; i++) await client.executeJob(jobId);
    const found = await client.getJobRun(jobId, first.jobRunId);
    expect(found.jobRunId).toBe(first.jobRunId);
    expect(s.stats().jobruns).toEqual({ '200': 2 });
    await expect(client.getJobRun(jobId, randomUUID())).rejects.toMatchObject({ type: 'CcsNotFound', retryable: false });
    expect(s.stats().jobruns).toEqual({ '200': 4 });
    await client.close();
    await s.close();
  });

  it('gets the job definition', async () => {
    const client = clientFor(sim);
    const jobId = addJob(sim, [['Completed', 0]], { JobName: 'Nightly CER' });
    await expect(client.getJob(jobId)).resolves.toMatchObject({ jobId, name: 'Nightly CER', lastRunStatus: 'None' });
    await client.close();
  });

  it('rejects a malformed GUID before sending anything', async () => {
    const s = await startSim();
    const client = clientFor(s);
    const err = await errorOf(client.executeJob('{24f58e54-5d94-45f8-97a8-ccb6d959233a}'));
    expect(err.type).toBe('CcsInvalidInput');
    expect(err.message).toContain('24f58e54-5d94-45f8-97a8-ccb6d959233a (36 characters');
    expect(s.stats()).toEqual({});
    await client.close();
    await s.close();
  });
});

describe('error classes', () => {
  it('403 is CcsForbidden naming the permissions the Job Operation page lists', async () => {
    const client = clientFor(sim, { username: 'viewer', password: 'v' });
    const err = await errorOf(client.executeJob(addJob(sim, [['Completed', 0]])));
    expect(err).toMatchObject({ type: 'CcsForbidden', status: 403, retryable: false });
    expect(err.message).toContain('Manage jobs');
    expect(err.message).toContain('Asset System');
    await client.close();
  });

  it('400 is CcsBadRequest keeping the server text', async () => {
    const client = clientFor(sim);
    const err = await errorOf(client.executeJob(randomUUID()));
    expect(err).toMatchObject({ type: 'CcsBadRequest', status: 400, retryable: false });
    expect(err.message).toMatch(/does not exist/);
    await client.close();
  });

  it('5xx is a retryable CcsServerError, also when the body is an HTML page', async () => {
    const s = await startSim();
    const client = clientFor(s);
    const jobId = addJob(s, [['Completed', 0]]);
    s.setFaults({ errorRate: 1, errorStatus: [503], endpoints: ['jobruns'], limit: 1 });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: 'CcsServerError', status: 503, retryable: true });
    expect(err.message).toContain('Service Unavailable');
    expect(err.message).not.toContain('<');
    await client.close();
    await s.close();
  });

  it('429 is CcsRateLimited carrying Retry-After, which becomes the next retry delay', async () => {
    const s = await startSim();
    const client = clientFor(s);
    const jobId = addJob(s, [['Completed', 0]]);
    s.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7, endpoints: ['jobruns'], limit: 1 });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: 'CcsRateLimited', status: 429, retryAfterMs: 7000, retryable: true });
    expect(toFailure(err, { nextRetryDelay: 1000 })).toMatchObject({ type: 'CcsRateLimited', nextRetryDelay: 7000, nonRetryable: false });
    await client.close();
    await s.close();
  });

  it('a dropped connection is a CcsNetworkError that may have reached CCS; a refused one did not', async () => {
    const s = await startSim();
    const client = clientFor(s);
    const jobId = addJob(s, [['Executing', 60]]);
    s.setFaults({ resetRate: 1, endpoints: ['execute'], afterProcessing: true, limit: 1 });
    const reset = await errorOf(client.executeJob(jobId));
    expect(reset).toMatchObject({ type: 'CcsNetworkError', mayHaveReachedServer: true, retryable: true });
    expect(s.state.runsOf(jobId)).toHaveLength(1); // CCS did act on it
    await client.close();
    await s.close();

    const refused = new CcsClient({ baseUrl: s.baseUrl, ...SIM_USER, ca: s.caPem });
    const err = await errorOf(refused.getJobRuns(jobId));
    expect(err).toMatchObject({ type: 'CcsNetworkError', mayHaveReachedServer: false });
    expect(err.message).toContain('ECONNREFUSED');
    await refused.close();
  });

  it('a headers timeout is a CcsNetworkError that may have reached CCS', async () => {
    const s = await startSim();
    const client = clientFor(s, { headersTimeoutMs: 300 });
    const jobId = addJob(s, [['Completed', 0]]);
    await client.getJobRuns(jobId); // token first
    // Far beyond the timeout: undici checks parser timeouts on a coarse timer (up to ~1 s late).
    s.setFaults({ latencyMs: 5000, endpoints: ['jobruns'] });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: 'CcsNetworkError', mayHaveReachedServer: true });
    s.setFaults({});
    await client.close();
    await s.close();
  });

  it('a cut-off JSON body is a retryable CcsProtocolError', async () => {
    const s = await startSim();
    const client = clientFor(s);
    const jobId = addJob(s, [['Completed', 0]]);
    await client.executeJob(jobId);
    s.setFaults({ corruptRate: 1, endpoints: ['jobruns'], afterProcessing: true, limit: 1 });
    const err = await errorOf(client.getJobRuns(jobId));
    expect(err).toMatchObject({ type: 'CcsProtocolError', retryable: true });
    await client.close();
    await s.close();
  });
});

describe('TLS', () => {
  it('refuses the simulator’s certificate without its CA, with a message naming the fix', async () => {
    const client = new CcsClient({ baseUrl: sim.baseUrl, ...SIM_USER });
    const err = await errorOf(client.getJobRuns(randomUUID()));
    expect(err).toMatchObject({ type: 'CcsTlsError', retryable: false, mayHaveReachedServer: false });
    expect(err.message).toContain('CCS_CA_FILE');
    await client.close();
  });

  it('skips verification only when opted in, and warns once', async () => {
    const warn = vi.fn();
    const client = new CcsClient({ baseUrl: sim.baseUrl, ...SIM_USER, insecure: true, warn });
    const jobId = addJob(sim, [['Completed', 0]]);
    await client.getJobRuns(jobId);
    await client.getJobRuns(jobId);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toContain('verification is OFF');
    await client.close();
  });

  it('refuses plain HTTP unless allowed (the password would travel in clear text), then works, warned', async () => {
    const s = await startSimulator({ port: 0, tls: false });
    expect(() => clientFor(s)).toThrow(
      /uses http:\/\/: the password and tokens would travel in clear text; use https:\/\/, or set CCS_ALLOW_PLAINTEXT=true/,
    );
    const warn = vi.fn();
    const client = clientFor(s, { allowPlaintext: true, warn });
    expect(warn.mock.calls[0]?.[0]).toContain('plain HTTP (CCS_ALLOW_PLAINTEXT=true)');
    const jobId = addJob(s, [['Completed', 0]]);
    await expect(client.getJobRuns(jobId)).resolves.toEqual([]);
    await client.close();
    await s.close();
  });
});

describe('trusting CCS’s own certificate', () => {
  const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

  it('Symantec_Components, self-signed: refused with what it is and the pin to set; the pin trusts exactly it, in a list too', async () => {
    const s = await startSim({ certName: 'Symantec_Components', selfSigned: true });
    const fp = fingerprintOf(s.caPem!);
    const jobId = addJob(s, [['Completed', 0]]);
    try {
      const err = await errorOf(clientFor(s, { ca: undefined }).getJobRuns(jobId));
      expect(err).toMatchObject({ type: 'CcsTlsError', retryable: false, mayHaveReachedServer: false });
      expect(err.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(err.message).toContain('subject CN=Symantec_Components; SANs none; issuer itself (self-signed)');
      expect(err.message).toContain(`SHA-256 ${fp}`);
      expect(err.message).toContain(
        `To trust it: trust exactly this certificate: CCS_TLS_PIN_SHA256 (tlsPinSha256 in CCS_SERVERS_FILE)=${fp}`,
      );
      expect(err.message).toMatch(/CCS_TLS_INSECURE=true turns verification off \(last resort\)$/);
      expect(s.stats().token).toBeUndefined(); // nothing was sent: the password never reached an untrusted server

      await expect(clientFor(s, { ca: undefined, pinSha256: [fp] }).getJobRuns(jobId)).resolves.toEqual([]);
      const other = 'AB:'.repeat(31) + 'AB';
      await expect(clientFor(s, { ca: undefined, pinSha256: [other, fp] }).getJobRuns(jobId)).resolves.toEqual([]);
      const rotated = await errorOf(clientFor(s, { ca: undefined, pinSha256: [other] }).getJobRuns(jobId));
      expect(rotated.message).toMatch(
        new RegExp(`its SHA-256 fingerprint is not among the 1 pinned.*SHA-256 ${fp}.*add its fingerprint to CCS_TLS_PIN_SHA256`),
      );
      // Its own certificate as the CA file works too (it is its own issuer), for the right name only.
      const asCa = await errorOf(clientFor(s, { ca: s.caPem }).getJobRuns(jobId));
      expect(asCa.message).toMatch(
        /not valid for the name "127.0.0.1".*CCS_TLS_SERVERNAME \(tlsServername in CCS_SERVERS_FILE\)=Symantec_Components/,
      );
    } finally {
      await s.close();
    }
  });

  it('a CA-signed certificate for another name: refused for the URL’s host, trusted with CCS_TLS_SERVERNAME, never for a wrong one', async () => {
    const s = await startSim({ certName: 'ccs-app01.corp.example' });
    const jobId = addJob(s, [['Completed', 0]]);
    try {
      const err = await errorOf(clientFor(s).getJobRuns(jobId));
      expect(err.message).toMatch(
        /not valid for the name "127.0.0.1", checked for "127.0.0.1"\): subject CN=ccs-app01.corp.example; SANs ccs-app01.corp.example; issuer CN=ccs-sim local CA/,
      );
      expect(err.message).toContain('CCS_TLS_SERVERNAME (tlsServername in CCS_SERVERS_FILE)=ccs-app01.corp.example');
      await expect(clientFor(s, { servername: 'ccs-app01.corp.example' }).getJobRuns(jobId)).resolves.toEqual([]);
      const wrong = await errorOf(clientFor(s, { servername: 'ccs-app02.corp.example' }).getJobRuns(jobId));
      expect(wrong.type).toBe('CcsTlsError');
      // The name does not replace the chain: without the CA it is still refused.
      const noCa = await errorOf(clientFor(s, { ca: undefined, servername: 'ccs-app01.corp.example' }).getJobRuns(jobId));
      expect(noCa.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE.*trust its issuer with CCS_CA_FILE/);
    } finally {
      await s.close();
    }
  });

  it('reads fingerprints as people paste them', () => {
    const canonical = 'AB:'.repeat(31) + 'AB';
    for (const written of [
      'ab'.repeat(32),
      canonical.toLowerCase(),
      `SHA256 Fingerprint=${canonical}`,
      `sha256/${'AB'.repeat(32)}`,
      ` ${canonical} `,
    ])
      expect(normalizeFingerprint(written)).toBe(canonical);
    for (const bad of ['AB'.repeat(31), 'zz'.repeat(32), '']) expect(normalizeFingerprint(bad)).toBeNull();
  });
});

describe('request budget and observer', () => {
  it('spaces requests to the server at requestsPerSecond, and reports each one to the observer', async () => {
    const arrivals: number[] = [];
    const s = await startSim({ onRequest: (e) => e.endpoint === 'jobruns' && arrivals.push(e.at) });
    const jobId = addJob(s, [['Completed', 0]]);
    const seen: string[] = [];
    const client = clientFor(s, { requestsPerSecond: 10, observer: (o) => seen.push(`${o.operation} ${o.outcome}`) });
    try {
      await Promise.all(Array.from({ length: 25 }, () => client.getJobRuns(jobId)));
      expect(arrivals).toHaveLength(25);
      // In any one-second window the server saw at most the budget plus the small burst allowed (1).
      for (const t of arrivals) expect(arrivals.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(11);
      expect(seen.filter((x) => x === 'jobruns 200')).toHaveLength(25);
      expect(seen.filter((x) => x === 'token 200')).toHaveLength(1);
    } finally {
      await client.close();
      await s.close();
    }
  });
});
describe('an execute with a send-by time', () => {
  it('goes to the front of the budget line, and is not sent at all once its send-by time passes while it waits', async () => {
    const order: string[] = [];
    const s = await startSim({ onRequest: (e) => order.push(e.endpoint) });
    const jobId = addJob(s, [['Executing', 60]]);
    const other = addJob(s, [['Executing', 60]]);
    const client = clientFor(s, { requestsPerSecond: 4 });
    try {
      await client.getJobRuns(jobId); // the token, and the burst spent
      // Twelve reads queue (3 s of turns); the execute asked for after them is served first.
      const reads = Array.from({ length: 12 }, () => client.getJobRuns(jobId));
      const executed = client.executeJob(jobId, { sendBy: Date.now() + 10_000 });
      await Promise.all([...reads, executed]);
      expect(order.filter((e) => e !== 'token').slice(1, 3)).toContain('execute');
      // Behind a line it cannot skip (another execute in it first), its send-by time passes: not sent.
      const line = Array.from({ length: 8 }, () => client.executeJob(other).catch(() => undefined));
      const late = await client.executeJob(other, { sendBy: Date.now() + 300 }).then(
        () => undefined,
        (e: unknown) => e as CcsError,
      );
      await Promise.all(line);
      expect(late?.type).toBe('CcsNetworkError');
      expect(late?.mayHaveReachedServer).toBe(false);
      expect(late?.message).toContain('not sent');
      expect(s.state.runsOf(other)).toHaveLength(1);
      expect(order.filter((e) => e === 'execute')).toHaveLength(1 + 8);
    } finally {
      await client.close();
      await s.close();
    }
  });
});

describe('the per-server circuit breaker', () => {
  it('a 429 with Retry-After on a read pauses every read of this worker to that server until then (a short pause waited out, a long one refused), not the other server, not an abort', async () => {
    const arrivals: Record<string, number[]> = { throttled: [], other: [] };
    const throttled = await startSim({ onRequest: (e) => e.endpoint === 'jobruns' && arrivals.throttled!.push(e.at) });
    const other = await startSim({ onRequest: (e) => e.endpoint === 'jobruns' && arrivals.other!.push(e.at) });
    const a = clientFor(throttled);
    const b = clientFor(other);
    const jobA = addJob(throttled, [['Executing', 60]]);
    const jobB = addJob(other, [['Executing', 60]]);
    try {
      await a.getJobRuns(jobA);
      await b.getJobRuns(jobB);
      throttled.setFaults({ rateLimitRate: 1, retryAfterSeconds: 2, endpoints: ['jobruns'], limit: 1 });
      const asked = Date.now();
      const limited = await errorOf(a.getJobRuns(jobA));
      expect(limited).toMatchObject({ type: 'CcsRateLimited', retryAfterMs: 2000 });
      const countAt = arrivals.throttled!.length;
      // Twenty runs of this worker ask meanwhile: each waits the 2 s pause out (under MAX_PAUSE_WAIT_MS) and goes when it ends.
      const during = Promise.all(Array.from({ length: 20 }, () => a.getJobRuns(jobA)));
      // One that gives up while it waits leaves with its own reason, never sent.
      const gaveUp = new AbortController();
      const leaving = a.getJobRuns(jobA, { signal: gaveUp.signal }).then(
        () => 'sent',
        (err: unknown) => err,
      );
      gaveUp.abort(new Error('the activity was cancelled'));
      await Promise.all(Array.from({ length: 20 }, () => b.getJobRuns(jobB)));
      // A job operation to the throttled server still goes out: an abort is never held back by throttled reads.
      const abortErr = await errorOf(a.abortJobRun('11111111-2222-3333-4444-555555555555'));
      expect(abortErr.type).toBe('CcsBadRequest');
      expect(await leaving).toMatchObject({ message: 'the activity was cancelled' });
      expect(arrivals.throttled!.length).toBe(countAt);
      expect(await during).toHaveLength(20);
      const sent = arrivals.throttled!.slice(countAt);
      expect(sent).toHaveLength(20);
      for (const at of sent) expect(at).toBeGreaterThanOrEqual(asked + 2000);
      expect(arrivals.other!.length).toBe(21);

      // A pause longer than MAX_PAUSE_WAIT_MS is not waited for here: refused at once, the activity's retry waits it out.
      throttled.setFaults({ rateLimitRate: 1, retryAfterSeconds: 30, endpoints: ['jobruns'], limit: 1 });
      expect(await errorOf(a.getJobRuns(jobA))).toMatchObject({ type: 'CcsRateLimited', retryAfterMs: 30_000 });
      const countLong = arrivals.throttled!.length;
      const refused = await Promise.all(Array.from({ length: 20 }, () => errorOf(a.getJobRuns(jobA))));
      for (const err of refused) {
        expect(err.type).toBe('CcsRateLimited');
        expect(err.message).toMatch(
          /not sent: read requests to https:\/\/127\.0\.0\.1:\d+ are paused until .* \(CCS answered 429 with Retry-After\)/,
        );
        expect(err.retryAfterMs).toBeGreaterThan(MAX_PAUSE_WAIT_MS);
        expect(err.mayHaveReachedServer).toBe(false);
      }
      expect(arrivals.throttled!.length).toBe(countLong);
      expect(a.pauseStats).toEqual({ pauses: 2, refused: 20, waited: 21 });
      expect(b.pauseStats).toEqual({ pauses: 0, refused: 0, waited: 0 });
    } finally {
      await a.close();
      await b.close();
      await throttled.close();
      await other.close();
    }
  });
});
