/**
 * Duration alerts (issue 18, part 4): a run slower than its job's history is flagged while it goes
 * on (status, CcsLate, result) and still ends with its true status; never aborted. The p95 arithmetic
 * and the input's validation are unit tests (test/unit/duration-alert.test.ts).
 */
import { describe, expect, inject, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { addJob, eventually, failureOf, recordHistory, runCli, searchAttributeHistory, simAndWorker, startRun } from '../helpers';

const rig = simAndWorker();

/** A job whose history holds `past` completed runs of `seconds` each (the last ended a minute ago), then runs as `steps`. */
function jobWithHistory(past: number[], steps: [string, number][]): string {
  const jobId = addJob(rig.sim, steps);
  let at = Date.now() - 60_000 - past.reduce((n, s) => n + s * 1000 + 60_000, 0);
  for (const seconds of past) {
    rig.sim.state.addPastRun(jobId, at, [
      ['Executing', seconds],
      ['Completed', 0],
    ]);
    at += seconds * 1000 + 60_000;
  }
  return jobId;
}

describe('runCcsJob with expectedDuration', () => {
  it('"auto": a run slower than its history’s p95 × factor is flagged while it goes on, and ends Completed', async () => {
    const jobId = jobWithHistory(
      [2, 2, 3, 2],
      [
        ['Executing', 9],
        ['Completed', 0],
      ],
    );
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', expectedDuration: 'auto', expectedDurationFactor: 1.5 });
    const flagged = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.late ? s : undefined;
    });
    expect(flagged.phase).toBe('running');
    expect(flagged.status).toBe('Executing');
    expect(flagged.expected).toMatchObject({ ms: 4_500, basis: 'p95 of 4 completed runs (3s) × 1.5' });
    expect(flagged.late).toMatchObject({ expectedMs: 4_500 });
    const result = await handle.result();
    await recordHistory(handle, 'duration-late');
    expect(result.status).toBe('Completed');
    expect(result.late?.expectedMs).toBe(4_500);
    expect(await searchAttributeHistory(handle, 'CcsLate')).toEqual(['5s']); // formatDuration rounds to the second
    expect(rig.sim.state.runsOf(jobId)[0]?.abortRequests).toBe(0);
    expect(await rig.w.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND CcsLate IS NOT NULL`)).toMatchObject({ count: 1 });
  });

  it('a run within its expected duration is not flagged; "auto" without enough history arms nothing', async () => {
    const onTime = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
      expectedDuration: '30s',
    });
    expect(await eventually(async () => (await onTime.query(statusQuery)).expected?.ms)).toBe(30_000);
    expect((await onTime.result()).late).toBeUndefined();
    expect(await searchAttributeHistory(onTime, 'CcsLate')).toEqual([]);
    const young = await startRun(rig.w, {
      jobId: jobWithHistory(
        [1, 1],
        [
          ['Executing', 3],
          ['Completed', 0],
        ],
      ),
      pollInterval: '1s',
      expectedDuration: 'auto',
    });
    await eventually(async () => (await young.query(statusQuery)).phase === 'running');
    expect((await young.query(statusQuery)).expected).toBeUndefined();
    expect((await young.result()).late).toBeUndefined();
  });

  it('a late run that faults still fails with its true status, carrying the flag', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 4],
        ['Faulted', 0],
      ],
      { exception: 'slow and broken' },
    );
    const failure = await failureOf((await startRun(rig.w, { jobId, pollInterval: '1s', expectedDuration: '1s' })).result());
    expect(failure.type).toBe('CcsJobFaulted');
    expect((failure.details?.[0] as { late?: { expectedMs: number } }).late?.expectedMs).toBe(1_000);
  });

  it('ccs-jobs run --wait --expect shows LATE under progress and in the result', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 5],
      ['Completed', 0],
    ]);
    const r = await runCli(['run', jobId, '--wait', '--poll', '1s', '--expect', '2s'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: rig.w.taskQueue,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[\d+s\] running · Executing · polls \d+ · run [0-9a-f-]{36} · LATE \(expected 2s\)$/m);
    expect(r.stdout).toMatch(/^ {2}late: ran longer than expected \(2s, given\) since \d{4}-/m);
  });
});
