/**
 * Validation errors under the flag the user typed: the field is known from the error (`field`) or
 * by checking the input one field at a time, never guessed from the message's first word.
 */
import { describe, expect, it } from 'vitest';
import { checkedByField, flagError } from '../../src/cli/flag-errors';
import { jobInput } from '../../src/cli/run-command';
import { reconcileInput } from '../../src/cli/reconcile';
import { parseCommandLine } from '../../src/cli/spec';
import { COMMANDS } from '../../src/cli/commands';
import { checkedRunCcsJobInput } from '../../src/domain/job-workflow';
import { invalidInput, parseDuration, requireGuid } from '../../src/domain/validation';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';

function runError(...flags: string[]): string {
  const { flags: values } = parseCommandLine(['run', ...flags], COMMANDS);
  try {
    jobInput(JOB, values);
  } catch (err) {
    return (err as Error).message;
  }
  return '(accepted)';
}

describe('validators say which field', () => {
  it('requireGuid and parseDuration set field on the CcsInvalidInput they throw', () => {
    expect(() => requireGuid('jobId', 'x')).toThrow(expect.objectContaining({ type: 'CcsInvalidInput', field: 'jobId' }));
    expect(() => parseDuration('timeout', 'soon')).toThrow(expect.objectContaining({ type: 'CcsInvalidInput', field: 'timeout' }));
  });
});

describe('flagError', () => {
  const flags = { pollInterval: '--poll' };
  it('replaces the field the message opens with by the flag', () => {
    expect((flagError(invalidInput('pollInterval must be at least 1000 ms', 'pollInterval'), flags) as Error).message).toBe(
      '--poll must be at least 1000 ms',
    );
  });
  it('puts the flag in front of a message that does not open with the field', () => {
    expect((flagError(invalidInput('too short', 'pollInterval'), flags) as Error).message).toBe('--poll: too short');
  });
  it('leaves a field without a flag, and a word that only starts like the field, alone', () => {
    expect((flagError(invalidInput('pollIntervals must be few', 'pollInterval'), flags) as Error).message).toBe(
      '--poll: pollIntervals must be few',
    );
    expect((flagError(invalidInput('jobId must be a GUID', 'jobId'), flags) as Error).message).toBe('jobId must be a GUID');
  });
  it('returns errors other than CcsInvalidInput unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(flagError(bug, flags)).toBe(bug);
  });
});

describe('checkedByField', () => {
  it('names the field whose addition made the input invalid, whatever the message says', () => {
    const validate = (i: { a?: number; b?: number }): number => {
      if ((i.a ?? 0) + (i.b ?? 0) > 10) throw invalidInput('the sum is too large');
      return (i.a ?? 0) + (i.b ?? 0);
    };
    expect(() => checkedByField({ a: 6, b: 6 }, ['a', 'b'], validate, { a: '--a', b: '--b' })).toThrow('--b: the sum is too large');
    expect(checkedByField({ a: 4, b: 6 }, ['a', 'b'], validate, { a: '--a', b: '--b' })).toBe(10);
  });
});

describe('run and reconcile flags in their errors', () => {
  it.each([
    [['--poll', '100ms'], /^--poll must be at least 1000 ms; got "100ms"$/],
    [['--poll', 'sometimes'], /^--poll must be a duration/],
    [['--poll', '5m', '--max-poll', '1m'], /^--max-poll \("1m"\) must not be shorter than/],
    [['--timeout', '1y'], /^--timeout must be a duration/],
    [['--if-running', 'maybe'], /^--if-running must be "fail" or "attach"/],
    [['--expect', 'later'], /^--expect must be a duration/],
    [['--expect-factor', '2'], /^--expect-factor applies only to/],
    [['--expect', 'auto', '--expect-factor', '99'], /^--expect-factor must be a number from/],
    [['--ccs', 'a b'], /^--ccs must name a configured CCS server/],
  ])('run %j: %s', (flags, message) => {
    expect(runError(...flags)).toMatch(message);
  });

  it('run with good flags passes the input on, JobID normalised', () => {
    const { flags } = parseCommandLine(['run', '--poll', '1m', '--expect', 'auto', '--expect-factor', '2'], COMMANDS);
    expect(jobInput(JOB.toUpperCase(), flags)).toEqual(
      checkedRunCcsJobInput({ jobId: JOB, pollInterval: '1m', expectedDuration: 'auto', expectedDurationFactor: 2 }),
    );
  });

  it.each([
    [{}, /^ccs-jobs reconcile needs exactly one of --jobs .* got none$/],
    [{ jobs: JOB, recent: '7d' }, /got --jobs and --recent$/],
    [{ jobs: 'nope' }, /^--jobs holds "nope", which is not a JobID/],
    [{ recent: '10s' }, /^--recent must be from 1m to 366d/],
    [{ recent: '7d', policy: 'nuke' }, /^--policy must be report, adopt or abort/],
    [{ recent: '7d', maxRequests: '0' }, /^--max-requests must be a whole number/],
    [{ recent: '7d', ccs: '../x' }, /^--ccs must name a configured CCS server/],
  ])('reconcile %j: %s', (options, message) => {
    expect(() => reconcileInput(options)).toThrow(message);
  });
});
