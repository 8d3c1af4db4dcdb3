/**
 * Poll jitter in real waits (CCS_POLL_JITTER): the gaps between the simulator's reads of one run,
 * polled inside a held wait, stay within the jitter's bounds and are not all the same length.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/server';
import { statusQuery } from '../../src/domain/contract';
import { addJob, eventually, startRun, startSim, startWorker, type TestWorker } from '../helpers';

const INTERVAL_MS = 2_000;
const JITTER = 0.3;
/** Gaps measured: enough that ±30 % uniform jitter cannot plausibly land them all on one side of the interval. */
const GAPS = 15;

/** When the simulator answered each status read, by JobID. */
const readsAt = new Map<string, number[]>();
const rig = {} as { sim: Simulator; w: TestWorker };
beforeAll(async () => {
  rig.sim = await startSim({
    onRequest: (e) => {
      if (e.endpoint !== 'jobruns' || !e.id) return;
      const id = e.id.toLowerCase();
      readsAt.set(id, [...(readsAt.get(id) ?? []), e.at]);
    },
  });
  rig.w = await startWorker(rig.sim, {}, undefined, { jitter: JITTER });
});
afterAll(async () => {
  await rig.w?.stop();
  await rig.sim?.close();
});

describe('poll jitter', () => {
  it('a held wait with jitter 0.3 reads the run at gaps within ±30 % of the interval, not all equal', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, pollInterval: `${INTERVAL_MS}ms`, maxPollInterval: `${INTERVAL_MS}ms` });
    try {
      await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
      // Reads of the unchanged run only: the ones before the first held read (the listing before the
      // execute, the first look at the new run) are not spaced by the poll interval.
      const skip = (readsAt.get(jobId) ?? []).length + 1;
      const reads = await eventually(
        () => {
          const all = readsAt.get(jobId) ?? [];
          return all.length >= skip + GAPS + 1 ? all.slice(skip, skip + GAPS + 1) : undefined;
        },
        60_000,
        `${GAPS + 1} held reads`,
      );
      const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
      console.log(`read gaps (ms), interval ${INTERVAL_MS} ms, jitter ${JITTER}: ${gaps.join(', ')}`);
      // Never shorter than the jitter allows (the request itself only adds); longer by at most the
      // jitter plus a generous allowance for the request and a loaded machine.
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(INTERVAL_MS * (1 - JITTER) - 50);
        expect(gap).toBeLessThanOrEqual(INTERVAL_MS * (1 + JITTER) + 1_000);
      }
      // A wait starts after the previous answer arrived, so without jitter no gap is shorter than the
      // interval; with it, about half are (none in 15: once in 18,000 runs).
      expect(gaps.filter((gap) => gap < INTERVAL_MS).length).toBeGreaterThanOrEqual(1);
      // Spread over uniform ±30 %: a range under 20 % of the interval in 15 gaps is about once in 450,000 runs.
      expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(INTERVAL_MS * 0.2);
    } finally {
      await handle.terminate('measured');
    }
  }, 90_000);
});
