/** Phase: short runs (already Completed when executed) from start to close, all at once. */
import { Histogram } from '../stats';
import type { BenchContext } from '../context';
import { pool, round } from '../util';

export async function throughput(
  ctx: BenchContext,
  runs: number,
): Promise<{ runsPerSecond: number; latencyMs: ReturnType<Histogram['summary']> }> {
  const jobs = Array.from({ length: runs }, () => ctx.job([['Completed', 0]]));
  const latency = new Histogram();
  const t0 = performance.now();
  await pool(jobs, ctx.s.startConcurrency, async (jobId) => {
    const started = performance.now();
    const handle = await ctx.startOurs(jobId, 1_000);
    await handle.result();
    latency.record(performance.now() - started);
  });
  const seconds = (performance.now() - t0) / 1000;
  return { runsPerSecond: round(runs / seconds, 1), latencyMs: latency.summary() };
}
