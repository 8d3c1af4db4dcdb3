/**
 * Every CCS dialect the documents allow, read by the client: password encoding, jobruns shapes,
 * date formats and zones, GUIDs in any dress, status as code or name, empty answers, activity items
 * that carry a JobRunID, display fields that cannot be read. Against the simulator over real sockets.
 */
import { describe, expect, it } from 'vitest';
import { parseCcsDate, parseJobRuns, parseJobStatusInfo } from '../../src/ccs/parse';
import { ErrorType, type CcsError } from '../../src/domain/errors';
import { normalizeGuid } from '../../src/domain/validation';
import type { SimulatorOptions } from '../../src/sim/server';
import { SIM_USER, addJob, clientFor, startSim } from '../helpers';

const JOB = '24f58e54-5d94-45f8-97a8-ccb6d959233a';
const RUN = '4f7415b1-303d-42cd-8b61-485485a1cb9c';
const run = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  JobRunID: RUN,
  JobID: JOB,
  Status: 2,
  JobStartTime: '2018-09-14T13:07:24.3474193Z',
  JobEndTime: '0001-01-01T00:00:00',
  ...extra,
});

async function errorOf(promise: Promise<unknown>): Promise<CcsError> {
  return promise.then(
    () => Promise.reject(new Error('expected a CcsError')),
    (err: unknown) => err as CcsError,
  );
}

describe('password encoding', () => {
  it('Base64 by default, accepted by a Base64 CCS; refused by a plain one with the other setting named', async () => {
    const base64Sim = await startSim();
    const plainSim = await startSim({ passwordEncoding: 'plain' });
    try {
      const jobId = addJob(base64Sim, [['Executing', 60]]);
      expect(await clientFor(base64Sim).getJobRuns(jobId)).toEqual([]);
      const refused = await errorOf(clientFor(plainSim).getJobRuns(addJob(plainSim, [['Executing', 60]])));
      expect(refused.type).toBe(ErrorType.AuthenticationFailed);
      expect(refused.message).toContain('if this CCS expects it as typed, set CCS_PASSWORD_ENCODING=plain');
      expect(refused.message).not.toContain(Buffer.from(SIM_USER.password).toString('base64'));
      expect(plainSim.stats().token).toEqual({ '400': 1 }); // one grant: never both encodings
      const plain = clientFor(plainSim, { passwordEncoding: 'plain' });
      expect(await plain.getJobRuns(addJob(plainSim, [['Executing', 60]]))).toEqual([]);
      const wrongWay = await errorOf(clientFor(base64Sim, { passwordEncoding: 'plain' }).getJobRuns(jobId));
      expect(wrongWay.message).toContain('if this CCS expects it Base64-encoded, set CCS_PASSWORD_ENCODING=base64');
    } finally {
      await base64Sim.close();
      await plainSim.close();
    }
  });
});

describe('the shape of jobruns', () => {
  it('reads an array, a wrapper, a single flat run, and every empty form as the runs they are', () => {
    expect(parseJobRuns([run()], JOB)).toHaveLength(1);
    expect(parseJobRuns({ JobRuns: [run()], Count: 1 }, JOB)).toHaveLength(1);
    expect(parseJobRuns(run(), JOB)).toHaveLength(1);
    expect(parseJobRuns({ JobStatusInfo: run() }, JOB)).toHaveLength(1);
    for (const empty of [null, '', [], {}, { JobRuns: [] }, { JobRuns: [], Count: 0 }])
      expect(parseJobRuns(empty, JOB), JSON.stringify(empty)).toEqual([]);
  });

  it('a flat run is not mistaken for a list: its ActivityStatusList is not read as runs', () => {
    const flat = run({ ActivityStatusList: [] });
    expect(parseJobRuns(flat, JOB)).toMatchObject([{ jobRunId: RUN }]);
  });

  it('never takes activity items that carry a JobRunID for runs, and picks the runs of the asked job from two lists', () => {
    const activities = [{ JobRunID: RUN, ActivityName: 'Collect', Status: 2 }];
    expect(parseJobRuns([run({ ActivityStatusList: activities })], JOB)).toHaveLength(1);
    expect(parseJobRuns([...activities, run()], JOB)).toHaveLength(1);
    const other = '11111111-2222-3333-4444-555555555555';
    expect(parseJobRuns({ Activities: [{ JobRunID: other, JobID: other, Status: 2 }], JobRuns: [run()] }, JOB)).toMatchObject([
      { jobRunId: RUN },
    ]);
  });
});

describe('GUIDs, dates, display fields', () => {
  it('normalises GUIDs in braces, upper case or without hyphens', () => {
    for (const dressed of [`{${RUN}}`, RUN.toUpperCase(), RUN.replace(/-/g, ''), `{${RUN.toUpperCase()}}`])
      expect(normalizeGuid(dressed), dressed).toBe(RUN);
    for (const wrong of ['4f7415b1303d-42cd-8b61-485485a1cb9c', '{4f7415b1}', RUN.slice(1), 'x'.repeat(32)])
      expect(normalizeGuid(wrong), wrong).toBeNull();
    expect(parseJobStatusInfo(run({ JobRunID: `{${RUN.toUpperCase()}}`, JobID: JOB.replace(/-/g, '') }))).toMatchObject({
      jobRunId: RUN,
      jobId: JOB,
    });
  });

  it('reads /Date(ms)/, its "not set" value, and offset-less dates as the server’s local time', () => {
    expect(parseCcsDate('/Date(1732780800000)/')).toBe('2024-11-28T08:00:00.000Z');
    expect(parseCcsDate('/Date(1732780800000+0100)/')).toBe('2024-11-28T08:00:00.000Z');
    expect(parseCcsDate('/Date(-62135596800000)/')).toBeNull();
    expect(parseCcsDate('2024-11-28T09:00:00')).toBe('2024-11-28T09:00:00.000Z');
    expect(parseCcsDate('2024-11-28T09:00:00', { timeZone: 'Europe/Paris' })).toBe('2024-11-28T08:00:00.000Z');
    expect(parseCcsDate('2024-07-01T09:00:00.250', { timeZone: 'Europe/Paris' })).toBe('2024-07-01T07:00:00.250Z');
    expect(parseCcsDate('2024-11-28T09:00:00Z', { timeZone: 'Europe/Paris' })).toBe('2024-11-28T09:00:00.000Z');
  });

  it('keeps a display field it cannot read raw and reports it; a deciding field stays strict', () => {
    const parsed = parseJobStatusInfo(run({ JobStartTime: 'yesterday', ActivityStatusList: 'n/a', Messages: 'none' }));
    expect(parsed).toMatchObject({
      jobRunId: RUN,
      status: 'Executing',
      startTime: null,
      activities: [],
      unreadable: { JobStartTime: 'yesterday', ActivityStatusList: '"n/a"', Messages: '"none"' },
    });
    expect(() => parseJobStatusInfo(run({ Status: null }))).toThrow(expect.objectContaining({ type: 'CcsProtocolError' }) as Error);
    expect(() => parseJobStatusInfo(run({ JobEndTime: '/Date(abc)/' }))).toThrow(
      expect.objectContaining({ type: 'CcsProtocolError' }) as Error,
    );
  });

  it('reads message fields under the reference’s names and tolerant variants', () => {
    const messages = [
      { Time: '2024-05-14T10:31:12', Message: 'a' },
      { TimeStamp: '2024-05-14T10:31:13', Text: 'b' },
      { MessageText: 'c' },
      { Other: 'd' },
    ];
    expect(parseJobStatusInfo(run({ Messages: messages })).messages).toEqual([
      { time: '2024-05-14T10:31:12.000Z', text: 'a' },
      { time: '2024-05-14T10:31:13.000Z', text: 'b' },
      { time: null, text: 'c' },
      { time: null, text: '{"Other":"d"}' },
    ]);
  });
});

describe('the client against each simulator dialect', () => {
  const dialects: [string, SimulatorOptions, Parameters<typeof clientFor>[1]][] = [
    ['jobruns wrapped', { jobrunsShape: 'wrapped' }, {}],
    ['jobruns flat', { jobrunsShape: 'flat' }, {}],
    ['jobruns oldest first', { jobrunsOrder: 'oldest' }, {}],
    ['dates iso', { dateFormat: 'iso' }, {}],
    ['dates msjson', { dateFormat: 'msjson' }, {}],
    ['dates local (Europe/Paris)', { dateFormat: 'local', timeZone: 'Europe/Paris' }, { timeZone: 'Europe/Paris' }],
    ['GUIDs upper', { guidFormat: 'upper' }, {}],
    ['GUIDs in braces', { guidFormat: 'braces' }, {}],
    ['GUIDs without hyphens', { guidFormat: 'nohyphens' }, {}],
    ['status as name', { statusFormat: 'name' }, {}],
    ['415 without Content-Type', { requireContentType: true }, {}],
    ['password plain', { passwordEncoding: 'plain' }, { passwordEncoding: 'plain' }],
  ];
  it.each(dialects)('%s: execute, read, abort, read the end with the right times', async (_name, simOptions, clientOptions) => {
    const sim = await startSim(simOptions);
    const client = clientFor(sim, clientOptions);
    try {
      const jobId = addJob(sim, [['Executing', 60]]);
      const started = await client.executeJob(jobId);
      const simRun = sim.state.runsOf(jobId)[0]!;
      expect(started).toMatchObject({ jobId, jobRunId: simRun.JobRunID, status: 'Executing', endTime: null });
      expect(Math.abs(Date.parse(started.startTime!) - simRun.startedAt)).toBeLessThan(1000);
      await client.abortJobRun(started.jobRunId);
      const ended = await client.getJobRun(jobId, started.jobRunId, { showMessages: true });
      expect(ended.status).toBe('Aborted');
      expect(Math.abs(Date.parse(ended.endTime!) - sim.state.view(simRun).endedAt!)).toBeLessThan(1000);
      expect(ended.unreadable).toBeUndefined();
    } finally {
      await client.close();
      await sim.close();
    }
  });
});
