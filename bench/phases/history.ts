/** Phase: history length of runs with about N polls at a 1 s interval, ours and the timer loop. */
import type { BenchContext } from '../context';
import type { HistoryRow } from '../results';

export async function history(ctx: BenchContext, pollCounts: number[]): Promise<HistoryRow[]> {
  const rows = await Promise.all(
    pollCounts.flatMap((n) =>
      (['ours', 'timer'] as const).map(async (kind): Promise<HistoryRow> => {
        const jobId = ctx.job([
          ['Executing', n],
          ['Completed', 0],
        ]);
        if (kind === 'ours') ctx.backgroundOurs++;
        const handle = kind === 'ours' ? await ctx.startOurs(jobId, 1_000) : await ctx.startTimerLoop(jobId, 1_000);
        const result = (await handle.result().finally(() => kind === 'ours' && ctx.backgroundOurs--)) as { polls: number };
        const history = await handle.fetchHistory();
        return { approach: kind, targetPolls: n, polls: result.polls, historyEvents: history.events?.length ?? 0 };
      }),
    ),
  );
  return rows;
}
