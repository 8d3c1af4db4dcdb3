/**
 * The simulator on the wire, with raw HTTPS requests (not the project's client), including requests
 * shaped byte for byte like the vendor's Python samples.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../src/sim/cli';
import type { Simulator } from '../../src/sim/server';
import { addJob, startSim } from '../helpers';
import { tempDir } from '../temp-dir';

const B64_PASSWORD = Buffer.from('sim-password').toString('base64');

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

function raw(sim: Simulator, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(sim.baseUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
        ca: sim.caPem,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let sim: Simulator;
let token: string;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(async () => {
  await sim?.close();
});

describe('requests shaped like the vendor Python samples', () => {
  it('token: form body labelled application/json, raw values, the password Base64-encoded (the current page)', async () => {
    const res = await raw(sim, 'POST', '/ccs/api/v1/oauth/tokens', `grant_type=password&username=sim-user&password=${B64_PASSWORD}`, {
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(200);
    const body = res.json() as Record<string, unknown>;
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    token = body.access_token as string;
  });

  it('execute with the sample body on /jobs/ and abort on /Jobs/, then count=1 and count=0', async () => {
    const jobId = addJob(sim, [['Executing', 60]]);
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const exec = await raw(sim, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{\r\n"Operation":"execute"\r\n}\r\n', auth);
    expect(exec.status).toBe(200);
    const info = (exec.json() as { JobStatusInfo: Record<string, unknown> }).JobStatusInfo;
    expect(info).toMatchObject({ JobID: jobId, Status: 2, JobEndTime: '0001-01-01T00:00:00', Exception: null, ActivityStatusList: [] });
    expect(info.JobStartTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    const runId = info.JobRunID as string;

    const abort = await raw(sim, 'POST', `/ccs/api/v1/Jobs/${runId.toUpperCase()}`, '{\r\n"Operation":"abort"\r\n}\r\n', auth);
    expect(abort.status).toBe(204);
    expect(abort.text).toBe('');

    const exec2 = await raw(sim, 'POST', `/ccs/api/v1/JOBS/${jobId}`, '{"operation":"EXECUTE"}', auth);
    expect(exec2.status).toBe(200);
    const one = await raw(sim, 'GET', `/ccs/api/v1/Jobs/${jobId}/jobruns?count=1`, undefined, auth);
    expect((one.json() as unknown[]).length).toBe(1);
    const all = await raw(sim, 'GET', `/ccs/api/v1/jobs/${jobId}/JobRuns?Count=0&ShowMessages=True`, undefined, auth);
    const runs = all.json() as Record<string, unknown>[];
    expect(runs.map((r) => r.Status)).toEqual([2, 7]);
    expect(runs[1]).toMatchObject({ JobRunID: runId, ErrorCount: 0, Messages: [] });
    const dflt = await raw(sim, 'GET', `/ccs/api/v1/Jobs/${jobId}/jobruns`, undefined, auth);
    expect((dflt.json() as unknown[]).length).toBe(1);
  });
});

describe('documented errors', () => {
  const auth = (): Record<string, string> => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });

  it('401 without a valid bearer token', async () => {
    const jobId = addJob(sim, [['Completed', 0]]);
    expect((await raw(sim, 'GET', `/ccs/api/v1/Jobs/${jobId}/jobruns`)).status).toBe(401);
    expect((await raw(sim, 'GET', `/ccs/api/v1/Jobs/${jobId}/jobruns`, undefined, { Authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('400 for a malformed GUID, an unknown operation, an unknown job, an abort of a finished run, a second execute while running', async () => {
    const jobId = addJob(sim, [
      ['Executing', 0.2],
      ['Completed', 0],
    ]);
    const cases: [string, string, string][] = [
      ['POST', '/ccs/api/v1/jobs/not-a-guid', '{"Operation":"execute"}'],
      ['POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"pause"}'],
      ['POST', `/ccs/api/v1/jobs/${jobId}`, 'Operation=execute'],
      ['POST', '/ccs/api/v1/jobs/11111111-2222-3333-4444-555555555555', '{"Operation":"execute"}'],
    ];
    for (const [method, path, body] of cases) expect((await raw(sim, method, path, body, auth())).status, path + body).toBe(400);
    const exec = await raw(sim, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"execute"}', auth());
    const runId = (exec.json() as { JobStatusInfo: { JobRunID: string } }).JobStatusInfo.JobRunID;
    const again = await raw(sim, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"execute"}', auth());
    expect(again.status).toBe(400);
    expect(again.json()).toMatchObject({ Message: expect.stringContaining('already running') as unknown });
    await new Promise((r) => setTimeout(r, 300));
    expect((await raw(sim, 'POST', `/ccs/api/v1/jobs/${runId}`, '{"Operation":"abort"}', auth())).status).toBe(400);
  });

  it('refresh grant rotates: the old refresh token is refused the second time', async () => {
    const first = (
      await raw(sim, 'POST', '/ccs/api/v1/oauth/tokens', `grant_type=password&username=sim-user&password=${B64_PASSWORD}`, {
        'Content-Type': 'application/x-www-form-urlencoded',
      })
    ).json() as Record<string, string>;
    const body = `grant_type=refresh_token&refresh_token=${first.refresh_token}`;
    const second = await raw(sim, 'POST', '/ccs/api/v1/oauth/tokens', body, { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(second.status).toBe(200);
    expect((second.json() as Record<string, string>).refresh_token).not.toBe(first.refresh_token);
    const replay = await raw(sim, 'POST', '/ccs/api/v1/oauth/tokens', body, { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(replay.status).toBe(400);
    expect(replay.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('403 with the documented text for a user without permission', async () => {
    const s = await startSim({ users: { viewer: { password: 'v', role: 'viewer' } } });
    const login = (
      await raw(
        s,
        'POST',
        '/ccs/api/v1/oauth/tokens',
        `grant_type=password&username=viewer&password=${Buffer.from('v').toString('base64')}`,
      )
    ).json() as Record<string, string>;
    const jobId = addJob(s, [['Completed', 0]]);
    const headers = { Authorization: `Bearer ${login.access_token}` };
    const res = await raw(s, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"execute"}', headers);
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ Message: 'You are not authorized to perform this task. Access is denied.' });
    expect((await raw(s, 'GET', `/ccs/api/v1/jobs/${jobId}`, undefined, headers)).status).toBe(200);
    await s.close();
  });
});

describe('control API and state', () => {
  it('adds jobs, lists runs with request counts, counts requests, injects and clears faults, resets', async () => {
    const s = await startSim({ jobs: [] });
    const added = await raw(
      s,
      'POST',
      '/__sim/jobs',
      JSON.stringify({
        JobName: 'x',
        steps: [
          ['Pending', 0],
          ['Executing', 60],
        ],
      }),
    );
    expect(added.status).toBe(201);
    const { JobID } = added.json() as { JobID: string };
    const bad = await raw(s, 'POST', '/__sim/jobs', JSON.stringify({ steps: [['Pending', -1]] }));
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('steps[0]');

    const login = (
      await raw(s, 'POST', '/ccs/api/v1/oauth/tokens', `grant_type=password&username=sim-user&password=${B64_PASSWORD}`)
    ).json() as Record<string, string>;
    const headers = { Authorization: `Bearer ${login.access_token}` };
    expect((await raw(s, 'POST', '/__sim/faults', JSON.stringify({ errorRate: 1, errorStatus: [502], limit: 1 }))).status).toBe(200);
    expect((await raw(s, 'POST', `/ccs/api/v1/jobs/${JobID}`, '{"Operation":"execute"}', headers)).status).toBe(502);
    expect((await raw(s, 'POST', `/ccs/api/v1/jobs/${JobID}`, '{"Operation":"execute"}', headers)).status).toBe(200);
    const runs = (await raw(s, 'GET', '/__sim/runs')).json() as Record<string, unknown>[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ JobID, Status: 'Executing', ExecuteRequests: 1, AbortRequests: 0, EndTime: null });
    expect((await raw(s, 'GET', '/__sim/stats')).json()).toEqual({ token: { '200': 1 }, execute: { '502': 1, '200': 1 } });

    expect((await raw(s, 'POST', '/__sim/revoke-tokens')).status).toBe(204);
    expect((await raw(s, 'GET', `/ccs/api/v1/jobs/${JobID}`, undefined, headers)).status).toBe(401);
    expect((await raw(s, 'POST', '/__sim/reset')).status).toBe(204);
    expect((await raw(s, 'GET', '/__sim/runs')).json()).toEqual([]);
    await s.close();
  });

  it('--state-file keeps jobs and runs across a restart, and runs keep progressing', async () => {
    const dir = tempDir('sim-state-');
    const stateFile = join(dir, 'state.json');
    const tlsDir = join(dir, 'tls');
    const first = await startSim({ stateFile, tlsDir, jobs: [] });
    const jobId = addJob(first, [
      ['Executing', 0.5],
      ['Completed', 0],
    ]);
    const run = first.state.startRun(first.state.jobs.get(jobId)!);
    const ca = first.caPem;
    await first.close();
    await new Promise((r) => setTimeout(r, 600));
    const second = await startSim({ stateFile, tlsDir, jobs: [] });
    expect(second.caPem).toBe(ca);
    const restored = second.state.runs.get(run.JobRunID)!;
    expect(second.state.view(restored).status).toBe('Completed');
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ jobs: [{ JobID: jobId }] });
    await second.close();
  });

  it('the ccs-sim command line rejects bad flags with one clear line', () => {
    expect(() => parseSimArgs(['--port', 'abc'])).toThrow(/--port must be 0–65535/);
    expect(() => parseSimArgs(['--users', 'nocolon'])).toThrow(/--users entry "nocolon"/);
    expect(() => parseSimArgs(['--token-ttl', 'soon'])).toThrow(/--token-ttl must be a positive number/);
    expect(() => parseSimArgs(['--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(parseSimArgs(['--port', '0', '--no-tls', '--users', 'a:b:viewer'])).toMatchObject({
      port: 0,
      tls: false,
      users: { a: { password: 'b', role: 'viewer' } },
    });
  });
});

describe('dialect details of ASP.NET', () => {
  it('401 names the Bearer scheme; with requireContentType a job POST without Content-Type is 415', async () => {
    const s = await startSim({ requireContentType: true });
    try {
      const jobId = addJob(s, [['Executing', 60]]);
      const anonymous = await raw(s, 'GET', `/ccs/api/v1/Jobs/${jobId}/jobruns`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      const login = (
        await raw(s, 'POST', '/ccs/api/v1/oauth/tokens', `grant_type=password&username=sim-user&password=${B64_PASSWORD}`)
      ).json() as Record<string, string>;
      const headers = { Authorization: `Bearer ${login.access_token}` };
      expect((await raw(s, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"execute"}', headers)).status).toBe(415);
      expect(
        (await raw(s, 'POST', `/ccs/api/v1/jobs/${jobId}`, '{"Operation":"execute"}', { ...headers, 'Content-Type': 'application/json' }))
          .status,
      ).toBe(200);
    } finally {
      await s.close();
    }
  });
});
