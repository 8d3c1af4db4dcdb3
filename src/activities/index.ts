/**
 * Activities: each one CCS call (or a short, retry-safe group of reads), nothing else. Built by a
 * factory over an injected client so tests and workers choose the CCS server.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { CcsClient } from '../ccs/client';
import { pause } from '../ccs/http';
import { RUN_LIMITS, hasEnded, hasUndocumentedStatus, isTerminalStatus, latestRunInProgress, newestFirst, type JobRun, type JobRunMessage } from '../domain/job-run';
import { ATTENTION_ERROR_TYPES, CcsError, ErrorType, type ErrorTypeName } from '../domain/errors';
import { jobAlreadyRunning } from '../domain/failures';
import { MAX_CANDIDATES, type JobCandidate } from '../domain/job-names';
import { formatDuration } from '../domain/validation';
import { boundedRun, runSummary } from './bounded-run';
import { toFailure } from './to-failure';

/** How many of the latest runs are recorded before executing, to recognise a run our execute created. */
export const RUN_SNAPSHOT_SIZE = 10;
const POLL_GROWTH = 1.25;

/**
 * How long an execute attempt keeps listing the job for the run CCS started when no answer names it
 * (an accepted execute whose answer has no readable JobRunID; a retried execute refused as already
 * running): long enough for a listing that lags new runs by tens of seconds (a replica, a cache, a job
 * service that registers runs asynchronously). The looks start a second apart and grow to five.
 */
export const STARTED_RUN_LOOK_MS = 40_000;
const STARTED_RUN_FIRST_PAUSE_MS = 1_000;
const STARTED_RUN_MAX_PAUSE_MS = 5_000;
/** The looks end this long before the attempt's start-to-close timeout, so the attempt ends by itself. */
export const ATTEMPT_END_MARGIN_MS = 5_000;

/**
 * What an execute attempt heartbeats, so that later attempts know what earlier ones did: each new
 * heartbeat replaces the last, so it carries everything known so far.
 */
interface ExecuteProgress {
  /** An execute was sent that may have reached CCS (false: every one sent was clearly refused). */
  executeSent?: boolean;
  /** CCS accepted an execute (2xx) whose answer named no readable run: the run exists. */
  executeAccepted?: boolean;
}

export interface ActivityDeps {
  /** The `default` CCS server (shorthand for `servers: { default: client }`). */
  client?: CcsClient;
  /** CCS servers by the name a run gives in its `ccs` field. */
  servers?: Readonly<Record<string, CcsClient>>;
  /** Told what the activities saw, for metrics. */
  events?: ActivityEvents;
  /** How waits poll (CCS_WATCH_THRESHOLD, CCS_POLL_JITTER). */
  polling?: Partial<PollingSettings>;
}

/**
 * How a wait polls. Below `holdBelowMs` a wait that may hold (`hold` in its input) polls inside one
 * activity attempt, heartbeating: a retry-as-poll costs the Temporal server a dispatch, a failed
 * attempt and a timer per poll, which short intervals multiply. At or above it, each poll is an
 * attempt (Temporal's own advice for intervals of a minute or more).
 */
export interface PollingSettings {
  /** Poll intervals below this are held in one attempt. 0: never hold. Default 60 s. */
  holdBelowMs: number;
  /** Each wait is this fraction longer or shorter at random (default 0.1), so runs started together do not poll in lockstep. */
  jitter: number;
  /** Random numbers in [0, 1), for tests. */
  random: () => number;
}

export const DEFAULT_POLLING: PollingSettings = { holdBelowMs: 60_000, jitter: 0.1, random: Math.random };

/** What a held wait heartbeats: how many reads it made as of which attempt, so a resumed attempt counts on. */
export interface WatchProgress {
  polls: number;
  attempt: number;
  /** The status it last read (for people reading `describe`). */
  status: string;
}

/** Domain events for metrics (runs started and ended are counted by the workflow, once each). */
export interface ActivityEvents {
  /** One status read of a waiting run (each poll attempt). */
  poll?(ccs: string): void;
}

/** Every activity input names the CCS server by `ccs`; absent means `default`. */
interface OnServer {
  ccs?: string | undefined;
}

export interface FindJobsByNameInput extends OnServer {
  name: string;
}

/** What Search Job by Name found: the first MAX_CANDIDATES jobs, and how many CCS answered. */
export interface FindJobsByNameResult {
  candidates: JobCandidate[];
  total: number;
}

export interface ListJobRunsInput extends OnServer {
  jobId: string;
  count?: number;
}

export interface ExecuteJobInput extends OnServer {
  jobId: string;
  /** Runs that existed before this workflow executed (from `listJobRuns`). */
  knownRunIds: string[];
}

export interface ExecuteJobResult {
  run: JobRun;
  /** True when a previous attempt's run was found and adopted instead of starting another. */
  adopted: boolean;
}

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
   * The wait may hold: poll inside this attempt while the interval is below the worker's threshold,
   * heartbeating (workflows from the held-watch change on, whose wait options allow long attempts).
   */
  hold?: boolean;
  /**
   * The run exists and must not be dropped (workflows from the attention change on): errors that need a
   * person are reported once as `attention` and then retried, never final. `attention` is the type the
   * workflow flags now (null when clear): the same error again is retried quietly, a read clears it.
   * `unknownStatus` (while the workflow's last read showed a status outside 0–7): since when, and for
   * how long that is allowed before the wait returns the `CcsUnknownStatus` attention with the run.
   */
  watch?: { attention: string | null; unknownStatus?: UnknownStatusWatch };
  /**
   * Live messages (workflows from the live-messages change on): every `every`-th read of the run
   * (counted over the whole run: `pollsBefore` were made before this wait) asks for its messages, and
   * so does a read that sees a change; when CCS lists more than the `known` ones, the wait returns them.
   */
  live?: { known: number; every: number; pollsBefore: number };
}

/** A run's status outside 0–7: first seen at `since` (ISO-8601), flagged once it has lasted `afterMs`. */
export interface UnknownStatusWatch {
  since: string;
  afterMs: number;
}

/** Messages CCS listed beyond the ones the workflow knew: how many in all, and the newest new ones. */
export interface LiveMessages {
  total: number;
  /** At most LIVE_BATCH, the newest of the new ones, oldest first; texts cut to RUN_LIMITS.messageChars. */
  fresh: JobRunMessage[];
}

/** The most new messages one wait returns. */
export const LIVE_BATCH = 50;

export interface WaitForJobRunChangeResult {
  run: JobRun;
  live?: LiveMessages;
  /** Status reads this wait made (its attempt number). */
  polls: number;
  observedAt: string;
  /**
   * In watch mode: null when the read succeeded (attention cleared), or the `CcsUnknownStatus`
   * attention the run read calls for (its status has been outside 0–7 for too long).
   */
  attention?: { type: string; message: string } | null;
}

/** In watch mode: the run could not be read for a reason that needs a person; the workflow flags it and asks again. */
export interface WaitForJobRunAttention {
  run?: undefined;
  live?: undefined;
  attention: { type: string; message: string };
  polls: number;
  observedAt: string;
}

export interface AbortJobRunInput extends OnServer {
  jobId: string;
  jobRunId: string;
  /** The abort is retried, whatever the error, until the workflow's abortConfirmTimeout (attention change on). */
  retryAnyway?: boolean;
}

export interface AbortJobRunResult {
  /** False when CCS refused because the run had already ended; `run` then holds its final state. */
  accepted: boolean;
  run?: JobRun;
}

/** The messages beyond the first `known`: their count, and the newest LIVE_BATCH of them, bounded. */
export function liveMessages(messages: readonly JobRunMessage[], known: number): LiveMessages {
  const fresh = messages.slice(Math.max(known, messages.length - LIVE_BATCH)).map((m) => ({
    time: m.time,
    text: m.text.length > RUN_LIMITS.messageChars ? `${m.text.slice(0, RUN_LIMITS.messageChars)}… (${m.text.length - RUN_LIMITS.messageChars} more characters)` : m.text,
  }));
  return { total: messages.length, fresh };
}

/**
 * The attention a run just read calls for in watch mode: `CcsUnknownStatus` once its status has been
 * outside the documented codes 0–7 for at least `unknown.afterMs`; null otherwise.
 */
function unknownStatusAttention(run: JobRun, unknown: UnknownStatusWatch | undefined, now: number): { type: string; message: string } | null {
  if (!unknown || !hasUndocumentedStatus(run)) return null;
  const lastedMs = now - Date.parse(unknown.since);
  if (!(lastedMs >= unknown.afterMs)) return null;
  return {
    type: ErrorType.UnknownStatus,
    message:
      `job run ${run.jobRunId} has reported status ${JSON.stringify(run.status)}, outside the documented codes 0–7, for ${formatDuration(lastedMs)} ` +
      `(unknownStatusAttentionAfter ${formatDuration(unknown.afterMs)}); it is still followed: ask the CCS administrator what this status means for the job`,
  };
}

/** The poll interval after `attempt - 1` unchanged polls: grows from the start value toward the maximum. */
export function pollDelayMs(attempt: number, startMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, startMs * POLL_GROWTH ** Math.max(0, attempt - 1)));
}

/** `ms` made up to `jitter` longer or shorter at random (never below 1 s: Temporal's timer resolution). */
export function jittered(ms: number, jitter: number, random: () => number = Math.random): number {
  if (jitter <= 0) return ms;
  return Math.max(1_000, Math.round(ms * (1 + jitter * (2 * random() - 1))));
}

/** Why an activity was cancelled: the worker stopping (hand the wait to another worker) or the workflow. */
function workerShuttingDown(ctx: Context): boolean {
  const reason: unknown = ctx.cancellationSignal.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return ctx.cancellationSignal.aborted && text.includes('WORKER_SHUTDOWN');
}

/**
 * A held wait that was cancelled: by the worker stopping (a retryable failure at once, so another
 * worker takes the wait over within a second; never an abort) or by the workflow (its cancellation).
 */
function stopped(ctx: Context, err: unknown): Error {
  if (workerShuttingDown(ctx)) {
    return ApplicationFailure.create({ type: ErrorType.WorkerStopping, message: 'this worker is stopping; the wait continues on another worker', nextRetryDelay: 1_000, category: ApplicationFailureCategory.BENIGN });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The benign failure that makes the server schedule the next poll after `delayMs`. */
function unchanged(message: string, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.RunUnchanged, message, nextRetryDelay: delayMs, category: ApplicationFailureCategory.BENIGN });
}

/**
 * Runs `fn` while heartbeating, so that the server notices a worker that died mid-call within the
 * activity's heartbeat timeout instead of its much longer start-to-close timeout.
 */
async function heartbeating<T>(fn: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  const every = ctx.info.heartbeatTimeoutMs ? Math.max(200, ctx.info.heartbeatTimeoutMs / 3) : 0;
  // A heartbeat replaces the details of the last one: a held wait's progress is sent with each.
  const timer = every ? setInterval(() => ctx.heartbeat(details?.()), every) : undefined;
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

export function createActivities({ client: defaultClient, servers = {}, events = {}, polling: pollingOverrides = {} }: ActivityDeps) {
  const clients: Readonly<Record<string, CcsClient>> = defaultClient ? { ...servers, default: defaultClient } : servers;
  const polling: PollingSettings = { ...DEFAULT_POLLING, ...pollingOverrides };
  /**
   * Whether this worker's latest execute of a job may have reached CCS without its answer being seen
   * (a timeout, a reset, a 5xx). Only a hint that saves the settle wait after a cancel when the answer
   * was a clear refusal (a 429, a 4xx, never sent); unknown (another worker) counts as ambiguous.
   */
  const executeAmbiguous = new Map<string, boolean>();
  const noteExecute = (jobId: string, ambiguous: boolean): void => {
    executeAmbiguous.delete(jobId);
    executeAmbiguous.set(jobId, ambiguous);
    if (executeAmbiguous.size > 10_000) executeAmbiguous.delete(executeAmbiguous.keys().next().value!);
  };

  /** The client for the named server; an unknown name fails the run before anything is sent. */
  function serverOf({ ccs = 'default' }: OnServer): CcsClient {
    const client = clients[ccs];
    if (client) return client;
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: `ccs: no CCS server named ${JSON.stringify(ccs)} is configured on this worker (configured: ${Object.keys(clients).sort().join(', ') || 'none'}); fix the ccs field or add it to the worker's CCS_SERVERS_FILE`,
    });
  }

  /**
   * The run an execute started that no answer names: the job is listed until a run not in
   * `knownRunIds` appears or `until` (epoch ms) passes, at growing intervals, heartbeating `progress`
   * (a listing may lag new runs). A failed look is looked past; a cancellation ends the wait at once.
   */
  async function findStartedRun(client: CcsClient, jobId: string, knownRunIds: string[], until: number, progress: () => ExecuteProgress): Promise<JobRun | undefined> {
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    return heartbeating(async () => {
      for (let pauseMs = STARTED_RUN_FIRST_PAUSE_MS; ; pauseMs = Math.min(pauseMs * 1.5, STARTED_RUN_MAX_PAUSE_MS)) {
        const found = await newRunSince(client, jobId, knownRunIds, signal).catch(() => undefined);
        if (found) return found;
        if (Date.now() + pauseMs > until) return undefined;
        try {
          await pause(pauseMs, signal);
        } catch (err) {
          throw stopped(ctx, err);
        }
      }
    }, progress);
  }

  async function newRunSince(client: CcsClient, jobId: string, knownRunIds: string[], signal: AbortSignal): Promise<JobRun | undefined> {
    const known = new Set(knownRunIds);
    const runs = await client.getJobRuns(jobId, { count: knownRunIds.length + 5, signal });
    // The first run started after the snapshot is the one our execute started (by start time, not by
    // list position: CCS's order is undocumented); a later one can only follow it once it ended.
    return newestFirst(runs.filter((r) => !known.has(r.jobRunId))).at(-1);
  }

  return {
    /** The jobs CCS knows by this exact name (Search Job by Name), bounded. Safe to retry. */
    async findJobsByName(input: FindJobsByNameInput): Promise<FindJobsByNameResult> {
      const client = serverOf(input);
      try {
        const jobs = await client.findJobsByName(input.name, Context.current().cancellationSignal);
        const candidates = jobs.slice(0, MAX_CANDIDATES).map((job) => ({ jobId: job.jobId, name: job.name?.slice(0, 256) ?? null, type: job.type?.slice(0, 100) ?? null }));
        return { candidates, total: jobs.length };
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** One page of Search Jobs: the JobIDs matching `search`. Safe to retry. */
    async searchJobIds(input: OnServer & { search: string; page: number; pageSize: number }): Promise<string[]> {
      const client = serverOf(input);
      try {
        const jobs = await client.searchJobs(input.search, { page: input.page, pageSize: input.pageSize, signal: Context.current().cancellationSignal });
        return jobs.map((job) => job.jobId);
      } catch (err) {
        throw toFailure(err);
      }
    },

    /**
     * Aborts a run no workflow owns (a reconcile's `abort`) and reads it every two seconds until CCS
     * reports it ended, for at most `confirmWithinMs`. A 400 on a run that already ended counts as
     * confirmed. Returns the CCS requests it made.
     */
    async abortOrphanRun(input: AbortJobRunInput & { confirmWithinMs: number }): Promise<{ confirmed: boolean; status: string; requests: number }> {
      const { jobId, jobRunId } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      let requests = 1;
      try {
        await client.abortJobRun(jobRunId, signal).catch((err: unknown) => {
          if (!(err instanceof CcsError && err.type === ErrorType.BadRequest)) throw err;
        });
        const giveUpAt = Date.now() + input.confirmWithinMs;
        for (;;) {
          requests++;
          const run = await heartbeating(() => client.getJobRun(jobId, jobRunId, { signal }));
          if (hasEnded(run)) return { confirmed: true, status: run.status, requests };
          if (Date.now() >= giveUpAt) return { confirmed: false, status: run.status, requests };
          await pause(2_000, signal);
        }
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** The job's `count` most recent runs, in CCS's order (undocumented: order them with `newestFirst`). Safe to retry. */
    async listJobRuns(input: ListJobRunsInput): Promise<JobRun[]> {
      const { jobId, count = RUN_SNAPSHOT_SIZE } = input;
      const client = serverOf(input);
      try {
        return (await client.getJobRuns(jobId, { count, signal: Context.current().cancellationSignal })).map(runSummary);
      } catch (err) {
        throw toFailure(err);
      }
    },

    /**
     * Starts a run of the job. CCS has no idempotency key, so an attempt after one whose execute may
     * have reached CCS first looks for a run that is not in `knownRunIds` and adopts it instead of
     * executing again; when its own execute is then refused (400) while that run is not listed yet, it
     * keeps looking for up to STARTED_RUN_LOOK_MS and adopts the run when it appears. Raises
     * `CcsJobAlreadyRunning` when CCS refuses because a run is in progress that is not this workflow's.
     */
    async executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult> {
      const { jobId, knownRunIds } = input;
      const client = serverOf(input);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const lookMs = Math.min(STARTED_RUN_LOOK_MS, ctx.info.startToCloseTimeoutMs - ATTEMPT_END_MARGIN_MS);
      const lookUntil = Date.now() + lookMs;
      const prior = ctx.info.heartbeatDetails as ExecuteProgress | undefined;
      // Attempt numbers count this activity's attempts (a workflow schedules one execute), so the first
      // attempt follows no execute of this workflow. A later one assumes an earlier execute may have
      // reached CCS unless a heartbeat said none did: an attempt on a worker that died may not have had
      // its heartbeat delivered, and one on an older worker sent none.
      const earlierMayHaveStarted = ctx.info.attempt > 1 && prior?.executeSent !== false;
      let progress: ExecuteProgress = { executeSent: earlierMayHaveStarted, ...(prior?.executeAccepted === true ? { executeAccepted: true } : {}) };
      const record = (change: ExecuteProgress): void => {
        progress = { ...progress, ...change };
        ctx.heartbeat(progress);
      };
      const adopt = (found: JobRun, why: string): ExecuteJobResult => {
        ctx.log.info(why, { jobId, jobRunId: found.jobRunId });
        return { run: boundedRun(found), adopted: true };
      };
      try {
        if (earlierMayHaveStarted) {
          const earlier = await newRunSince(client, jobId, knownRunIds, signal);
          if (earlier) return adopt(earlier, 'adopted the run an earlier execute attempt started');
        }
        // An earlier attempt's execute CCS accepted (2xx) with no readable run in its answer: the run
        // exists, so this attempt only looks for it and never executes again.
        if (progress.executeAccepted) throw new CcsError(ErrorType.ProtocolError, `CCS accepted the execute of job ${jobId} but its run is not listed yet; looking again (never executing twice)`);
        // Not cut short by a cancellation: once sent, the POST runs to its answer (bounded by the request
        // deadline), so a workflow cancelled meanwhile learns the run it started instead of orphaning it.
        let run: JobRun;
        try {
          noteExecute(jobId, true);
          // Sent before the POST: an attempt's first heartbeat goes to the server at once.
          record({ executeSent: true });
          run = await heartbeating(() => client.executeJob(jobId), () => progress);
          noteExecute(jobId, false);
        } catch (err) {
          const clearRefusal = err instanceof CcsError && (!err.mayHaveReachedServer || (err.status !== undefined && err.status >= 400 && err.status < 500));
          if (clearRefusal) {
            // This execute started nothing; whether an earlier attempt's did is as open as before.
            noteExecute(jobId, earlierMayHaveStarted);
            record({ executeSent: earlierMayHaveStarted });
          }
          if (err instanceof CcsError && err.type === ErrorType.ProtocolError && err.status !== undefined && err.status >= 200 && err.status < 300) {
            // CCS said yes, but the answer names no run we can read: find it by listing, like an ambiguous execute.
            record({ executeAccepted: true });
            const started = await findStartedRun(client, jobId, knownRunIds, lookUntil, () => progress);
            if (started) return adopt(started, 'execute answered without a readable JobRunID; adopted the new run');
          }
          throw err;
        }
        ctx.log.info('CCS job executed', { jobId, jobRunId: run.jobRunId, status: run.status });
        return { run: boundedRun(run), adopted: false };
      } catch (err) {
        if (err instanceof CcsError && err.type === ErrorType.BadRequest) {
          if (earlierMayHaveStarted) {
            // Refused while the run an earlier attempt started may be going, listed late or not yet.
            const ours = await findStartedRun(client, jobId, knownRunIds, lookUntil, () => progress);
            if (ours) return adopt(ours, 'execute refused as already running; adopted the run an earlier execute attempt started');
            throw toFailure(new CcsError(ErrorType.BadRequest, `CCS refused the execute of job ${jobId} (400) after an earlier attempt's execute may have started a run, and no new run of the job was listed within ${Math.max(0, Math.round(lookMs / 1000))} s; look for a run of the job in CCS (${err.message})`, { status: 400, cause: err }));
          }
          // CCS's 400 texts are undocumented: tell "already running" apart by looking, not by wording.
          // A failed look is retried (its own, retryable error), never mistaken for a final 400.
          const runs = await client.getJobRuns(jobId, { count: RUN_SNAPSHOT_SIZE, signal }).catch((lookErr: unknown) => {
            throw toFailure(lookErr);
          });
          const inProgress = latestRunInProgress(runs);
          if (inProgress) throw jobAlreadyRunning(jobId, inProgress);
        }
        throw toFailure(err);
      }
    },

    /**
     * Returns when the run's status (or custom status text) differs from `lastStatus`, or the run has
     * ended (then with its messages). While the poll interval is below the worker's threshold and the
     * input allows it (`hold`), it polls inside this attempt, heartbeating its progress; otherwise, and
     * once the interval has grown past the threshold, it throws the benign retryable `CcsRunUnchanged`
     * with the next (jittered) poll delay: retry-as-poll, which adds no history events either way. In
     * watch mode, an error that needs a person returns `attention` once, then is retried.
     */
    async waitForJobRunChange(input: WaitForJobRunChangeInput): Promise<WaitForJobRunChangeResult | WaitForJobRunAttention> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const prior = ctx.info.heartbeatDetails as WatchProgress | undefined;
      // Reads already made in this wait by earlier attempts: a held attempt heartbeats its count, and each
      // retry-as-poll attempt since then read once.
      const before = prior && typeof prior.polls === 'number' ? prior.polls + Math.max(0, attempt - 1 - prior.attempt) : Math.max(0, attempt - 1 - (input.delayFirstPoll ? 1 : 0));
      const first = input.delayFirstPoll === true && attempt === 1 && !prior;
      /** The wait before read number `n` of this wait (1-based). */
      const waitBefore = (n: number): number => pollDelayMs(input.delayFirstPoll ? n : n - 1, input.pollIntervalMs, input.maxPollIntervalMs);
      const held = (n: number): boolean => input.hold === true && waitBefore(n) < polling.holdBelowMs;
      const observedAt = (): string => new Date().toISOString();
      const { watch } = input;
      // Workflows from the watch change on also take a set end time for the end of a run (§9).
      const ended = (r: JobRun): boolean => (watch ? hasEnded(r) : isTerminalStatus(r.status));
      const signal = ctx.cancellationSignal;
      const next = (n: number): number => jittered(waitBefore(n), polling.jitter, polling.random);

      let polls = before;
      let progress: WatchProgress | undefined = prior;
      // The first read of a retry-as-poll wait is due after one interval: the server's timer waits, not us.
      if (first && !held(1)) throw unchanged(`first read of run ${input.jobRunId} is due in ${waitBefore(1)} ms`, next(1));
      for (;;) {
        const n = polls + 1;
        const holding = held(n);
        if (holding && (n > 1 || input.delayFirstPoll)) {
          try {
            await heartbeating(() => pause(next(n), signal), () => progress);
          } catch (err) {
            throw stopped(ctx, err);
          }
        }
        let run: JobRun;
        const { live } = input;
        // Messages are read every `every`-th read of the run, and after a read that saw a change.
        const withMessages = live !== undefined && (live.pollsBefore + n) % live.every === 0;
        try {
          const client = serverOf(input);
          events.poll?.(input.ccs ?? 'default');
          run = await heartbeating(async () => {
            const seen = await client.getJobRun(input.jobId, input.jobRunId, { signal, ...(withMessages ? { showMessages: true } : {}) });
            const changed = seen.status !== input.lastStatus || seen.customStatusText !== input.lastCustomStatusText;
            return ended(seen) || (live && changed && !withMessages) ? client.getJobRun(input.jobId, input.jobRunId, { signal, showMessages: true }) : seen;
          }, () => progress);
        } catch (err) {
          if (signal.aborted && holding) throw stopped(ctx, err);
          const delay = next(n + 1);
          const type = err instanceof CcsError ? err.type : err instanceof ApplicationFailure ? err.type : undefined;
          if (watch && type && ATTENTION_ERROR_TYPES.includes(type as ErrorTypeName)) {
            if (type !== watch.attention) return { attention: { type, message: (err as Error).message }, polls: n, observedAt: observedAt() };
            if (err instanceof ApplicationFailure) throw ApplicationFailure.create({ type, message: err.message, nextRetryDelay: delay });
          }
          throw toFailure(err, { nextRetryDelay: delay, retryAnyway: watch !== undefined });
        }
        polls = n;
        const fresh = live && run.messages && run.messages.length > live.known ? liveMessages(run.messages, live.known) : undefined;
        // What this read calls for: the workflow hears of it when it differs from what it flags now.
        const flagged = watch ? unknownStatusAttention(run, watch.unknownStatus, Date.now()) : null;
        if (ended(run) || run.status !== input.lastStatus || run.customStatusText !== input.lastCustomStatusText || (watch && watch.attention !== (flagged?.type ?? null)) || fresh) {
          // A run still going carries its messages in `live` only: the full list is read once, at the end.
          const shown = ended(run) ? run : { ...run, messages: undefined };
          return { run: boundedRun(shown), polls, observedAt: observedAt(), ...(watch ? { attention: flagged } : {}), ...(fresh ? { live: fresh } : {}) };
        }
        if (!held(polls + 1)) throw unchanged(`run ${run.jobRunId} still ${run.status}`, next(polls + 1));
        progress = { polls, attempt, status: run.status };
        ctx.heartbeat(progress);
      }
    },

    /**
     * After an execute that was cancelled before its outcome was known: the run it may have started.
     * Looks once, and when nothing is there, once more after the client's request timeout (plus a
     * second): CCS (IIS) goes on processing a request whose client gave up, so a run can appear after
     * the execute timed out. Null when neither look finds one.
     */
    async findRunOfCancelledExecute(input: ExecuteJobInput): Promise<JobRun | null> {
      const { jobId, knownRunIds } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      try {
        const first = await newRunSince(client, jobId, knownRunIds, signal);
        if (first) return boundedRun(first);
        if (executeAmbiguous.get(jobId) === false) return null; // this worker saw CCS refuse it
        await heartbeating(() => pause(client.requestTimeoutMs + 1_000, signal));
        const late = await newRunSince(client, jobId, knownRunIds, signal);
        return late ? boundedRun(late) : null;
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** Asks CCS to abort the run. When CCS refuses because the run already ended, reports that instead. */
    async abortJobRun(input: AbortJobRunInput): Promise<AbortJobRunResult> {
      const { jobId, jobRunId } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      try {
        await client.abortJobRun(jobRunId, signal);
        return { accepted: true };
      } catch (err) {
        if (err instanceof CcsError && err.type === ErrorType.BadRequest) {
          // Usually "not running": the run ended before the abort. If the look fails, retry the whole
          // abort rather than report CCS's 400 as final.
          const run = await client.getJobRun(jobId, jobRunId, { signal, showMessages: true }).catch((lookErr: unknown) => {
            throw toFailure(lookErr, { retryAnyway: input.retryAnyway });
          });
          if (input.retryAnyway ? hasEnded(run) : isTerminalStatus(run.status)) return { accepted: false, run: boundedRun(run) };
        }
        throw toFailure(err, { retryAnyway: input.retryAnyway });
      }
    },
  };
}

export type CcsActivities = ReturnType<typeof createActivities>;
