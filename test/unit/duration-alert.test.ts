/**
 * The arithmetic behind duration alerts (issue 18, part 4), without a server: the p95 of a job's
 * history by nearest rank, which runs count, and the input that asks for it. The alert itself, on a
 * running workflow, is tested in test/integration/duration-alert.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectedFromHistory, p95 } from '../../src/domain/duration-alert';
import type { JobRun } from '../../src/domain/job-run';
import { validateRunCcsJobInput } from '../../src/domain/job-workflow';

describe('expected duration from history', () => {
  const run = (start: string, end: string | null, status = 'Completed'): JobRun => ({
    jobRunId: randomUUID(),
    jobId: 'j',
    status,
    statusCode: null,
    startTime: start,
    endTime: end,
    customStatusText: null,
    exception: null,
    summary: null,
    activities: [],
  });

  it('p95 by nearest rank; only Completed runs with both times count; three are needed', () => {
    expect(p95([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(10);
    expect(p95([5, 1, 3])).toBe(5);
    const history = [
      run('2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z'),
      run('2026-01-02T00:00:00Z', '2026-01-02T00:20:00Z'),
      run('2026-01-03T00:00:00Z', '2026-01-03T05:00:00Z', 'Faulted'),
      run('2026-01-04T00:00:00Z', null, 'Executing'),
    ];
    expect(expectedFromHistory(history, 1.5)).toBeNull();
    history.push(run('2026-01-05T00:00:00Z', '2026-01-05T00:30:00Z'));
    expect(expectedFromHistory(history, 1.5)).toEqual({ ms: 45 * 60_000, basis: 'p95 of 3 completed runs (30m) × 1.5' });
  });

  it('input: a duration or "auto"; the factor only with auto, from 1 to 10', () => {
    const jobId = randomUUID();
    expect(validateRunCcsJobInput({ jobId, expectedDuration: '45m' }).expected).toEqual({ ms: 2_700_000 });
    expect(validateRunCcsJobInput({ jobId, expectedDuration: 'auto' }).expected).toEqual({ auto: 1.5 });
    expect(validateRunCcsJobInput({ jobId, expectedDuration: 'auto', expectedDurationFactor: 2 }).expected).toEqual({ auto: 2 });
    expect(() => validateRunCcsJobInput({ jobId, expectedDurationFactor: 2 })).toThrow(
      /^expectedDurationFactor applies only to expectedDuration "auto"/,
    );
    expect(() => validateRunCcsJobInput({ jobId, expectedDuration: 'auto', expectedDurationFactor: 0.5 })).toThrow(
      /^expectedDurationFactor must be a number from 1 to 10/,
    );
    expect(() => validateRunCcsJobInput({ jobId, expectedDuration: 'soon' })).toThrow(/^expectedDuration /);
  });
});
