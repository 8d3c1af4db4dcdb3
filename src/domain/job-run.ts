/**
 * Declarations of what CCS says about jobs and runs, as this project represents them after parsing.
 * Type declarations only: the client and the simulator each read and write the wire format themselves.
 */

/** The documented run states (CCS Job Operation page), by their documented integer codes 0–7. */
export const JOB_STATUS_NAMES = ['None', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'] as const;

export type JobStatusName = (typeof JOB_STATUS_NAMES)[number];

/** The states that end a run. Everything else, unknown values included, means "still going". */
export const TERMINAL_STATUSES: readonly string[] = ['Completed', 'Faulted', 'Aborted'];

/** True when `status` (a name as {@link JobRun.status} carries it) ends a run. */
export function isTerminalStatus(status: string | undefined): boolean {
  return status !== undefined && TERMINAL_STATUSES.includes(status);
}

/**
 * True when the run has ended: its status is terminal, or its end time is set (the reference, §9):
 * a run can end Idle, Custom, or with a code the documents do not list.
 */
export function hasEnded(run: Pick<JobRun, 'status' | 'endTime'> | undefined): boolean {
  return run !== undefined && (isTerminalStatus(run.status) || run.endTime !== null);
}

/**
 * True while a run goes with a status outside the documented codes 0–7 (an undocumented integer or
 * name, kept as text with `statusCode` null): followed, and flagged once it lasts (`CcsUnknownStatus`).
 */
export function hasUndocumentedStatus(run: Pick<JobRun, 'status' | 'statusCode' | 'endTime'>): boolean {
  return run.statusCode === null && !hasEnded(run);
}

/** A time as milliseconds, or null when it is missing or cannot be read. */
function instantOf(time: string | null | undefined): number | null {
  if (time === null || time === undefined) return null;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * `items` newest first by `timeOf`; a missing or unreadable time sorts last, equal times by `idOf`,
 * so the order is the same whatever order the items came in. Pure and deterministic: workflows use it.
 */
export function newestFirstBy<T>(items: readonly T[], timeOf: (item: T) => string | null | undefined, idOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, at: instantOf(timeOf(item)), id: idOf(item) }));
  keyed.sort((a, b) => {
    if (a.at !== b.at) return a.at === null ? 1 : b.at === null ? -1 : b.at - a.at;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return keyed.map((k) => k.item);
}

/**
 * The runs newest first by their own `by` time (start time unless said otherwise), JobRunID breaking
 * ties. CCS's list order is not documented (the reference infers newest first), so nothing picks
 * "the latest" by its position in an answer.
 */
export function newestFirst(runs: readonly JobRun[], by: 'startTime' | 'endTime' = 'startTime'): JobRun[] {
  return newestFirstBy(
    runs,
    (run) => run[by],
    (run) => run.jobRunId,
  );
}

/** The latest run still going (by start time), or undefined when every run has ended. */
export function latestRunInProgress(runs: readonly JobRun[]): JobRun | undefined {
  return newestFirst(runs).find((run) => !hasEnded(run));
}

/** The last good run: the Completed run that ended last (by its end time), or undefined when none has a readable end. */
export function lastCompletedRun(runs: readonly JobRun[]): JobRun | undefined {
  return newestFirst(
    runs.filter((run) => run.status === 'Completed' && instantOf(run.endTime) !== null),
    'endTime',
  )[0];
}

/** One message of a run, read with `showmessages=true`. */
export interface JobRunMessage {
  time: string | null;
  text: string;
}

/** One run of a CCS job (a JobStatusInfo), parsed. Dates are ISO-8601 UTC strings or null. */
export interface JobRun {
  jobRunId: string;
  jobId: string;
  /** The documented name when CCS sent a known value; otherwise the raw value as text (kept, not terminal). */
  status: string;
  /** The documented integer code, or null when CCS sent a value outside 0–7. */
  statusCode: number | null;
  startTime: string | null;
  /** Null while the run has not ended (CCS sends "0001-01-01T00:00:00"). */
  endTime: string | null;
  customStatusText: string | null;
  exception: string | null;
  summary: string | null;
  activities: unknown[];
  /** Present only when read with messages. */
  messages?: JobRunMessage[];
  errorCount?: number;
  /** Present when something was cut to the documented limits (RUN_LIMITS). */
  omitted?: OmittedFromRun;
  /**
   * Display-only fields CCS sent in a form this client cannot read (times, summary, activity list,
   * custom text, messages), kept raw (cut to 200 characters) instead of making the run unreadable.
   */
  unreadable?: Record<string, string>;
}

/** A job definition as returned by Search Job by ID; only the fields this project uses are typed. */
export interface Job {
  jobId: string;
  name: string | null;
  type: string | null;
  lastRunStatus: string | null;
  lastRunDate: string | null;
  raw: Record<string, unknown>;
}

/** What an evaluating job covers (Search Job by ID's `JobDetails`): assets and asset groups, and standards. */
export interface JobScope {
  assets: { id: string; type: string | null; group: boolean }[];
  standards: string[];
}

/** Counts of one asset × standard's raw results, as far as their shape could be read. */
export interface ResultsSummary {
  evaluated: number;
  passed: number;
  failed: number;
  notApplicable: number;
  /** Checks that could not be evaluated (an error, an unknown result). */
  other: number;
}

/** What was cut from a run's answer to keep activity results far below Temporal's 2 MB payload limit. */
export interface OmittedFromRun {
  /** Entries of `ActivityStatusList` dropped (beyond the first RUN_LIMITS.activities). */
  activities?: number;
  /** Messages dropped (beyond the first RUN_LIMITS.messages). */
  messages?: number;
  /** Fields whose text was cut to its limit, e.g. "exception", "messages[3].text", "activities[0]". */
  truncated?: string[];
}

/**
 * Sizes a run keeps (documented in docs/reliability.md). At most: 20 activity entries of 2 KiB,
 * 100 messages of 1 KiB, an exception of 8 KiB, a summary of 4 KiB, a custom status text of 1 KiB:
 * about 150 KiB per run whatever CCS sends.
 */
export const RUN_LIMITS = Object.freeze({
  activities: 20,
  activityBytes: 2048,
  messages: 100,
  messageChars: 1024,
  exceptionChars: 8192,
  summaryChars: 4096,
  customStatusChars: 1024,
});
