/**
 * Bad input fails the workflow at once, non-retryable, with a message naming the field, and sends
 * nothing to CCS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunCcsJobInput } from '../../src/domain/contract';
import type { Simulator } from '../../src/sim/server';
import { type TestWorker, addJob, failureOf, recordHistory, startRun, startSim, startWorker } from '../helpers';

let sim: Simulator;
let w: TestWorker;
let jobId: string;

beforeAll(async () => {
  sim = await startSim();
  w = await startWorker(sim);
  jobId = addJob(sim, [['Completed', 0]]);
});
afterAll(async () => {
  await w?.stop();
  await sim?.close();
});

const CASES: [string, (jobId: string) => unknown, RegExp][] = [
  ['missing jobId', () => ({}), /^jobId is required/],
  ['jobId in braces', () => ({ jobId: '{24f58e54-5d94-45f8-97a8-ccb6d959233a}' }), /^jobId must be a GUID like .* got "\{24f58e54/],
  ['jobId too short', () => ({ jobId: '24f58e54-5d94-45f8-97a8' }), /^jobId must be a GUID/],
  ['jobId a number', () => ({ jobId: 42 }), /^jobId must be a GUID.*got 42$/],
  ['jobId a huge string', () => ({ jobId: 'x'.repeat(100_000) }), /^input holds a text of 100000 characters \(at most 4096\)$/],
  ['negative pollInterval', (id) => ({ jobId: id, pollInterval: '-5s' }), /^pollInterval must be a duration/],
  ['unparsable pollInterval', (id) => ({ jobId: id, pollInterval: 'often' }), /^pollInterval must be a duration.*got "often"/],
  ['pollInterval below a second', (id) => ({ jobId: id, pollInterval: '100ms' }), /^pollInterval must be at least 1000 ms/],
  ['pollInterval as an object', (id) => ({ jobId: id, pollInterval: { seconds: 30 } }), /^pollInterval must be a duration/],
  [
    'maxPollInterval below pollInterval',
    (id) => ({ jobId: id, pollInterval: '1m', maxPollInterval: '30s' }),
    /^maxPollInterval \("30s"\) must not be shorter than pollInterval/,
  ],
  ['negative timeout', (id) => ({ jobId: id, timeout: -1000 }), /^timeout must be a duration/],
  ['zero timeout', (id) => ({ jobId: id, timeout: '0s' }), /^timeout must be at least 1000 ms/],
  ['unknown ifRunning', (id) => ({ jobId: id, ifRunning: 'queue' }), /^ifRunning must be "fail" or "attach"; got "queue"/],
  [
    'unknown field',
    (id) => ({ jobId: id, pollIntervall: '30s' }),
    /^unknown field "pollIntervall" in input; allowed fields: jobId, ccs, pollInterval/,
  ],
  ['input not an object', () => 'just-a-string', /^input must be an object/],
  ['input null', () => null, /^input must be an object/],
  ['a forged resume', (id) => ({ jobId: id, resume: { jobRunId: 'x' } }), /^resume is internal/],
  [
    'a well-formed resume from a caller (not a continuation)',
    (id) => ({
      jobId: id,
      resume: {
        jobRunId: '4f7415b1-303d-42cd-8b61-485485a1cb9c',
        adopted: false,
        polls: 0,
        deadlineAt: null,
        status: 'Executing',
        statusCode: 2,
        customStatusText: null,
        lastChangeAt: '2026-11-28T00:00:00.000Z',
      },
    }),
    /^resume is internal to continue-as-new/,
  ],
  ['pollInterval of 1e308 ms', (id) => ({ jobId: id, pollInterval: 1e308 }), /^pollInterval must be at most 1d; got 1e\+308$/],
  ['maxPollInterval over a day', (id) => ({ jobId: id, maxPollInterval: '2d' }), /^maxPollInterval must be at most 1d; got "2d"$/],
  ['timeout of 99999999 days', (id) => ({ jobId: id, timeout: '99999999d' }), /^timeout must be at most 366d; got "99999999d"$/],
  [
    'an input 50 levels deep (20,000 levels cannot even be sent: the unit tier checks those)',
    (id) => ({ jobId: id, ccs: deep(50) }),
    /^input is nested too deeply \(more than 6 levels\)/,
  ],
];

function deep(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
}

describe('runCcsJob input validation', () => {
  it.each(CASES)('%s fails CcsInvalidInput at once', async (_name, make, message) => {
    const before = JSON.stringify(sim.stats());
    const handle = await startRun(w, make(jobId) as RunCcsJobInput);
    const failure = await failureOf(handle.result());
    if (_name === 'unknown field') await recordHistory(handle, 'invalid-input');
    expect(failure.type).toBe('CcsInvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain('\n');
    expect(JSON.stringify(sim.stats())).toBe(before); // nothing was sent to CCS
  });

  it('no case created a run', () => {
    expect(sim.state.runs.size).toBe(0);
  });
});
