/** Phase: time from the simulator's terminal transition to the workflow's close, at a fixed poll interval. */
import { Histogram } from '../stats';
import type { BenchContext } from '../context';
import { pool } from '../util';

export async function detectionLag(ctx: BenchContext, runs: number): Promise<ReturnType<Histogram['summary']>> {
  const [lo, hi] = ctx.s.lagDurationS;
  const jobs = Array.from({ length: runs }, () =>
    ctx.job([
      ['Executing', lo + Math.random() * (hi - lo)],
      ['Completed', 0],
    ]),
  );
  const lag = new Histogram();
  await pool(jobs, ctx.s.startConcurrency, async (jobId) => {
    const handle = await ctx.startOurs(jobId, ctx.s.lagIntervalMs);
    await handle.result();
    lag.record((await ctx.closeTime(handle)) - ctx.endedAt(jobId));
  });
  return lag.summary();
}
