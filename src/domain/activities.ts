/**
 * The CCS activities' contract: the one input object and the one result object of each activity,
 * and the constants workflows and activities must agree on. Side-effect free and type-only apart
 * from a few numbers, so workflows import it without pulling any activity code into their bundle.
 * The activities themselves are in src/activities (`createActivities`).
 */
import type { JobCandidate } from './job-names';
import type { JobRun, JobRunMessage, ResultsSummary } from './job-run';

/** How many of the latest runs are recorded before executing, to recognise a run our execute created. */
export const RUN_SNAPSHOT_SIZE = 10;

/**
 * How much a poll interval grows after each unchanged read, up to the wait's maximum: the activity's
 * own held polls and the retry policies that pace retry-as-poll use the same factor.
 */
export const POLL_GROWTH = 1.25;

/** The most new messages one wait returns. */
export const LIVE_BATCH = 50;

/** Every activity input names the CCS server by `ccs`; absent means `default`. */
export interface OnServer {
  ccs?: string | undefined;
}

/** Search Job by Name: the jobs named exactly `name`. */
export interface FindJobsByNameInput extends OnServer {
  name: string;
}

/** What Search Job by Name found: the first MAX_CANDIDATES jobs, and how many CCS answered. */
export interface FindJobsByNameResult {
  candidates: JobCandidate[];
  total: number;
}

/** One page of Search Jobs. */
export interface SearchJobIdsInput extends OnServer {
  search: string;
  page: number;
  pageSize: number;
}

/** A job's most recent runs. */
export interface ListJobRunsInput extends OnServer {
  jobId: string;
  /** How many of the most recent runs (default RUN_SNAPSHOT_SIZE). */
  count?: number;
}

/** A start of the job (or the settle look after a cancelled one), with the runs listed before it. */
export interface ExecuteJobInput extends OnServer {
  jobId: string;
  /** Runs that existed before this workflow executed (from `listJobRuns`). */
  knownRunIds: string[];
}

/** The run the execute started, or the one an earlier attempt started and this one adopted. */
export interface ExecuteJobResult {
  run: JobRun;
  /** True when a previous attempt's run was found and adopted instead of starting another. */
  adopted: boolean;
}

/** A run's status outside 0–7: first seen at `since` (ISO-8601), flagged once it has lasted `afterMs`. */
export interface UnknownStatusWatch {
  since: string;
  afterMs: number;
}

/** Live messages: which the workflow knows, and how often a wait asks for them. */
export interface LiveMessagesWatch {
  /** How many messages the workflow already has. */
  known: number;
  /** Every `every`-th read of the run (counted over the whole run) asks for its messages. */
  every: number;
  /** Reads of the run made before this wait. */
  pollsBefore: number;
}

/**
 * A wait for a run to change. Below the worker's hold threshold it polls inside one attempt,
 * heartbeating; at or above it, each poll is an attempt (retry-as-poll). The run exists and is
 * never dropped: errors that need a person are reported once as `attention` and then retried.
 */
export interface WaitForJobRunChangeInput extends OnServer {
  jobId: string;
  jobRunId: string;
  /** The status the workflow last saw; the activity returns when CCS reports anything else. */
  lastStatus: string;
  lastCustomStatusText: string | null;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  /** Wait one poll interval before the first read (right after a change, an immediate read is wasted). */
  delayFirstPoll?: boolean;
  /**
   * The attention type the workflow flags now (null when clear): the same error again is retried
   * quietly, a successful read that calls for none clears it.
   */
  attention: string | null;
  /**
   * While the workflow's last read showed a status outside 0–7: since when, and for how long that is
   * allowed before the wait returns the `CcsUnknownStatus` attention with the run.
   */
  unknownStatus?: UnknownStatusWatch;
  /**
   * Live messages: every `every`-th read of the run asks for its messages, and so does a read that
   * sees a change; when CCS lists more than the `known` ones, the wait returns them. Absent: none.
   */
  live?: LiveMessagesWatch;
}

/**
 * What every wait on one followed run shares: the run's job and server, the pace and what the
 * workflow flags now. Built once per run; {@link waitForChangeInput} adds what changes per wait.
 */
export type RunWatch = Pick<
  WaitForJobRunChangeInput,
  'jobId' | 'ccs' | 'pollIntervalMs' | 'maxPollIntervalMs' | 'attention' | 'unknownStatus'
>;

/**
 * The input of one wait: `watch` for the run last `seen` (the wait returns when CCS says anything
 * else), with this wait's own options (`delayFirstPoll`, `live`, a faster pace). Pure.
 */
export function waitForChangeInput(
  watch: RunWatch,
  seen: { jobRunId: string; status: string; customStatusText: string | null },
  options: Pick<WaitForJobRunChangeInput, 'delayFirstPoll' | 'live'> &
    Partial<Pick<WaitForJobRunChangeInput, 'pollIntervalMs' | 'maxPollIntervalMs'>> = {},
): WaitForJobRunChangeInput {
  // Options left undefined keep the watch's values (a spread would overwrite them with undefined).
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as typeof options;
  return { ...watch, jobRunId: seen.jobRunId, lastStatus: seen.status, lastCustomStatusText: seen.customStatusText, ...given };
}

/** Messages CCS listed beyond the ones the workflow knew: how many in all, and the newest new ones. */
export interface LiveMessages {
  total: number;
  /** At most LIVE_BATCH, the newest of the new ones, oldest first; texts cut to RUN_LIMITS.messageChars. */
  fresh: JobRunMessage[];
}

/** What a wait that saw the run saw. */
export interface WaitForJobRunChangeResult {
  run: JobRun;
  live?: LiveMessages;
  /** Status reads this wait made (its attempt number). */
  polls: number;
  observedAt: string;
  /**
   * Null when the read called for no attention (a flag is cleared), or the `CcsUnknownStatus`
   * attention the run read calls for (its status has been outside 0–7 for too long).
   */
  attention: { type: string; message: string } | null;
}

/** The run could not be read for a reason that needs a person; the workflow flags it and asks again. */
export interface WaitForJobRunAttention {
  run?: undefined;
  live?: undefined;
  attention: { type: string; message: string };
  polls: number;
  observedAt: string;
}

/** What `waitForJobRunChange` returns: the run, or an attention to flag. */
export type WaitOutcome = WaitForJobRunChangeResult | WaitForJobRunAttention;

/** An abort of a run this workflow follows: retried whatever the error, until the workflow's scheduleToClose. */
export interface AbortJobRunInput extends OnServer {
  jobId: string;
  jobRunId: string;
}

/** Whether CCS took the abort. */
export interface AbortJobRunResult {
  /** False when CCS refused because the run had already ended; `run` then holds its final state. */
  accepted: boolean;
  run?: JobRun;
}

/** An abort of a run no workflow owns (a reconcile's `abort`), confirmed within `confirmWithinMs`. */
export interface AbortOrphanRunInput extends AbortJobRunInput {
  confirmWithinMs: number;
}

/** Whether CCS confirmed the orphan's end within the time given, and its last status. */
export interface AbortOrphanRunResult {
  confirmed: boolean;
  status: string;
  /** CCS requests the activity made. */
  requests: number;
}

/** A run's findings: what `collectFindings` fetches once a run of an evaluating job has ended. */
export interface CollectFindingsInput extends OnServer {
  jobId: string;
  jobRunId: string;
  /** At most this many asset × standard pairs are fetched (default FINDINGS_LIMITS.pairs). */
  maxPairs?: number | undefined;
}

/** Bounds on one run's findings: pairs fetched, bytes kept, assets a job's groups may resolve to. */
export const FINDINGS_LIMITS = Object.freeze({ pairs: 100, bytes: 64 * 1024 * 1024, assets: 1_000 });

/** One asset × standard of a run: its raw results as a blob, and their counts when readable. */
export interface FindingsPair {
  assetId: string;
  standardId: string;
  sha256: string;
  bytes: number;
  contentType: string;
  /** Null: the answer's shape is not one the client reads; the blob is kept as it came. */
  summary: ResultsSummary | null;
}

export interface FindingsOutcome {
  pairs: FindingsPair[];
  /** The pairs the job covers, fetched or not. */
  total: number;
  /** Why some or all findings are missing (a permission, a job without details, a bound reached). */
  missing?: { type: string; reason: string } | undefined;
}
