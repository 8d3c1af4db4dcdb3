import { describe, expect, it } from 'vitest';
import { validateRunCcsJobInput } from '../../src/domain/job-workflow';
import { formatDuration, parseDuration } from '../../src/domain/validation';

const JOB = '24f58e54-5d94-45f8-97a8-ccb6d959233a';

describe('runCcsJob input', () => {
  it('applies defaults and lower-cases the GUID', () => {
    expect(validateRunCcsJobInput({ jobId: JOB.toUpperCase() })).toEqual({
      jobId: JOB, ccs: 'default', pollIntervalMs: 30_000, maxPollIntervalMs: 300_000, timeoutMs: null, ifRunning: 'fail', abortConfirmTimeoutMs: 300_000, resume: null,
    });
    expect(validateRunCcsJobInput({ jobId: JOB, pollInterval: '10m', timeout: '8h', ifRunning: 'attach' })).toMatchObject({
      pollIntervalMs: 600_000, maxPollIntervalMs: 600_000, timeoutMs: 8 * 3_600_000, ifRunning: 'attach',
    });
  });
});

describe('durations', () => {
  it.each([['30s', 30_000], ['1h30m', 5_400_000], ['500ms', 500], ['2d', 172_800_000], [1500, 1500], ['1.5s', 1500], ['250', 250]])('%j is %d ms', (text, ms) => {
    expect(parseDuration('x', text)).toBe(ms);
  });
  it.each([['-1s'], ['10 minutes'], ['s'], [''], [-5], [Number.NaN], [null], ['1h 30m'], ['30S']])('%j is refused naming the field', (bad) => {
    expect(() => parseDuration('pollInterval', bad)).toThrow(/^pollInterval must be a duration such as "30s"/);
  });
  it('formats durations back', () => {
    expect([500, 30_000, 90_000, 5_400_000, 90_061_000].map(formatDuration)).toEqual(['500ms', '30s', '1m30s', '1h30m', '1d1h1m1s']);
  });
});
