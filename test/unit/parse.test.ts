import { describe, expect, it } from 'vitest';
import { parseCcsDate, parseJobRuns, parseJobStatusInfo, parseStatus } from '../../src/ccs/parse';
import { isTerminalStatus } from '../../src/domain/job-run';

// The documented sample reply of the Job Operation page, as published.
const SAMPLE =
  '{"JobRunID":"4f7415b1-303d-42cd-8b61-485485a1cb9c", "JobID":"24f58e54-5d94-45f8-97a8-ccb6d959233a", "CustomStatusText":"","Exception":null, "JobStartTime":"2018-09-14T13:07:24.3474193Z", "JobEndTime":"0001-01-01T00:00:00", "JobSummary":null,"Status":2, "ActivityStatusList":[]}';

describe('JobStatusInfo', () => {
  it('reads the vendor sample, flat and wrapped, to the same run', () => {
    const flat = parseJobStatusInfo(JSON.parse(SAMPLE));
    const wrapped = parseJobStatusInfo({ JobStatusInfo: JSON.parse(SAMPLE) as unknown });
    expect(flat).toEqual(wrapped);
    expect(flat).toEqual({
      jobRunId: '4f7415b1-303d-42cd-8b61-485485a1cb9c',
      jobId: '24f58e54-5d94-45f8-97a8-ccb6d959233a',
      status: 'Executing',
      statusCode: 2,
      startTime: '2018-09-14T13:07:24.347Z',
      endTime: null,
      customStatusText: '',
      exception: null,
      summary: null,
      activities: [],
    });
  });

  it('reads GUIDs in upper case and keys in any case', () => {
    const run = parseJobStatusInfo({
      jobrunid: '4F7415B1-303D-42CD-8B61-485485A1CB9C',
      JOBID: '24F58E54-5D94-45F8-97A8-CCB6D959233A',
      status: 'completed',
    });
    expect(run).toMatchObject({ jobRunId: '4f7415b1-303d-42cd-8b61-485485a1cb9c', status: 'Completed', statusCode: 4 });
  });

  it('keeps messages and error count read with showmessages', () => {
    const [run] = parseJobRuns([
      { ...(JSON.parse(SAMPLE) as object), Status: 5, ErrorCount: 1, Messages: [{ Time: '2024-05-14T10:31:12', Message: 'host down' }] },
    ]);
    expect(run).toMatchObject({ status: 'Faulted', errorCount: 1, messages: [{ time: '2024-05-14T10:31:12.000Z', text: 'host down' }] });
  });

  it('reads message texts under tolerant names; one under no known name is kept raw, bounded, and flagged', () => {
    const [run] = parseJobRuns([
      {
        ...(JSON.parse(SAMPLE) as object),
        Messages: [
          { TimeStamp: '2024-05-14T10:31:12Z', MessageText: 'asset 3 unreachable' },
          { Severity: 2, Body: 'x'.repeat(500) },
        ],
      },
    ]);
    expect(run!.messages![0]).toEqual({ time: '2024-05-14T10:31:12.000Z', text: 'asset 3 unreachable' });
    expect(run!.messages![1]!.text.length).toBe(200);
    expect(run!.messages![1]!.text).toMatch(/^\{"Severity":2,"Body":"xxx/);
    expect(Object.keys(run!.unreadable ?? {})).toEqual(['Messages']);
    expect(run!.unreadable!.Messages).toMatch(/^no message text under Message, Text, .*: kept raw$/);
  });

  it.each([
    ['an HTML page', '<html>'],
    ['no JobRunID', { JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a', Status: 2 }],
    ['a JobRunID that is not a GUID', { JobRunID: 42, JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a', Status: 2 }],
    ['Status missing', { JobRunID: '4f7415b1-303d-42cd-8b61-485485a1cb9c', JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a' }],
    [
      'an end time that is not a date (it decides whether the run ended)',
      {
        JobRunID: '4f7415b1-303d-42cd-8b61-485485a1cb9c',
        JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a',
        Status: 2,
        JobEndTime: 'yesterday',
      },
    ],
    ['Status null', { JobRunID: '4f7415b1-303d-42cd-8b61-485485a1cb9c', JobID: '24f58e54-5d94-45f8-97a8-ccb6d959233a', Status: null }],
  ])('rejects %s as CcsProtocolError', (_what, body) => {
    expect(() => parseJobStatusInfo(body)).toThrow(expect.objectContaining({ type: 'CcsProtocolError' }) as Error);
  });

  it('reads a job-runs list, bare or in a one-array envelope', () => {
    expect(parseJobRuns([])).toEqual([]);
    expect(parseJobRuns({ JobRuns: [JSON.parse(SAMPLE)] })).toHaveLength(1);
    expect(() => parseJobRuns({ Message: 'x' })).toThrow(/list of job runs/);
  });
});

describe('Status', () => {
  it.each([
    [0, 'None', 0],
    [1, 'Pending', 1],
    [3, 'Idle', 3],
    [4, 'Completed', 4],
    [5, 'Faulted', 5],
    [6, 'Custom', 6],
    [7, 'Aborted', 7],
    ['EXECUTING', 'Executing', 2],
    ['aborted', 'Aborted', 7],
    ['4', 'Completed', 4],
    [9, '9', null],
    ['Paused', 'Paused', null],
  ])('%j is %s', (raw, status, code) => {
    expect(parseStatus(raw)).toEqual({ status, statusCode: code });
  });

  it('only Completed, Faulted and Aborted end a run; unknown values do not', () => {
    expect(['None', 'Pending', 'Executing', 'Idle', 'Custom', '9', 'Paused'].filter(isTerminalStatus)).toEqual([]);
    expect(['Completed', 'Faulted', 'Aborted'].every(isTerminalStatus)).toBe(true);
  });

  it.each([[null], [true], [''], [1.5], [{}]])('rejects %j', (raw) => {
    expect(() => parseStatus(raw)).toThrow(/Status was/);
  });
});

describe('dates', () => {
  it.each([
    ['0001-01-01T00:00:00', null],
    ['2018-09-14T13:07:24.3474193Z', '2018-09-14T13:07:24.347Z'],
    ['2018-09-14T13:07:24Z', '2018-09-14T13:07:24.000Z'],
    ['2018-09-14T13:07:24', '2018-09-14T13:07:24.000Z'],
    ['2018-09-14T13:07:24.5', '2018-09-14T13:07:24.500Z'],
    ['2018-11-18T02:14:27.5120788-08:00', '2018-11-18T10:14:27.512Z'],
    ['2018-11-18T02:14:27+0530', '2018-11-17T20:44:27.000Z'],
    [null, null],
  ])('%j → %j', (raw, iso) => {
    expect(parseCcsDate(raw)).toBe(iso);
  });

  it('rejects 8 fraction digits and garbage', () => {
    expect(() => parseCcsDate('2018-09-14T13:07:24.12345678Z')).toThrow(/unreadable date-time/);
    expect(() => parseCcsDate(20180914)).toThrow(/date-time was number/);
  });
});
