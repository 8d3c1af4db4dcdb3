/**
 * The simulator's findings endpoints on the wire (issue 31): a job's assets and standards
 * (Search Job by ID's JobDetails), an asset group's members, raw evaluation results per
 * asset × standard × run, the report file, the role without "View evaluation results", the
 * results dialects and faults. Raw HTTPS with undici against the simulator, not the project's client.
 */
import { randomUUID } from 'node:crypto';
import { Agent, fetch, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../src/sim/cli';
import { DEFAULT_JOBS } from '../../src/sim/default-scenario';
import { validateJob, type Simulator, type SimulatorOptions } from '../../src/sim/server';
import { addJob, startSim } from '../helpers';

const FORBIDDEN = { Message: 'You are not authorized to perform this task. Access is denied.' };
const UNIX = 'symc-csm-AssetSystem-Asset-Unix-Machine';
const WINDOWS = 'symc-csm-AssetSystem-Asset-Windows-Machine';
const GROUP = 'symc-csm-AssetSystem-AssetGroup';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const ASSET_A = randomUUID();
const ASSET_B = randomUUID();
const ASSET_C = randomUUID();
const GROUP_G = randomUUID();
const S1 = randomUUID();
const S2 = randomUUID();

/** A job on one asset and one group of two (three assets), two standards: 10 checks (7 pass) and 4 (2 pass, 1 N/A). */
const FINDINGS_JOB = {
  assets: [
    { Id: ASSET_A, Name: 'lnx-01', Type: UNIX },
    { Id: GROUP_G, Name: 'Windows servers', members: [{ Id: ASSET_B, Name: 'win-01', Type: WINDOWS }, { Id: ASSET_C }] },
  ],
  standards: [S1, S2],
  results: { checks: 10, passRatio: 0.7, byStandard: { [S2]: { checks: 4, passRatio: 0.5, notApplicable: 1 } } },
};

interface Session {
  sim: Simulator;
  agent: Agent;
  token: (user?: string, password?: string) => Promise<string>;
  call: (method: string, path: string, options?: { body?: string; user?: string; headers?: Record<string, string> }) => Promise<Response>;
}

async function session(options: SimulatorOptions = {}): Promise<Session> {
  const sim = await startSim({
    users: {
      'sim-user': { password: 'sim-password', role: 'operator' },
      restricted: { password: 'r', role: 'operator-no-results' },
    },
    ...options,
  });
  const agent = new Agent({ connect: { ca: sim.caPem } });
  const origin = new URL(sim.baseUrl).origin;
  const tokens = new Map<string, string>();
  const token = async (user = 'sim-user', password = user === 'restricted' ? 'r' : 'sim-password'): Promise<string> => {
    const known = tokens.get(user);
    if (known) return known;
    const res = await fetch(`${origin}/ccs/api/v1/oauth/tokens`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=${user}&password=${Buffer.from(password).toString('base64')}`,
    });
    expect(res.status).toBe(200);
    const access = ((await res.json()) as { access_token: string }).access_token;
    tokens.set(user, access);
    return access;
  };
  const call: Session['call'] = async (method, path, { body, user, headers = {} } = {}) =>
    fetch(`${origin}${path}`, {
      method,
      dispatcher: agent,
      headers: {
        ...(path.startsWith('/__sim') ? {} : { authorization: `Bearer ${await token(user)}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
  return { sim, agent, token, call };
}

async function close(s: Session | undefined): Promise<void> {
  if (!s) return;
  await s.agent.close();
  await s.sim.close();
}

/** Executes the job over the wire and waits (reading jobruns) until its run reports `status`. */
async function runTo(s: Session, jobId: string, status: number): Promise<string> {
  const exec = await s.call('POST', `/ccs/api/v1/jobs/${jobId}`, { body: '{"Operation":"execute"}' });
  expect(exec.status).toBe(200);
  const runId = ((await exec.json()) as { JobStatusInfo: { JobRunID: string } }).JobStatusInfo.JobRunID;
  await waitFor(s, jobId, runId, status);
  return runId;
}

/** Waits (reading jobruns) until the job's newest run is `runId` with `status`. */
async function waitFor(s: Session, jobId: string, runId: string, status: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const runs = (await (await s.call('GET', `/ccs/api/v1/Jobs/${jobId}/jobruns?count=1`)).json()) as {
      JobRunID: string;
      Status: number;
    }[];
    if (runs[0]?.JobRunID === runId && runs[0].Status === status) return;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not reach status ${status}: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Check {
  CheckId: string;
  Name: string;
  Result: string;
  Severity?: string;
}
interface Results {
  AssetId: string;
  StandardId: string;
  JobRunId: string;
  EvaluationTime: string;
  Checks: Check[];
}

function tally(checks: Check[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of checks) out[c.Result] = (out[c.Result] ?? 0) + 1;
  return out;
}

let s: Session;
let jobId: string;
let runId: string;
beforeAll(async () => {
  s = await session();
  jobId = addJob(
    s.sim,
    [
      ['Executing', 0.2],
      ['Completed', 0],
    ],
    FINDINGS_JOB,
  );
  runId = await runTo(s, jobId, 4);
});
afterAll(async () => {
  await close(s);
});

const results = (body: Record<string, unknown>, user?: string): Promise<Response> =>
  s.call('POST', '/ccs/api/v1/Results', { body: JSON.stringify(body), ...(user ? { user } : {}) });

describe('Search Job by ID names the job’s assets, groups and standards', () => {
  it('JobDetails: AssetsResolutionInfo [{Id, Type}] with the group as a group, and Standards, beside every earlier field', async () => {
    const res = await s.call('GET', `/ccs/api/v1/jobs/${jobId.toUpperCase()}`);
    expect(res.status).toBe(200);
    const job = (await res.json()) as Record<string, unknown>;
    expect(job).toMatchObject({
      JobID: jobId,
      JobName: 'test job',
      JobType: 'CollectionEvaluationJob',
      JobCategory: 'User',
      LastRunStatus: 4,
    });
    expect(job.LastRunDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(job.JobDetails).toEqual({
      AssetsResolutionInfo: [
        { Id: ASSET_A, Type: UNIX },
        { Id: GROUP_G, Type: GROUP },
      ],
      Standards: [S1, S2],
    });
  });

  it('a job with no assets named has empty lists; a reporting job has no JobDetails', async () => {
    const bare = addJob(s.sim, [['Completed', 0]], { JobType: 'EvaluationJob' });
    expect(((await (await s.call('GET', `/ccs/api/v1/jobs/${bare}`)).json()) as Record<string, unknown>).JobDetails).toEqual({
      AssetsResolutionInfo: [],
      Standards: [],
    });
    const reporting = addJob(s.sim, [['Completed', 0]], { JobType: 'ReportingJob', standards: [S1] });
    const body = (await (await s.call('GET', `/ccs/api/v1/jobs/${reporting}`)).json()) as Record<string, unknown>;
    expect(body.JobType).toBe('ReportingJob');
    expect(body).not.toHaveProperty('JobDetails');
  });

  it('a job defined through POST /__sim/jobs carries them too; a bad asset is refused naming the field', async () => {
    const added = await s.call('POST', '/__sim/jobs', {
      body: JSON.stringify({ JobName: 'ctl', steps: [['Completed', 0]], ...FINDINGS_JOB }),
    });
    expect(added.status).toBe(201);
    const { JobID } = (await added.json()) as { JobID: string };
    const job = (await (await s.call('GET', `/ccs/api/v1/jobs/${JobID}`)).json()) as { JobDetails: { Standards: string[] } };
    expect(job.JobDetails.Standards).toEqual([S1, S2]);
    const bad = await s.call('POST', '/__sim/jobs', {
      body: JSON.stringify({ steps: [['Completed', 0]], assets: [{ Id: GROUP_G, members: [{ Id: 'nope' }] }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('assets[0].members[0]');
    const badRatio = await s.call('POST', '/__sim/jobs', {
      body: JSON.stringify({ steps: [['Completed', 0]], results: { passRatio: 2 } }),
    });
    expect(badRatio.status).toBe(400);
    expect(await badRatio.text()).toContain('results.passRatio');
  });

  it('the built-in scenario’s jobs are valid, and its evaluation jobs name assets and standards', () => {
    for (const [i, job] of DEFAULT_JOBS.entries()) expect(() => validateJob(job, `jobs[${i}]`)).not.toThrow();
    const evaluations = DEFAULT_JOBS.filter((j) => j.JobType === 'EvaluationJob');
    expect(evaluations.length).toBeGreaterThan(0);
    for (const job of evaluations) {
      expect(job.assets?.length).toBeGreaterThan(0);
      expect(job.standards?.length).toBeGreaterThan(0);
    }
  });
});

describe('GET /AssetGroup/{GroupID}/Assets', () => {
  it('the group’s members as [{Id, Name, Type}], any path casing; defaults for a member that names only its Id', async () => {
    const res = await s.call('GET', `/ccs/api/v1/assetgroup/${GROUP_G.toUpperCase()}/ASSETS`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual([
      { Id: ASSET_B, Name: 'win-01', Type: WINDOWS },
      { Id: ASSET_C, Name: `Asset ${ASSET_C.slice(0, 8)}`, Type: UNIX },
    ]);
  });

  it('404 for an unknown group (and for an asset that is not a group), 400 for a malformed id', async () => {
    const unknown = await s.call('GET', `/ccs/api/v1/AssetGroup/${randomUUID()}/Assets`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ Message: expect.stringContaining('does not exist') as unknown });
    expect((await s.call('GET', `/ccs/api/v1/AssetGroup/${ASSET_A}/Assets`)).status).toBe(404);
    expect((await s.call('GET', '/ccs/api/v1/AssetGroup/not-a-guid/Assets')).status).toBe(400);
  });
});

describe('POST /Results', () => {
  it('3 assets × 2 standards of a completed run: exact counts per standard, the standard’s check ids on every asset', async () => {
    const idsByStandard = new Map<string, string[]>();
    for (const asset of [ASSET_A, ASSET_B, ASSET_C]) {
      for (const [standard, expected] of [
        [S1, { Pass: 7, Fail: 3 }],
        [S2, { Pass: 2, NotApplicable: 1, Fail: 1 }],
      ] as const) {
        const res = await results({ assetid: asset, standardid: standard, jobrunid: runId });
        expect(res.status, `${asset} × ${standard}`).toBe(200);
        const body = (await res.json()) as Results;
        expect(body).toMatchObject({ AssetId: asset, StandardId: standard, JobRunId: runId });
        expect(body.EvaluationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
        expect(tally(body.Checks)).toEqual(expected);
        for (const c of body.Checks) {
          expect(c.CheckId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          expect(c.Name).not.toBe('');
          expect(['High', 'Medium', 'Low']).toContain(c.Severity);
        }
        const ids = body.Checks.map((c) => c.CheckId);
        expect(new Set(ids).size).toBe(ids.length);
        const seen = idsByStandard.get(standard);
        if (seen) expect(ids).toEqual(seen);
        else idsByStandard.set(standard, ids);
      }
    }
    expect(idsByStandard.get(S1)).not.toEqual(idsByStandard.get(S2));
  });

  it('deterministic: the same answer twice; keys in any case; without jobrunid the latest ended run; checkidlist filters', async () => {
    const first = (await (await results({ assetid: ASSET_B, standardid: S1, jobrunid: runId })).json()) as Results;
    const again = await results({ AssetId: ASSET_B.toUpperCase(), StandardID: S1.toUpperCase(), JOBRUNID: runId.toUpperCase() });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    const latest = (await (await results({ assetid: ASSET_B, standardid: S1 })).json()) as Results;
    expect(latest.JobRunId).toBe(runId);
    expect(latest.Checks).toEqual(first.Checks);
    const wanted = [first.Checks[4]!, first.Checks[1]!];
    const filtered = await results({ assetid: ASSET_B, standardid: S1, jobrunid: runId, checkidlist: wanted.map((c) => c.CheckId) });
    expect(((await filtered.json()) as Results).Checks).toEqual([first.Checks[1], first.Checks[4]]);
    const asText = await results({
      assetid: ASSET_B,
      standardid: S1,
      jobrunid: runId,
      checkidlist: `${wanted[0]!.CheckId}, ${randomUUID()}`,
    });
    expect(((await asText.json()) as Results).Checks).toEqual([wanted[0]]);
  });

  it('explicit checks are reported as listed; a Faulted run has results too', async () => {
    const listed = [{ CheckId: randomUUID(), Name: 'Only check', Result: 'Error' as const, Severity: 'High' }, { Result: 'Pass' as const }];
    const faulted = addJob(s.sim, [['Faulted', 0]], { assets: [{ Id: ASSET_A }], standards: [S1], results: { checks: listed } });
    const run = await runTo(s, faulted, 5);
    const res = await results({ assetid: ASSET_A, standardid: S1, jobrunid: run });
    expect(res.status).toBe(200);
    const checks = ((await res.json()) as Results).Checks;
    expect(checks).toHaveLength(2);
    expect(checks[0]).toEqual(listed[0]);
    expect(checks[1]).toMatchObject({ Result: 'Pass' });
  });

  it('400 for a missing or malformed GUID and a body that is not a JSON object', async () => {
    const cases: [string, string][] = [
      ['bad assetid', JSON.stringify({ assetid: 'x', standardid: S1, jobrunid: runId })],
      ['missing standardid', JSON.stringify({ assetid: ASSET_A, jobrunid: runId })],
      ['bad jobrunid', JSON.stringify({ assetid: ASSET_A, standardid: S1, jobrunid: 42 })],
      ['bad checkidlist', JSON.stringify({ assetid: ASSET_A, standardid: S1, jobrunid: runId, checkidlist: ['nope'] })],
      ['not JSON', 'assetid=x'],
      ['an array', '[]'],
    ];
    for (const [what, body] of cases) {
      const res = await s.call('POST', '/ccs/api/v1/Results', { body });
      expect(res.status, what).toBe(400);
      expect(((await res.json()) as { Message?: unknown }).Message, what).toEqual(expect.any(String));
    }
  });

  it('404 for an unknown run, an asset or standard the run did not evaluate, a run still going or aborted', async () => {
    const other = randomUUID();
    expect((await results({ assetid: ASSET_A, standardid: S1, jobrunid: randomUUID() })).status).toBe(404);
    expect((await results({ assetid: other, standardid: S1, jobrunid: runId })).status).toBe(404);
    expect((await results({ assetid: ASSET_A, standardid: other, jobrunid: runId })).status).toBe(404);
    expect((await results({ assetid: other, standardid: S1 })).status).toBe(404);
    const slow = addJob(s.sim, [['Executing', 60]], FINDINGS_JOB);
    const running = await runTo(s, slow, 2);
    const res = await results({ assetid: ASSET_A, standardid: S1, jobrunid: running });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ Message: expect.stringContaining('No evaluation results') as unknown });
    expect((await s.call('POST', `/ccs/api/v1/jobs/${running}`, { body: '{"Operation":"abort"}' })).status).toBe(204);
    await waitFor(s, slow, running, 7);
    expect((await results({ assetid: ASSET_A, standardid: S1, jobrunid: running })).status).toBe(404);
  });
});

describe('GET /Reports', () => {
  const path = (query: string): string => `/ccs/api/v1/Reports?${query}`;

  it('ZIP bytes as an xlsx attachment, the same bytes twice, holding the run’s checks', async () => {
    const q = `assetid=${ASSET_A}&standardid=${S2}&jobrunid=${runId}&reportfiletype=excel`;
    const res = await s.call('GET', path(q));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(XLSX);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"/\\]+\.xlsx"$/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
    expect(bytes.subarray(-22, -18)).toEqual(Buffer.from('PK\x05\x06', 'latin1'));
    const again = Buffer.from(await (await s.call('GET', path(q.replace('excel', 'Excel').replace('assetid', 'AssetID')))).arrayBuffer());
    expect(again.equals(bytes)).toBe(true);
    const checks = ((await (await results({ assetid: ASSET_A, standardid: S2, jobrunid: runId })).json()) as Results).Checks;
    const text = bytes.toString('utf8');
    expect(text).toContain('CheckId,Name,Result,Severity');
    for (const c of checks) expect(text).toContain(`${c.CheckId},${c.Name},${c.Result}`);
  });

  it('400 for an unsupported or missing reportfiletype and a bad GUID; 404 for a run that did not evaluate the asset', async () => {
    const base = `assetid=${ASSET_A}&standardid=${S1}&jobrunid=${runId}`;
    const pdf = await s.call('GET', path(`${base}&reportfiletype=pdf`));
    expect(pdf.status).toBe(400);
    expect(((await pdf.json()) as { Message: string }).Message).toContain('pdf');
    expect((await s.call('GET', path(base))).status).toBe(400);
    expect((await s.call('GET', path(`assetid=x&standardid=${S1}&jobrunid=${runId}&reportfiletype=excel`))).status).toBe(400);
    expect((await s.call('GET', path(`assetid=${randomUUID()}&standardid=${S1}&jobrunid=${runId}&reportfiletype=excel`))).status).toBe(404);
  });
});

describe('the role without "View evaluation results"', () => {
  it('403 with the usual body on Results and Reports, while execute, jobruns, the job and the group work', async () => {
    const res = await results({ assetid: ASSET_A, standardid: S1, jobrunid: runId }, 'restricted');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual(FORBIDDEN);
    const report = await s.call('GET', `/ccs/api/v1/Reports?assetid=${ASSET_A}&standardid=${S1}&jobrunid=${runId}&reportfiletype=excel`, {
      user: 'restricted',
    });
    expect(report.status).toBe(403);
    expect(await report.json()).toEqual(FORBIDDEN);
    const job = addJob(s.sim, [['Executing', 60]]);
    const exec = await s.call('POST', `/ccs/api/v1/jobs/${job}`, { body: '{"Operation":"execute"}', user: 'restricted' });
    expect(exec.status).toBe(200);
    expect((await s.call('GET', `/ccs/api/v1/Jobs/${job}/jobruns`, { user: 'restricted' })).status).toBe(200);
    expect((await s.call('GET', `/ccs/api/v1/jobs/${jobId}`, { user: 'restricted' })).status).toBe(200);
    expect((await s.call('GET', `/ccs/api/v1/AssetGroup/${GROUP_G}/Assets`, { user: 'restricted' })).status).toBe(200);
    // The same request from the operator is answered: the 403 is the role's.
    expect((await results({ assetid: ASSET_A, standardid: S1, jobrunid: runId })).status).toBe(200);
  });

  it('is set through setUser, POST /__sim/users and --users; an unknown role is refused', async () => {
    s.sim.setUser('later', { password: 'l', role: 'operator-no-results' });
    const later = await s.token('later', 'l');
    const res = await fetch(`${new URL(s.sim.baseUrl).origin}/ccs/api/v1/Results`, {
      method: 'POST',
      dispatcher: s.agent,
      headers: { authorization: `Bearer ${later}`, 'content-type': 'application/json' },
      body: JSON.stringify({ assetid: ASSET_A, standardid: S1, jobrunid: runId }),
    });
    expect(res.status).toBe(403);
    const viaControl = await s.call('POST', '/__sim/users', {
      body: JSON.stringify({ name: 'ctl', password: 'c', role: 'operator-no-results' }),
    });
    expect(viaControl.status).toBe(204);
    expect((await s.call('POST', '/__sim/users', { body: JSON.stringify({ name: 'x', password: 'c', role: 'auditor' }) })).status).toBe(
      400,
    );
    expect(parseSimArgs(['--users', 'a:b:operator-no-results']).users).toEqual({ a: { password: 'b', role: 'operator-no-results' } });
    expect(() => parseSimArgs(['--users', 'a:b:auditor'])).toThrow(/--users entry "a:b:auditor"/);
  });
});

describe('resultsShape: answers a client cannot read', () => {
  for (const shape of ['xml', 'csv'] as const) {
    it(`${shape}`, async () => {
      const t = await session({ resultsShape: shape });
      try {
        const job = addJob(t.sim, [['Completed', 0]], FINDINGS_JOB);
        const run = await runTo(t, job, 4);
        const res = await t.call('POST', '/ccs/api/v1/Results', {
          body: JSON.stringify({ assetid: ASSET_A, standardid: S1, jobrunid: run }),
        });
        expect(res.status).toBe(200);
        if (shape === 'xml') {
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          const body = (await res.json()) as Record<string, unknown>;
          expect(Object.keys(body)).toEqual(['Results']);
          const xml = body.Results as string;
          expect(xml).toMatch(/^<\?xml [^>]*\?><EvaluationResults /);
          expect(xml).toContain(`JobRunId="${run}"`);
          expect(xml.match(/<Check /g)).toHaveLength(10);
          expect(xml.match(/Result="Pass"/g)).toHaveLength(7);
        } else {
          expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
          const lines = (await res.text()).trimEnd().split('\r\n');
          expect(lines[0]).toBe('CheckId,Name,Result,Severity');
          expect(lines).toHaveLength(11);
          expect(lines.filter((l) => l.includes(',Fail,'))).toHaveLength(3);
        }
      } finally {
        await close(t);
      }
    });
  }

  it('--results-shape takes checks, xml or csv and nothing else', () => {
    expect(parseSimArgs(['--results-shape', 'xml'])).toMatchObject({ resultsShape: 'xml' });
    expect(parseSimArgs([])).not.toHaveProperty('resultsShape');
    expect(() => parseSimArgs(['--results-shape', 'yaml'])).toThrow(/--results-shape must be checks, xml, csv/);
  });
});

describe('faults and counts on the findings endpoints', () => {
  it('an error on results only, a cut-off report, every endpoint counted in /__sim/stats; unknown endpoint names refused', async () => {
    const t = await session({ jobs: [] });
    try {
      const job = addJob(t.sim, [['Completed', 0]], FINDINGS_JOB);
      const run = await runTo(t, job, 4);
      const body = JSON.stringify({ assetid: ASSET_B, standardid: S2, jobrunid: run });
      const faults = await t.call('POST', '/__sim/faults', {
        body: JSON.stringify({ errorRate: 1, errorStatus: [503], endpoints: ['results'], limit: 1 }),
      });
      expect(faults.status).toBe(200);
      expect((await t.call('GET', `/ccs/api/v1/AssetGroup/${GROUP_G}/Assets`)).status).toBe(200);
      expect((await t.call('GET', `/ccs/api/v1/jobs/${job}`)).status).toBe(200);
      expect((await t.call('POST', '/ccs/api/v1/Results', { body })).status).toBe(503);
      const ok = await t.call('POST', '/ccs/api/v1/Results', { body });
      expect(ok.status).toBe(200);
      expect(tally(((await ok.json()) as Results).Checks)).toEqual({ Pass: 2, NotApplicable: 1, Fail: 1 });

      const q = `/ccs/api/v1/Reports?assetid=${ASSET_B}&standardid=${S2}&jobrunid=${run}&reportfiletype=excel`;
      const whole = Buffer.from(await (await t.call('GET', q)).arrayBuffer());
      t.sim.setFaults({ corruptRate: 1, endpoints: ['reports'], afterProcessing: true, limit: 1 });
      const cut = await t.call('GET', q);
      expect(cut.status).toBe(200);
      expect(cut.headers.get('content-type')).toBe(XLSX);
      const cutBytes = Buffer.from(await cut.arrayBuffer());
      expect(cutBytes.length).toBe(Math.floor(whole.length / 2));
      expect(whole.subarray(0, cutBytes.length).equals(cutBytes)).toBe(true);

      expect((await t.call('POST', '/__sim/faults', { body: JSON.stringify({ errorRate: 1, endpoints: ['result'] }) })).status).toBe(400);
      expect(() => t.sim.setFaults({ errorRate: 1, endpoints: ['findings' as 'results'] })).toThrow(/endpoints must be a list of/);

      const stats = (await (await t.call('GET', '/__sim/stats')).json()) as Record<string, Record<string, number>>;
      expect(stats).toMatchObject({
        assetgroup: { '200': 1 },
        job: { '200': 1 },
        results: { '503': 1, '200': 1 },
        reports: { '200': 2 },
      });
      expect(t.sim.stats().results).toEqual({ '503': 1, '200': 1 });
    } finally {
      await close(t);
    }
  });

  it('a reset reaches the new endpoints by name', async () => {
    const t = await session({ jobs: [] });
    try {
      await t.token();
      t.sim.setFaults({ resetRate: 1, endpoints: ['assetgroup'], limit: 1 });
      await expect(t.call('GET', `/ccs/api/v1/AssetGroup/${GROUP_G}/Assets`)).rejects.toThrow();
      expect((await t.call('GET', `/ccs/api/v1/AssetGroup/${randomUUID()}/Assets`)).status).toBe(404);
      expect(t.sim.stats().assetgroup).toEqual({ reset: 1, '404': 1 });
    } finally {
      await close(t);
    }
  });
});
