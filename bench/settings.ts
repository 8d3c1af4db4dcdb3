/** What a benchmark run measures and at what size: the full run, or the quick CI smoke test. */

export interface BenchSettings {
  quick: boolean;
  repetitions: number;
  throughputRuns: number;
  lagRuns: number;
  lagIntervalMs: number;
  lagDurationS: [number, number];
  baselineRuns: number;
  baselineDurationS: number;
  baselineIntervalMs: number;
  historyPolls: number[];
  concurrencyLevels: number[];
  concurrencyIntervalMs: number;
  windows: number;
  windowMs: number;
  startConcurrency: number;
  tokenTtlSeconds: number;
}

export function settingsFor(quick: boolean, levels: number[] | undefined): BenchSettings {
  return quick
    ? {
        quick,
        repetitions: 1,
        throughputRuns: 30,
        lagRuns: 10,
        lagIntervalMs: 2_000,
        lagDurationS: [2, 6],
        baselineRuns: 8,
        // A smoke test (CI time, not figures): runs long enough for three polls, a window one poll interval long.
        baselineDurationS: 6,
        baselineIntervalMs: 2_000,
        historyPolls: [1, 10],
        concurrencyLevels: levels ?? [100],
        concurrencyIntervalMs: 5_000,
        windows: 1,
        windowMs: 5_000,
        startConcurrency: 50,
        tokenTtlSeconds: 30,
      }
    : {
        quick,
        repetitions: 3,
        throughputRuns: 500,
        lagRuns: 200,
        lagIntervalMs: 5_000,
        lagDurationS: [5, 35],
        baselineRuns: 100,
        baselineDurationS: 40,
        baselineIntervalMs: 5_000,
        historyPolls: [1, 10, 100, 1000],
        concurrencyLevels: levels ?? [1000, 5000, 10000],
        concurrencyIntervalMs: 30_000,
        windows: 3,
        windowMs: 60_000,
        startConcurrency: 100,
        tokenTtlSeconds: 600,
      };
}
