/**
 * The chaos flake of the hostile error-page scenario: an execute whose answer was lost after CCS
 * acted (a timeout under load, a reset) is retried, and the retry meets a 403 or 404 before the run
 * the first attempt started is listed. Failing fast there would leave that run unwatched; the retry
 * must look for it, as it does after CCS's 400 "already running". No Temporal: the activity in a
 * mock context, the client and the simulator over real sockets, the first attempt's last heartbeat
 * handed to the second as the Temporal server hands it over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeExecuteRigs, executeAttempt, executeRig } from '../execute-attempts';
import { ErrorType } from '../../src/domain/errors';
import { addJob } from '../helpers';

afterEach(closeExecuteRigs);
const rig = executeRig;
const attempt = executeAttempt;

describe('executeJob retried after a lost answer, refused with an error that needs a person', () => {
  it.each([
    [403, 'execute'],
    [404, 'execute'],
    [403, 'jobruns'],
  ] as const)(
    'a %i on %s while the first attempt’s run is not listed yet: the run is adopted, not left unwatched',
    async (status, endpoint) => {
      const { sim, client } = await rig();
      const jobId = addJob(sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]);
      // The run exists but is listed 3 s late: as when the first attempt's POST was still being processed.
      sim.setFaults({ listingLagSeconds: 3, resetRate: 1, afterProcessing: true, endpoints: ['execute'] });
      const input = { jobId, knownRunIds: [] };
      const first = await attempt(client, input, { attempt: 1 });
      expect(first.outcome).toMatchObject({ type: ErrorType.NetworkError });
      // The retry's execute (or its first look) is refused once; the looks after it see the run when listed.
      sim.setFaults({ listingLagSeconds: 3, errorRate: 1, errorStatus: [status], endpoints: [endpoint], limit: 1 });
      const second = await attempt(client, input, { attempt: 2, heartbeatDetails: first.beats.at(-1) });
      const runs = sim.state.runsOf(jobId);
      expect(runs).toHaveLength(1);
      expect(second.outcome).toMatchObject({ adopted: true, run: { jobRunId: runs[0]?.JobRunID } });
    },
  );

  it('with no run of the job ever listed, the refusal is raised after the look, as its own type', async () => {
    const { sim, client } = await rig();
    const jobId = addJob(sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    // The first attempt's execute was refused before CCS acted (a 500): nothing started, nothing to find.
    sim.setFaults({ errorRate: 1, errorStatus: [500], endpoints: ['execute'] });
    const input = { jobId, knownRunIds: [] };
    const first = await attempt(client, input, { attempt: 1 });
    sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['execute'] });
    const second = await attempt(client, input, { attempt: 2, heartbeatDetails: first.beats.at(-1), startToCloseTimeoutMs: 8_000 });
    expect(second.outcome).toMatchObject({ type: ErrorType.Forbidden });
    expect(sim.state.runsOf(jobId)).toHaveLength(0);
  });
});
