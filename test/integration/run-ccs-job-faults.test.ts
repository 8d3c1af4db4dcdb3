/**
 * CCS misbehaving around the one non-idempotent call: the run an ambiguous execute created is
 * adopted, never duplicated; rate limits and outages are ridden out.
 */
import { describe, expect, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { addJob, eventually, recordHistory, simAndWorker, startRun, startSim, startWorker } from '../helpers';

const rig = simAndWorker();

const FAST = { pollInterval: '1s', maxPollInterval: '1s' };

describe('ambiguous execute failures', () => {
  it.each([
    ['a 500 after CCS accepted the execute', { errorRate: 1, errorStatus: [500] }, { '500': 1 }],
    ['a 502 HTML page after CCS accepted the execute', { errorRate: 1, errorStatus: [502] }, { '502': 1 }],
    ['a dropped connection after CCS accepted the execute', { resetRate: 1 }, { reset: 1 }],
    ['a cut-off answer after CCS accepted the execute', { corruptRate: 1 }, { '200': 1 }],
  ])('%s: the run is adopted, not duplicated', async (_name, fault, executeStats) => {
    const s = await startSim();
    const worker = await startWorker(s);
    try {
      const jobId = addJob(s, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      s.setFaults({ ...fault, endpoints: ['execute'], afterProcessing: true, limit: 1 });
      const handle = await startRun(worker, { jobId, ...FAST });
      const result = await handle.result();
      if (_name.startsWith('a 500')) await recordHistory(handle, 'adopted-after-500');
      const runs = s.state.runsOf(jobId);
      expect(runs).toHaveLength(1);
      expect(result).toMatchObject({ jobRunId: runs[0]?.JobRunID, status: 'Completed', adopted: true });
      expect(s.stats().execute).toEqual(executeStats);
    } finally {
      await worker.stop();
      await s.close();
    }
  });

  it('a request that never reached CCS (refused before processing) is retried as a plain execute', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    rig.sim.setFaults({ errorRate: 1, errorStatus: [503], endpoints: ['execute'], limit: 2 });
    const result = await (await startRun(rig.w, { jobId, ...FAST })).result();
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    // 503 before processing is indistinguishable from "after" for the client: it still checks before re-executing.
    expect(result).toMatchObject({ status: 'Completed' });
    expect(rig.sim.stats().execute?.['503']).toBe(2);
  });
});

describe('polling through trouble', () => {
  it('rides out 5xx, resets and 429 with Retry-After while polling, with one run', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 4],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    rig.sim.setFaults({
      errorRate: 0.3,
      errorStatus: [500, 502, 503],
      resetRate: 0.1,
      rateLimitRate: 0.2,
      retryAfterSeconds: 1,
      endpoints: ['jobruns'],
    });
    try {
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    } finally {
      rig.sim.setFaults({});
    }
  });

  it('renews tokens revoked mid-run (an application-server restart) without failing the run', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, ...FAST });
    // Mid-run: it is followed (its token in use) and has not yet read an end, so a read with the revoked token is still to come.
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    rig.sim.revokeTokens();
    const result = await handle.result();
    expect(result.status).toBe('Completed');
    expect(rig.w.ccs.requestStats.replaysAfter401).toBeGreaterThanOrEqual(1);
  });
});
