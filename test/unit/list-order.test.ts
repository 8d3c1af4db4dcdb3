/**
 * No dependence on the order CCS lists runs in (issue 26, part 4): "the latest run", "the last good
 * run", "the run in progress", the duration history and a reconcile's runs are chosen by the runs'
 * own times. The pure helpers on shuffled lists, then the simulator listing oldest first over real
 * sockets: executeJob's "already running" look and `ccs check`. No Temporal.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createActivities, type CcsActivities } from '../../src/activities';
import { diagnose } from '../../src/ccs/first-contact';
import { expectedFromHistory } from '../../src/domain/duration-alert';
import { ErrorType } from '../../src/domain/errors';
import { lastCompletedRun, latestRunInProgress, newestFirst, type JobRun } from '../../src/domain/job-run';
import { lastToClose, runsToReconcile } from '../../src/domain/reconcile';
import { parseSimArgs } from '../../src/sim/cli';
import { SIM_USER, addJob, clientFor, startSim } from '../helpers';

const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const HOUR = 3_600_000;

let ids = 0;
function run(
  status: string,
  startTime: string | null,
  endTime: string | null = null,
  jobRunId = `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
): JobRun {
  return {
    jobId: JOB,
    jobRunId,
    status,
    statusCode: null,
    startTime,
    endTime,
    customStatusText: null,
    exception: null,
    summary: null,
    activities: [],
  };
}

/** Every rotation and the reversal of `list`: orders a CCS might list the same runs in. */
function orders<T>(list: T[]): T[][] {
  return [...list.map((_, i) => [...list.slice(i), ...list.slice(0, i)]), [...list].reverse()];
}

describe('ordering runs by their own times', () => {
  it('newest first by start time; missing or unreadable times last; ties by JobRunID; the same for any list order', () => {
    const a = run('Completed', '2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z', 'aaaaaaaa-0000-4000-8000-000000000000');
    const b = run('Completed', '2026-01-03T00:00:00.000Z', '2026-01-03T00:10:00.000Z', 'bbbbbbbb-0000-4000-8000-000000000000');
    const tiedLow = run('Faulted', '2026-01-02T00:00:00.000Z', '2026-01-02T00:05:00.000Z', '11111111-0000-4000-8000-000000000000');
    const tiedHigh = run('Faulted', '2026-01-02T00:00:00.000Z', '2026-01-02T00:06:00.000Z', '22222222-0000-4000-8000-000000000000');
    const noStart = run('Executing', null, null, '33333333-0000-4000-8000-000000000000');
    const unreadable = run('Executing', 'yesterday', null, '44444444-0000-4000-8000-000000000000');
    for (const listed of orders([a, b, tiedLow, tiedHigh, noStart, unreadable])) {
      expect(newestFirst(listed).map((r) => r.jobRunId)).toEqual([b, tiedLow, tiedHigh, a, noStart, unreadable].map((r) => r.jobRunId));
      expect(newestFirst(listed, 'endTime').map((r) => r.jobRunId)).toEqual(
        [b, tiedHigh, tiedLow, a, noStart, unreadable].map((r) => r.jobRunId),
      );
    }
  });

  it('the last good run is the Completed run that ended last, even one that started before another', () => {
    const longFresh = run('Completed', '2026-01-01T00:00:00Z', '2026-01-02T12:00:00Z');
    const shortOlder = run('Completed', '2026-01-02T00:00:00Z', '2026-01-02T00:30:00Z');
    const faultedNewest = run('Faulted', '2026-01-02T13:00:00Z', '2026-01-02T13:10:00Z');
    const going = run('Executing', '2026-01-02T14:00:00Z');
    for (const listed of orders([longFresh, shortOlder, faultedNewest, going])) expect(lastCompletedRun(listed)).toBe(longFresh);
    expect(lastCompletedRun([faultedNewest, going, run('Completed', '2026-01-01T00:00:00Z', 'soon')])).toBeUndefined();
  });

  it('the run in progress is the latest one going', () => {
    const older = run('Executing', '2026-01-01T00:00:00Z');
    const newer = run('Pending', '2026-01-01T01:00:00Z');
    const ended = run('Completed', '2026-01-01T02:00:00Z', '2026-01-01T02:01:00Z');
    for (const listed of orders([older, newer, ended])) expect(latestRunInProgress(listed)).toBe(newer);
    expect(latestRunInProgress([ended])).toBeUndefined();
  });

  it('"auto" reads the 10 completed runs that ended last, however many CCS answered and in whatever order', () => {
    // Listed oldest first: five slow runs a year ago, then ten 10-minute runs lately.
    const start = Date.parse('2026-01-01T00:00:00Z');
    const slow = Array.from({ length: 5 }, (_, i) =>
      run('Completed', new Date(start + i * HOUR * 2).toISOString(), new Date(start + i * HOUR * 2 + HOUR).toISOString()),
    );
    const recent = Array.from({ length: 10 }, (_, i) =>
      run(
        'Completed',
        new Date(start + 300 * 24 * HOUR + i * HOUR).toISOString(),
        new Date(start + 300 * 24 * HOUR + i * HOUR + 600_000).toISOString(),
      ),
    );
    for (const listed of [[...slow, ...recent], [...recent, ...slow].reverse(), [...recent, ...slow]]) {
      expect(expectedFromHistory(listed, 1.5)).toEqual({ ms: 900_000, basis: 'p95 of 10 completed runs (10m) × 1.5' });
    }
  });

  it('a reconcile looks at the latest runsPerJob runs by start time that are still going, newest first', () => {
    const oldGoing = run('Executing', '2026-01-01T00:00:00Z');
    const midGoing = run('Executing', '2026-01-02T00:00:00Z');
    const midEnded = run('Aborted', '2026-01-03T00:00:00Z', '2026-01-03T00:01:00Z');
    const newGoing = run('Pending', '2026-01-04T00:00:00Z');
    for (const listed of orders([oldGoing, midGoing, midEnded, newGoing])) expect(runsToReconcile(listed, 3)).toEqual([newGoing, midGoing]);
  });

  it('the closed workflow that left a run behind is the one that closed last', () => {
    const continued = { workflowId: 'ccs-job-a', status: 'CONTINUED_AS_NEW', closeTime: '2026-01-01T00:00:00.000Z' };
    const terminated = { workflowId: 'ccs-job-a', status: 'TERMINATED', closeTime: '2026-01-01T05:00:00.000Z' };
    for (const listed of orders([continued, terminated])) expect(lastToClose(listed)).toBe(terminated);
    expect(lastToClose([{ workflowId: 'w', status: 'TERMINATED' }])).toEqual({ workflowId: 'w', status: 'TERMINATED' });
  });
});

describe('the simulator listing oldest first', () => {
  it('--jobruns-order oldest lists the count most recent runs, oldest first; anything else is refused', async () => {
    expect(parseSimArgs(['--jobruns-order', 'oldest'])).toMatchObject({ jobrunsOrder: 'oldest' });
    expect(() => parseSimArgs(['--jobruns-order', 'random'])).toThrow(/--jobruns-order must be newest, oldest; got "random"/);
    const sim = await startSim({ jobrunsOrder: 'oldest' });
    const client = clientFor(sim);
    try {
      const jobId = addJob(sim, [['Completed', 0]]);
      const past = [3, 2, 1].map((h) =>
        sim.state.addPastRun(jobId, Date.now() - h * HOUR, [
          ['Executing', 60],
          ['Completed', 0],
        ]),
      );
      expect((await client.getJobRuns(jobId, { count: 2 })).map((r) => r.jobRunId)).toEqual([past[1]!.JobRunID, past[2]!.JobRunID]);
      expect((await client.getJobRuns(jobId, { count: 0 })).map((r) => r.jobRunId)).toEqual(past.map((r) => r.JobRunID));
    } finally {
      await client.close();
      await sim.close();
    }
  });

  it('executeJob refused with 400 finds the run going among runs listed oldest first: CcsJobAlreadyRunning naming it', async () => {
    const sim = await startSim({ jobrunsOrder: 'oldest' });
    const client = clientFor(sim);
    try {
      const jobId = addJob(sim, [['Executing', 600]]);
      const past = [3, 2].map((h) =>
        sim.state.addPastRun(jobId, Date.now() - h * HOUR, [
          ['Executing', 60],
          ['Completed', 0],
        ]),
      );
      const olderGoing = sim.state.addPastRun(jobId, Date.now() - HOUR, [
        ['Executing', 6 * 3600],
        ['Completed', 0],
      ]);
      past.push(olderGoing);
      const going = sim.state.startRun(sim.state.jobs.get(jobId)!);
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const err = await env
        .run((input: Parameters<CcsActivities['executeJob']>[0]) => createActivities({ client }).executeJob(input), {
          jobId,
          knownRunIds: [...past.map((r) => r.JobRunID), going.JobRunID],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe(ErrorType.JobAlreadyRunning);
      expect((err as ApplicationFailure).message).toContain(going.JobRunID);
      expect((err as ApplicationFailure).message).not.toContain(olderGoing.JobRunID);
      expect(sim.stats().execute).toEqual({ '400': 1 });
    } finally {
      await client.close();
      await sim.close();
    }
  });

  it('ccs check says the runs come oldest first and names the run going, not the oldest', async () => {
    const sim = await startSim({ jobrunsOrder: 'oldest' });
    try {
      const jobId = addJob(sim, [['Executing', 600]]);
      const past = sim.state.addPastRun(jobId, Date.now() - 2 * HOUR, [
        ['Executing', 60],
        ['Completed', 0],
      ]);
      const going = sim.state.startRun(sim.state.jobs.get(jobId)!);
      const d = await diagnose({ server: 'default', client: { baseUrl: sim.baseUrl, ...SIM_USER, ca: sim.caPem }, jobId });
      expect(d.blocker).toBeNull();
      expect(d.findings).toContainEqual(expect.objectContaining({ area: 'jobruns', saw: 'runs listed oldest first' }));
      expect(d.findings).toContainEqual(expect.objectContaining({ area: 'run', saw: `run ${going.JobRunID} is Executing now` }));
      expect(JSON.stringify(d.findings)).not.toContain(`run ${past.JobRunID} is`);
    } finally {
      await sim.close();
    }
  });
});
