/**
 * Starting a CCS run exactly once. CCS has no idempotency key, so an execute whose answer was lost
 * (a timeout, a reset, a 5xx) may have started a run: every attempt after the first looks for a run
 * that is not in the workflow's pre-execute snapshot and adopts it, an attempt sends its execute only
 * while the Temporal server cannot have given it up yet (so two attempts never execute one after the
 * other unseen), and a cancelled execute is settled by `findRunOfCancelledExecute`.
 */
import { Context } from '@temporalio/activity';
import type { CcsClient } from '../ccs/client';
import { RUN_SNAPSHOT_SIZE, type ExecuteJobInput, type ExecuteJobResult } from '../domain/activities';
import { ATTENTION_ERROR_TYPES, CcsError, ErrorType } from '../domain/errors';
import { jobAlreadyRunning } from '../domain/failures';
import { latestRunInProgress, newestFirst, type JobRun } from '../domain/job-run';
import { boundedRun } from './bounded-run';
import { heartbeating, sleep, sleepHeartbeating, stopped } from './heartbeat';
import type { ServerOf } from './servers';
import { toFailure } from './to-failure';

/**
 * How long an execute attempt keeps listing the job for the run CCS started when no answer names it
 * (an accepted execute whose answer has no readable JobRunID; a retried execute refused as already
 * running): long enough for a listing that lags new runs by tens of seconds (a replica, a cache, a job
 * service that registers runs asynchronously). The looks start a second apart and grow to five.
 */
export const STARTED_RUN_LOOK_MS = 40_000;
const STARTED_RUN_FIRST_PAUSE_MS = 1_000;
const STARTED_RUN_MAX_PAUSE_MS = 5_000;
const STARTED_RUN_PAUSE_GROWTH = 1.5;
/** The looks end this long before the attempt's start-to-close timeout, so the attempt ends by itself. */
export const ATTEMPT_END_MARGIN_MS = 5_000;
/** The most jobs whose last execute outcome a worker remembers for the settle look. */
const MAX_REMEMBERED_EXECUTES = 10_000;

/**
 * How long after its attempt began an execute may still be sent: the attempt's heartbeat timeout less
 * this margin. The Temporal server gives an attempt up when no heartbeat reached it within the timeout
 * (heartbeats are throttled, and a loaded worker's may arrive late), and the next attempt looks for a
 * run and executes; an execute the given-up attempt sent after that look would start a second run
 * once the first had ended. The margin covers the time from the server's start of the attempt to
 * this worker's.
 */
export const EXECUTE_SEND_MARGIN_MS = 3_000;

/**
 * What an execute attempt heartbeats, so that later attempts know what earlier ones did: each new
 * heartbeat replaces the last, so it carries everything known so far. Only facts that make a later
 * attempt more careful are carried: a heartbeat may be lost (temporalio/temporal#8376), so none may
 * make one less careful (a "nothing was sent" could be stale by the time it is read).
 */
interface ExecuteProgress {
  /** CCS accepted an execute (2xx) whose answer named no readable run: the run exists. */
  executeAccepted?: boolean;
}

/** The first run started after the snapshot `knownRunIds`: the one our execute started, if listed yet. */
async function newRunSince(client: CcsClient, jobId: string, knownRunIds: string[], signal: AbortSignal): Promise<JobRun | undefined> {
  const known = new Set(knownRunIds);
  const runs = await client.getJobRuns(jobId, { count: knownRunIds.length + 5, signal });
  // By start time, not by list position (CCS's order is undocumented); a later run can only follow
  // ours once it ended.
  return newestFirst(runs.filter((r) => !known.has(r.jobRunId))).at(-1);
}

/**
 * The run an execute started that no answer names: the job is listed until a run not in
 * `knownRunIds` appears or `until` (epoch ms) passes, at growing intervals, heartbeating `progress`
 * (a listing may lag new runs). A failed look is looked past, but when the last one failed too its
 * error is thrown (retryable unless it needs a person): looks CCS did not answer (a rate limit
 * pausing every read, say) say nothing about whether the run exists, and only answered ones may end
 * in "none". A cancellation ends the wait at once.
 */
async function findStartedRun(
  client: CcsClient,
  jobId: string,
  knownRunIds: string[],
  until: number,
  progress: () => ExecuteProgress,
): Promise<JobRun | undefined> {
  const signal = Context.current().cancellationSignal;
  // One heartbeat timer for all the looks and pauses: each alone may be shorter than its period.
  return heartbeating(async () => {
    for (let pauseMs = STARTED_RUN_FIRST_PAUSE_MS; ; pauseMs = Math.min(pauseMs * STARTED_RUN_PAUSE_GROWTH, STARTED_RUN_MAX_PAUSE_MS)) {
      let failed: unknown;
      const found = await newRunSince(client, jobId, knownRunIds, signal).catch((err: unknown) => {
        if (signal.aborted) throw stopped(err);
        failed = err;
        return undefined;
      });
      if (found) return found;
      if (Date.now() + pauseMs > until) {
        if (failed !== undefined) throw toFailure(failed);
        return undefined;
      }
      await sleep(pauseMs);
    }
  }, progress);
}

/** True for an execute CCS clearly did not act on: never sent, or refused with a 4xx. */
function clearlyRefused(err: unknown): boolean {
  return err instanceof CcsError && (!err.mayHaveReachedServer || (err.status !== undefined && err.status >= 400 && err.status < 500));
}

/** True for a 4xx (an execute or a listing) that needs a person, so that the workflow fails fast on it. */
function refusedNeedingAttention(err: unknown): err is CcsError & { status: number } {
  return (
    err instanceof CcsError && err.status !== undefined && err.status >= 400 && err.status < 500 && ATTENTION_ERROR_TYPES.includes(err.type)
  );
}

/** True for a 2xx execute answer that names no run this client can read: CCS started one. */
function acceptedWithoutRun(err: unknown): boolean {
  return (
    err instanceof CcsError && err.type === ErrorType.ProtocolError && err.status !== undefined && err.status >= 200 && err.status < 300
  );
}

/** `executeJob` and its settle look, over the clients `serverOf` picks. */
export function createExecuteActivities(serverOf: ServerOf) {
  /**
   * Whether this worker's latest execute of a job may have reached CCS without its answer being seen
   * (a timeout, a reset, a 5xx). Only a hint that saves the settle wait after a cancel when the answer
   * was a clear refusal (a 429, a 4xx, never sent); unknown (another worker) counts as ambiguous.
   */
  const executeAmbiguous = new Map<string, boolean>();
  const noteExecute = (jobId: string, ambiguous: boolean): void => {
    executeAmbiguous.delete(jobId);
    executeAmbiguous.set(jobId, ambiguous);
    if (executeAmbiguous.size > MAX_REMEMBERED_EXECUTES) executeAmbiguous.delete(executeAmbiguous.keys().next().value!);
  };

  return {
    /**
     * Starts a run of the job. CCS has no idempotency key, so every attempt after the first looks for
     * a run that is not in `knownRunIds` and adopts it instead of executing again; when its own
     * execute is then refused (400) while that run is not listed yet, it keeps looking for up to
     * STARTED_RUN_LOOK_MS and adopts the run when it appears. The execute is not sent later than the
     * attempt's heartbeat timeout (less EXECUTE_SEND_MARGIN_MS) after the attempt began: past that the
     * server may have started the next attempt, whose look would miss a run this one starts. Raises
     * `CcsJobAlreadyRunning` when CCS refuses because a run is in progress that is not this workflow's;
     * other failures are typed as their CCS errors. Safe to retry: that is what adoption is for.
     */
    async executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult> {
      const { jobId, knownRunIds } = input;
      const client = serverOf(input);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const began = Date.now();
      const lookMs = Math.min(STARTED_RUN_LOOK_MS, ctx.info.startToCloseTimeoutMs - ATTEMPT_END_MARGIN_MS);
      const lookUntil = began + lookMs;
      // Without a heartbeat timeout the server gives the attempt up at its start-to-close timeout; a
      // timeout shorter than twice the margin (a test's) keeps half of it.
      const givenUpAfter = ctx.info.heartbeatTimeoutMs ?? ctx.info.startToCloseTimeoutMs;
      const sendBy = began + Math.max(givenUpAfter - EXECUTE_SEND_MARGIN_MS, givenUpAfter / 2);
      const prior = ctx.info.heartbeatDetails as ExecuteProgress | undefined;
      // Attempt numbers count this activity's attempts (a workflow schedules one execute), so the first
      // attempt follows no execute of this workflow. A later one always assumes an earlier execute may
      // have reached CCS: even one CCS refused may have been followed by another whose heartbeat was
      // lost with its worker.
      const earlierMayHaveStarted = ctx.info.attempt > 1;
      let progress: ExecuteProgress = prior?.executeAccepted === true ? { executeAccepted: true } : {};
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
        if (progress.executeAccepted)
          throw new CcsError(
            ErrorType.ProtocolError,
            `CCS accepted the execute of job ${jobId} but its run is not listed yet; looking again (never executing twice)`,
          );
        // Not cut short by a cancellation: once sent, the POST runs to its answer (bounded by the request
        // deadline), so a workflow cancelled meanwhile learns the run it started instead of orphaning it.
        let run: JobRun;
        try {
          noteExecute(jobId, true);
          run = await heartbeating(
            () => client.executeJob(jobId, { sendBy }),
            () => progress,
          );
          noteExecute(jobId, false);
        } catch (err) {
          // This execute started nothing; whether an earlier attempt's did is as open as before.
          if (clearlyRefused(err)) noteExecute(jobId, earlierMayHaveStarted);
          if (acceptedWithoutRun(err)) {
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
            throw toFailure(
              new CcsError(
                ErrorType.BadRequest,
                `CCS refused the execute of job ${jobId} (400) after an earlier attempt's execute may have started a run, and no new run of the job was listed within ${Math.max(0, Math.round(lookMs / 1000))} s; look for a run of the job in CCS (${err.message})`,
                { status: 400, cause: err },
              ),
            );
          }
          // CCS's 400 texts are undocumented: tell "already running" apart by looking, not by wording.
          // A failed look is retried (its own, retryable error), never mistaken for a final 400.
          const runs = await client.getJobRuns(jobId, { count: RUN_SNAPSHOT_SIZE, signal }).catch((lookErr: unknown) => {
            throw toFailure(lookErr);
          });
          const inProgress = latestRunInProgress(runs);
          if (inProgress) throw jobAlreadyRunning(jobId, inProgress);
        }
        if (earlierMayHaveStarted && refusedNeedingAttention(err)) {
          // A 401/403/404 fails the workflow fast, which is right only when CCS has no run of ours: the
          // run an earlier attempt may have started (its answer lost, or still being processed) would
          // otherwise go unwatched. Looked for as after a 400; the refusal is raised when none is listed.
          const ours = await findStartedRun(client, jobId, knownRunIds, lookUntil, () => progress);
          if (ours) return adopt(ours, `execute refused (${err.status}); adopted the run an earlier execute attempt started`);
        }
        throw toFailure(err);
      }
    },

    /**
     * After an execute that was cancelled before its outcome was known: the run it may have started.
     * Looks once, and when nothing is there, once more after the client's request timeout (plus a
     * second): CCS (IIS) goes on processing a request whose client gave up, so a run can appear after
     * the execute timed out. Null when neither look finds one. Safe to retry (reads only).
     */
    async findRunOfCancelledExecute(input: ExecuteJobInput): Promise<JobRun | null> {
      const { jobId, knownRunIds } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      try {
        const first = await newRunSince(client, jobId, knownRunIds, signal);
        if (first) return boundedRun(first);
        if (executeAmbiguous.get(jobId) === false) return null; // this worker saw CCS refuse it
        await sleepHeartbeating(client.requestTimeoutMs + 1_000);
        const late = await newRunSince(client, jobId, knownRunIds, signal);
        return late ? boundedRun(late) : null;
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}
