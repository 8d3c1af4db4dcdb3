/**
 * A listing that lags new runs (the simulator's `listingLagSeconds`) with an execute whose answer is
 * lost after CCS acted: the retried `executeJob` adopts the run its first attempt started instead of
 * failing on CCS's "already running". No Temporal: the activity in a mock context, the client and the
 * simulator over real sockets; the first attempt's last heartbeat is handed to the second, as the
 * Temporal server hands it over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeExecuteRigs, executeAttempt, executeRig } from '../execute-attempts';
import { ErrorType } from '../../src/domain/errors';
import { validateFaults } from '../../src/sim/faults';
import { addJob, eventually } from '../helpers';

afterEach(closeExecuteRigs);
const rig = executeRig;
const attempt = executeAttempt;

describe('the simulator fault listingLagSeconds', () => {
  it('leaves a new run out of every jobruns read until it is that old, while execute refuses as the run goes', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    sim.setFaults({ listingLagSeconds: 2 });
    const started = await client.executeJob(jobId);
    expect(await client.getJobRuns(jobId, { count: 0 })).toEqual([]);
    await expect(client.getJobRun(jobId, started.jobRunId)).rejects.toMatchObject({ type: ErrorType.NotFound });
    await expect(client.executeJob(jobId)).rejects.toMatchObject({ type: ErrorType.BadRequest });
    const listed = await eventually(async () => (await client.getJobRuns(jobId, { count: 5 }))[0], 10_000, 'the run to be listed');
    expect(listed.jobRunId).toBe(started.jobRunId);
  });

  it('is validated as the control API validates it: a negative or over-an-hour lag is refused naming the field', () => {
    expect(() => validateFaults({ listingLagSeconds: -1 })).toThrow(/listingLagSeconds/);
    expect(() => validateFaults({ listingLagSeconds: 7200 })).toThrow(/listingLagSeconds/);
  });
});

describe('executeJob through a lagging listing and a lost execute answer', () => {
  it('the retry adopts the run the first attempt started: one run in CCS, adopted', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    sim.setFaults({ listingLagSeconds: 3, resetRate: 1, afterProcessing: true, endpoints: ['execute'] });
    const input = { jobId, knownRunIds: [] };
    const first = await attempt(client, input, { attempt: 1 });
    expect(first.outcome).toMatchObject({ type: ErrorType.NetworkError });
    const second = await attempt(client, input, { attempt: 2, heartbeatDetails: first.beats.at(-1) });
    const runs = sim.state.runsOf(jobId);
    expect(runs).toHaveLength(1);
    expect(second.outcome).toMatchObject({ adopted: true, run: { jobRunId: runs[0]?.JobRunID } });
    // The retry was refused as already running (the run went on) and looked until the run was listed.
    expect(runs[0]?.executeRequests).toBe(1);
    expect(sim.stats().execute).toMatchObject({ reset: 1, '400': 1 });
  });
});
