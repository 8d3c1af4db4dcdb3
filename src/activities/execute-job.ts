/**
 * Starting a CCS run exactly once. CCS has no idempotency key, so an execute whose answer was lost
 * (a timeout, a reset, a 5xx) may have started a run: the attempts of one `executeJob` heartbeat
 * what they sent, a later attempt first looks for a run that is not in the workflow's pre-execute
 * snapshot and adopts it, and a cancelled execute is settled by `findRunOfCancelledExecute`.
 */
import { Context } from '@temporalio/activity';
import type { CcsClient } from '../ccs/client';
import { RUN_SNAPSHOT_SIZE, type ExecuteJobInput, type ExecuteJobResult } from '../domain/activities';
import { ATTENTION_ERROR_TYPES, CcsError, ErrorType } from '../domain/errors';
import { jobAlreadyRunning } from '../domain/failures';
import { latestRunInProgress, newestFirst, type JobRun } from '../domain/job-run';
import { boundedRun } from './bounded-run';
import { heartbeating, sleep, sleepHeartbeating } from './heartbeat';
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
 * What an execute attempt heartbeats, so that later attempts know what earlier ones did: each new
 * heartbeat replaces the last, so it carries everything known so far.
 */
interface ExecuteProgress {
  /** An execute was sent that may have reached CCS (false: every one sent was clearly refused). */
  executeSent?: boolean;
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
 * (a listing may lag new runs). A failed look is looked past; a cancellation ends the wait at once.
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
      const found = await newRunSince(client, jobId, knownRunIds, signal).catch(() => undefined);
      if (found) return found;
      if (Date.now() + pauseMs > until) return undefined;
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
     * Starts a run of the job. CCS has no idempotency key, so an attempt after one whose execute may
     * have reached CCS first looks for a run that is not in `knownRunIds` and adopts it instead of
     * executing again; when its own execute is then refused (400) while that run is not listed yet, it
     * keeps looking for up to STARTED_RUN_LOOK_MS and adopts the run when it appears. Raises
     * `CcsJobAlreadyRunning` when CCS refuses because a run is in progress that is not this workflow's;
     * other failures are typed as their CCS errors. Safe to retry: that is what adoption is for.
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
      // its heartbeat delivered.
      const earlierMayHaveStarted = ctx.info.attempt > 1 && prior?.executeSent !== false;
      let progress: ExecuteProgress = {
        executeSent: earlierMayHaveStarted,
        ...(prior?.executeAccepted === true ? { executeAccepted: true } : {}),
      };
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
          // Sent before the POST: an attempt's first heartbeat goes to the server at once.
          record({ executeSent: true });
          run = await heartbeating(
            () => client.executeJob(jobId),
            () => progress,
          );
          noteExecute(jobId, false);
        } catch (err) {
          if (clearlyRefused(err)) {
            // This execute started nothing; whether an earlier attempt's did is as open as before.
            noteExecute(jobId, earlierMayHaveStarted);
            record({ executeSent: earlierMayHaveStarted });
          }
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
