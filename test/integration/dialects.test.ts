/**
 * The dialect matrix: runCcsJob's outcomes (complete, fault, cancel, adoption) against the simulator
 * in every dialect the documents allow, each flag at each value, with the worker configured as an
 * operator would for that CCS (password encoding, time zone). Then what fails on the old client:
 * a run that ends Idle with an end time, and an execute answered without a JobRunID.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import { EMPTY_RUNS_FORMS } from '../../src/sim/job-service';
import { ErrorType } from '../../src/domain/errors';
import type { SimulatorOptions } from '../../src/sim/server';
import { addJob, eventually, failureOf, recordHistory, startRun, startSim, startWorker } from '../helpers';

const FAST = { pollInterval: '1s', maxPollInterval: '1s' };

/** `history`: every job has an earlier run (the adopted one's still going), so a listing's order can mislead. */
const DIALECTS: [string, SimulatorOptions, Parameters<typeof startWorker>[1], { history?: boolean }?][] = [
  ['the defaults (Base64 password, array, iso7 dates, status codes, lower-case GUIDs)', {}, {}],
  ['password plain', { passwordEncoding: 'plain' }, { passwordEncoding: 'plain' }],
  ['jobruns wrapped', { jobrunsShape: 'wrapped' }, {}],
  ['jobruns flat', { jobrunsShape: 'flat' }, {}],
  ['jobruns oldest first, after earlier runs', { jobrunsOrder: 'oldest' }, {}, { history: true }],
  ['execute answer flat', { responseShape: 'flat' }, {}],
  ['dates iso', { dateFormat: 'iso' }, {}],
  ['dates msjson', { dateFormat: 'msjson' }, {}],
  ['dates local', { dateFormat: 'local', timeZone: 'America/New_York' }, { timeZone: 'America/New_York' }],
  ['GUIDs upper', { guidFormat: 'upper' }, {}],
  ['GUIDs in braces', { guidFormat: 'braces' }, {}],
  ['GUIDs without hyphens', { guidFormat: 'nohyphens' }, {}],
  ['status as name', { statusFormat: 'name' }, {}],
  ['415 without Content-Type', { requireContentType: true }, {}],
  ['other error texts', { errorTexts: { alreadyRunning: 'Der Auftrag {id} läuft bereits.', notRunning: 'Nicht aktiv.' } }, {}],
];

describe('runCcsJob in every CCS dialect', () => {
  it.each(DIALECTS)(
    '%s: complete, fault, cancel and adoption end as CCS says',
    async (_name, simOptions, ccsOptions, { history = false } = {}) => {
      const sim = await startSim(simOptions);
      const w = await startWorker(sim, ccsOptions);
      try {
        const completes = addJob(
          sim,
          [
            ['Pending', 1],
            ['Executing', 1],
            ['Completed', 0],
          ],
          { summary: 'ok' },
        );
        const faults = addJob(
          sim,
          [
            ['Executing', 1],
            ['Faulted', 0],
          ],
          { exception: 'boom', messages: [{ Message: 'host down' }] },
        );
        const cancelled = addJob(sim, [['Executing', 600]]);
        const adopted = addJob(sim, [
          ['Executing', 2],
          ['Completed', 0],
        ]);
        if (history) {
          for (const jobId of [completes, faults, cancelled])
            sim.state.addPastRun(jobId, Date.now() - 2 * 3_600_000, [
              ['Executing', 60],
              ['Completed', 0],
            ]);
          sim.state.addPastRun(adopted, Date.now() - 3_600_000, [
            ['Executing', 6 * 3600],
            ['Completed', 0],
          ]);
        }
        const running = sim.state.startRun(sim.state.jobs.get(adopted)!);
        const [complete, fault, cancel, adopt] = await Promise.all([
          startRun(w, { jobId: completes, ...FAST }),
          startRun(w, { jobId: faults, ...FAST }),
          startRun(w, { jobId: cancelled, ...FAST }),
          startRun(w, { jobId: adopted, ...FAST, ifRunning: 'attach' }),
        ]);
        await eventually(async () => (await cancel.query(statusQuery)).phase === 'running', 20_000, 'the run to cancel to be followed');
        expect(await eventually(async () => (await adopt.query(statusQuery)).jobRunId, 20_000, 'the adopted run')).toBe(running.JobRunID);
        await cancel.signal(cancelSignal, { reason: 'dialect test' });

        const completed = await complete.result();
        expect(completed).toMatchObject({ status: 'Completed', jobRunId: sim.state.runsOf(completes)[0]!.JobRunID, summary: 'ok' });
        expect(Math.abs(Date.parse(completed.startTime!) - sim.state.runsOf(completes)[0]!.startedAt)).toBeLessThan(1000);
        const failed = await failureOf(fault.result());
        expect(failed.type).toBe(ErrorType.JobFaulted);
        expect(failed.details?.[0]).toMatchObject({ exception: 'boom', messages: [{ text: 'host down' }] });
        expect(await cancel.result()).toMatchObject({ status: 'Aborted', cancelled: { by: 'signal' } });
        expect(await adopt.result()).toMatchObject({ status: 'Completed', adopted: true, jobRunId: running.JobRunID });
        for (const jobId of [completes, faults, cancelled, adopted]) expect(sim.state.runsOf(jobId), jobId).toHaveLength(history ? 2 : 1);
      } finally {
        await w.stop();
        await sim.close();
      }
    },
    90_000,
  );
});

describe('what the documents allow and the old client missed', () => {
  it('a run that ends Idle with an end time ends the workflow CcsJobEndedUnexpectedly with the raw status and texts', async () => {
    const sim = await startSim();
    const w = await startWorker(sim);
    try {
      // Idle is not a terminal status; the end time being set is what says the run ended (§9).
      const jobId = addJob(
        sim,
        [
          ['Executing', 1],
          ['Idle', 0],
        ],
        { customStatusText: 'nothing to do', endsInLastStep: true },
      );
      const handle = await startRun(w, { jobId, ...FAST });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(ErrorType.JobEndedUnexpectedly);
      expect(failure.message).toContain('ended in status "Idle" (nothing to do)');
      expect(failure.details?.[0]).toMatchObject({ status: 'Idle', statusCode: 3, customStatusText: 'nothing to do' });
      await recordHistory(handle, 'ended-idle-with-end-time');
    } finally {
      await w.stop();
      await sim.close();
    }
  }, 60_000);

  it('an execute answered 200 without a JobRunID is resolved by listing: one run, adopted, followed to its end', async () => {
    const sim = await startSim();
    const w = await startWorker(sim);
    try {
      const jobId = addJob(sim, [
        ['Executing', 2],
        ['Completed', 0],
      ]);
      sim.setFaults({ executeWithoutRunId: true });
      const handle = await startRun(w, { jobId, ...FAST });
      const result = await handle.result();
      await recordHistory(handle, 'execute-answered-without-runid');
      expect(sim.state.runsOf(jobId)).toHaveLength(1);
      expect(sim.stats().execute).toEqual({ '200': 1 });
      expect(result).toMatchObject({ status: 'Completed', adopted: true, jobRunId: sim.state.runsOf(jobId)[0]!.JobRunID });
    } finally {
      await w.stop();
      await sim.close();
    }
  }, 60_000);
});

describe('"no runs" in every form CCS or a proxy may send', () => {
  it.each(EMPTY_RUNS_FORMS)(
    '%s before execute: exactly one run is started and followed to its end',
    async (form) => {
      const sim = await startSim({ emptyRuns: form });
      const w = await startWorker(sim);
      try {
        const jobId = addJob(sim, [
          ['Executing', 1],
          ['Completed', 0],
        ]);
        const handle = await startRun(w, { jobId, ...FAST });
        expect((await handle.result()).status).toBe('Completed');
        expect(sim.state.runsOf(jobId)).toHaveLength(1);
        expect(sim.stats().execute).toEqual({ '200': 1 });
        if (form === 'no-content') expect(sim.stats().jobruns?.['204']).toBeGreaterThanOrEqual(1); // the empty form was served
      } finally {
        await w.stop();
        await sim.close();
      }
    },
    60_000,
  );
});

describe('CCS’s own certificate', () => {
  it('Symantec_Components, self-signed: a run with the pin set completes; without it the workflow fails naming the fingerprint, nothing sent', async () => {
    const sim = await startSim({ certName: 'Symantec_Components', selfSigned: true });
    const fp = new X509Certificate(sim.caPem!).fingerprint256;
    const pinned = await startWorker(sim, { ca: undefined, pinSha256: [fp] });
    const unpinned = await startWorker(sim, { ca: undefined });
    try {
      const jobId = addJob(sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      expect((await (await startRun(pinned, { jobId, ...FAST })).result()).status).toBe('Completed');
      const before = JSON.stringify(sim.stats());
      const failure = await failureOf((await startRun(unpinned, { jobId, ...FAST })).result());
      const cause = (failure.cause ?? failure) as Error & { type?: string };
      expect(cause.type).toBe(ErrorType.TlsError);
      expect(cause.message).toContain(`SHA-256 ${fp}`);
      expect(cause.message).toContain(`CCS_TLS_PIN_SHA256 (tlsPinSha256 in CCS_SERVERS_FILE)=${fp}`);
      expect(JSON.stringify(sim.stats())).toBe(before);
      expect(sim.state.runsOf(jobId)).toHaveLength(1);
    } finally {
      await pinned.stop();
      await unpinned.stop();
      await sim.close();
    }
  }, 60_000);
});
