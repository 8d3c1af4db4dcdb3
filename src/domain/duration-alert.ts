/**
 * Duration alerts from a job's own history: how long a run of this job is expected to take, so a run
 * that goes on longer is flagged (never aborted: the hard `timeout` does that). Pure: workflows import it.
 */
import { newestFirst, type JobRun } from './job-run';
import { formatDuration } from './validation';

/** `"auto"` needs at least this many completed runs with both times among the last ones read. */
export const MIN_HISTORY_RUNS = 3;
export const DEFAULT_EXPECTED_FACTOR = 1.5;
export const MIN_EXPECTED_FACTOR = 1;
export const MAX_EXPECTED_FACTOR = 10;

/** What a run is expected to take, and where the figure came from. */
export interface ExpectedDuration {
  ms: number;
  /** "given" (the input named a duration) or "p95 of N completed runs (…) × factor". */
  basis: string;
}

/** Set once a run has gone on longer than expected; it stays set until the run ends. */
export interface LateInfo {
  since: string;
  expectedMs: number;
  basis: string;
}

/**
 * `"auto"` reads at most this many completed runs, the ones that ended last by their own end times
 * (whatever order CCS lists them in, and however many it answers).
 */
export const HISTORY_RUNS = 10;

/**
 * Durations in milliseconds of the last {@link HISTORY_RUNS} Completed runs among `runs` (by end
 * time) whose start and end are both known.
 */
export function completedDurations(runs: readonly JobRun[]): number[] {
  const durations: number[] = [];
  for (const run of newestFirst(runs, 'endTime')) {
    if (run.status !== 'Completed' || !run.startTime || !run.endTime) continue;
    const ms = Date.parse(run.endTime) - Date.parse(run.startTime);
    if (Number.isFinite(ms) && ms >= 0) durations.push(ms);
    if (durations.length === HISTORY_RUNS) break;
  }
  return durations;
}

/** The nearest-rank 95th percentile: the value at rank ceil(0.95 n) (of ten runs, the longest). */
export function p95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
}

/**
 * The expected duration `"auto"` derives from the job's latest runs: their last completed runs' p95 ×
 * `factor`; null when fewer than {@link MIN_HISTORY_RUNS} completed runs are known (no basis for an alert).
 */
export function expectedFromHistory(runs: readonly JobRun[], factor: number): ExpectedDuration | null {
  const durations = completedDurations(runs);
  if (durations.length < MIN_HISTORY_RUNS) return null;
  const base = p95(durations);
  // A job whose runs take a few milliseconds in the history still gets a second's grace.
  const ms = Math.max(1_000, Math.round(base * factor));
  return { ms, basis: `p95 of ${durations.length} completed runs (${formatDuration(base)}) × ${factor}` };
}
