import { describe, expect, it } from 'vitest';
import { validateRunCcsJobInput } from '../../src/domain/job-workflow';
import { formatDuration, parseDuration } from '../../src/domain/validation';

const JOB = '24f58e54-5d94-45f8-97a8-ccb6d959233a';

describe('runCcsJob input', () => {
  it('applies defaults and lower-cases the GUID', () => {
    expect(validateRunCcsJobInput({ jobId: JOB.toUpperCase() })).toEqual({
      jobId: JOB,
      ccs: 'default',
      pollIntervalMs: 30_000,
      maxPollIntervalMs: 300_000,
      timeoutMs: null,
      ifRunning: 'fail',
      abortConfirmTimeoutMs: 300_000,
      heartbeatTimeoutMs: 60_000,
      liveMessagesEvery: 4,
      unknownStatusAttentionAfterMs: 900_000,
      expected: null,
      resume: null,
    });
    expect(validateRunCcsJobInput({ jobId: JOB, pollInterval: '10m', timeout: '8h', ifRunning: 'attach' })).toMatchObject({
      pollIntervalMs: 600_000,
      maxPollIntervalMs: 600_000,
      timeoutMs: 8 * 3_600_000,
      ifRunning: 'attach',
    });
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    [1500, 1500],
    ['1.5s', 1500],
    ['250', 250],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration('x', text)).toBe(ms);
  });
  it.each([['-1s'], ['10 minutes'], ['s'], [''], [-5], [Number.NaN], [null], ['1h 30m'], ['30S']])(
    '%j is refused naming the field',
    (bad) => {
      expect(() => parseDuration('pollInterval', bad)).toThrow(/^pollInterval must be a duration such as "30s"/);
    },
  );
  it('formats durations back', () => {
    expect([500, 30_000, 90_000, 5_400_000, 90_061_000].map(formatDuration)).toEqual(['500ms', '30s', '1m30s', '1h30m', '1d1h1m1s']);
  });
});

describe('upper bounds and shape (everything a user can type is bounded)', () => {
  const JOB = '24f58e54-5d94-45f8-97a8-ccb6d959233a';
  let deep: unknown = 'bottom';
  for (let i = 0; i < 20_000; i++) deep = { next: deep };
  it.each<[string, unknown, string]>([
    ['pollInterval over a day', { jobId: JOB, pollInterval: '25h' }, 'pollInterval must be at most 1d; got "25h"'],
    ['pollInterval of 1e308 ms', { jobId: JOB, pollInterval: 1e308 }, 'pollInterval must be at most 1d; got 1e+308'],
    ['maxPollInterval over a day', { jobId: JOB, maxPollInterval: 172_800_000 }, 'maxPollInterval must be at most 1d; got 172800000'],
    ['timeout over a year', { jobId: JOB, timeout: '99999999d' }, 'timeout must be at most 366d; got "99999999d"'],
    [
      'abortConfirmTimeout over a year',
      { jobId: JOB, abortConfirmTimeout: '400d' },
      'abortConfirmTimeout must be at most 366d; got "400d"',
    ],
    [
      'an input 20,000 levels deep',
      { jobId: JOB, ccs: deep },
      'input is nested too deeply (more than 6 levels); a runCcsJob input is a few fields like {"jobId": "<GUID>"}',
    ],
    [
      'an input of 10,000 values',
      { jobId: JOB, ccs: Array.from({ length: 10_000 }, (_, i) => i) },
      'input is too large (more than 200 values); a runCcsJob input is a few fields like {"jobId": "<GUID>"}',
    ],
    ['a 1 MB text', { jobId: JOB, ccs: 'x'.repeat(1 << 20) }, 'input holds a text of 1048576 characters (at most 4096)'],
  ])('%s: one line naming the field', (_name, input, message) => {
    expect(() => validateRunCcsJobInput(input)).toThrow(message);
  });

  it('a day and a year are still accepted', () => {
    expect(validateRunCcsJobInput({ jobId: JOB, pollInterval: '1d', maxPollInterval: '1d', timeout: '366d' })).toMatchObject({
      pollIntervalMs: 86_400_000,
      timeoutMs: 366 * 86_400_000,
    });
  });
});
