/**
 * Activities: each one CCS call (or a short, retry-safe group of reads), nothing else. Built by a
 * factory over an injected client so tests and workers choose the CCS server.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { CcsClient } from '../ccs/client';
import { hasEnded, isTerminalStatus, type JobRun } from '../domain/job-run';
import { ATTENTION_ERROR_TYPES, CcsError, ErrorType, type ErrorTypeName } from '../domain/errors';
import { jobAlreadyRunning } from '../domain/failures';
import { boundedRun, runSummary } from './bounded-run';
import { toFailure } from './to-failure';

/** How many of the latest runs are recorded before executing, to recognise a run our execute created. */
export const RUN_SNAPSHOT_SIZE = 10;
const POLL_GROWTH = 1.25;

export interface ActivityDeps {
  /** The `default` CCS server (shorthand for `servers: { default: client }`). */
  client?: CcsClient;
  /** CCS servers by the name a run gives in its `ccs` field. */
  servers?: Readonly<Record<string, CcsClient>>;
  /** Told what the activities saw, for metrics. */
  events?: ActivityEvents;
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
   * The run exists and must not be dropped (workflows from the attention change on): errors that need a
   * person are reported once as `attention` and then retried, never final. `attention` is the type the
   * workflow flags now (null when clear): the same error again is retried quietly, a read clears it.
   */
  watch?: { attention: string | null };
}

export interface WaitForJobRunChangeResult {
  run: JobRun;
  /** Status reads this wait made (its attempt number). */
  polls: number;
  observedAt: string;
  /** In watch mode: null when the read succeeded (attention cleared). */
  attention?: null;
}

/** In watch mode: the run could not be read for a reason that needs a person; the workflow flags it and asks again. */
export interface WaitForJobRunAttention {
  run?: undefined;
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

/** The poll interval after `attempt - 1` unchanged polls: grows from the start value toward the maximum. */
export function pollDelayMs(attempt: number, startMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, startMs * POLL_GROWTH ** Math.max(0, attempt - 1)));
}

/** The benign failure that makes the server schedule the next poll after `delayMs`. */
function unchanged(message: string, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.RunUnchanged, message, nextRetryDelay: delayMs, category: ApplicationFailureCategory.BENIGN });
}

/**
 * Runs `fn` while heartbeating, so that the server notices a worker that died mid-call within the
 * activity's heartbeat timeout instead of its much longer start-to-close timeout.
 */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const every = ctx.info.heartbeatTimeoutMs ? Math.max(200, ctx.info.heartbeatTimeoutMs / 3) : 0;
  const timer = every ? setInterval(() => ctx.heartbeat(), every) : undefined;
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

export function createActivities({ client: defaultClient, servers = {}, events = {} }: ActivityDeps) {
  const clients: Readonly<Record<string, CcsClient>> = defaultClient ? { ...servers, default: defaultClient } : servers;

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

  /** The run an accepted execute started: listed again a few times, a second apart, as CCS may be slow to list it. */
  async function findStartedRun(client: CcsClient, jobId: string, knownRunIds: string[], signal: AbortSignal): Promise<JobRun | undefined> {
    for (let look = 0; look < 5; look++) {
      const found = await newRunSince(client, jobId, knownRunIds, signal).catch(() => undefined);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return undefined;
  }

  async function newRunSince(client: CcsClient, jobId: string, knownRunIds: string[], signal: AbortSignal): Promise<JobRun | undefined> {
    const known = new Set(knownRunIds);
    const runs = await client.getJobRuns(jobId, { count: knownRunIds.length + 5, signal });
    return runs.find((r) => !known.has(r.jobRunId));
  }

  return {
    /** The latest runs of a job, newest first. Safe to retry. */
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
     * Starts a run of the job. CCS has no idempotency key, so a retry first looks for a run that an
     * earlier attempt may have started (one not in `knownRunIds`) and adopts it instead of executing
     * again. Raises `CcsJobAlreadyRunning` when CCS refuses because a run is in progress.
     */
    async executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult> {
      const { jobId, knownRunIds } = input;
      const client = serverOf(input);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      // An earlier attempt whose execute CCS accepted (200) but whose answer named no readable run:
      // the run exists, so this attempt only looks for it and never executes again.
      const accepted = (ctx.info.heartbeatDetails as { executeAccepted?: boolean } | undefined)?.executeAccepted === true;
      try {
        if (ctx.info.attempt > 1) {
          const earlier = await newRunSince(client, jobId, knownRunIds, signal);
          if (earlier) {
            ctx.log.info('adopted the run an earlier execute attempt started', { jobId, jobRunId: earlier.jobRunId });
            return { run: boundedRun(earlier), adopted: true };
          }
        }
        if (accepted) throw new CcsError(ErrorType.ProtocolError, `CCS accepted the execute of job ${jobId} but its run is not listed yet; looking again (never executing twice)`);
        // Not cut short by a cancellation: once sent, the POST runs to its answer (bounded by the request
        // deadline), so a workflow cancelled meanwhile learns the run it started instead of orphaning it.
        let run: JobRun;
        try {
          run = await heartbeating(() => client.executeJob(jobId));
        } catch (err) {
          if (err instanceof CcsError && err.type === ErrorType.ProtocolError && err.status !== undefined && err.status >= 200 && err.status < 300) {
            // CCS said yes, but the answer names no run we can read: find it by listing, like an ambiguous execute.
            ctx.heartbeat({ executeAccepted: true });
            const started = await findStartedRun(client, jobId, knownRunIds, signal);
            if (started) {
              ctx.log.info('execute answered without a readable JobRunID; adopted the new run', { jobId, jobRunId: started.jobRunId });
              return { run: boundedRun(started), adopted: true };
            }
          }
          throw err;
        }
        ctx.log.info('CCS job executed', { jobId, jobRunId: run.jobRunId, status: run.status });
        return { run: boundedRun(run), adopted: false };
      } catch (err) {
        if (err instanceof CcsError && err.type === ErrorType.BadRequest) {
          // CCS's 400 texts are undocumented: tell "already running" apart by looking, not by wording.
          // A failed look is retried (its own, retryable error), never mistaken for a final 400.
          const [latest] = await client.getJobRuns(jobId, { count: 1, signal }).catch((lookErr: unknown) => {
            throw toFailure(lookErr);
          });
          if (latest && !hasEnded(latest)) {
            throw jobAlreadyRunning(jobId, latest);
          }
        }
        throw toFailure(err);
      }
    },

    /**
     * Retry-as-poll: returns when the run's status (or custom status text) differs from
     * `lastStatus`, or the run has ended (then with its messages). Otherwise throws the benign
     * retryable `CcsRunUnchanged` with the next poll delay, so waiting adds no history events.
     * In watch mode, an error that needs a person returns `attention` once, then is retried.
     */
    async waitForJobRunChange(input: WaitForJobRunChangeInput): Promise<WaitForJobRunChangeResult | WaitForJobRunAttention> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const delay = pollDelayMs(attempt, input.pollIntervalMs, input.maxPollIntervalMs);
      if (input.delayFirstPoll && attempt === 1) throw unchanged(`first read of run ${input.jobRunId} is due in ${delay} ms`, delay);
      const polls = input.delayFirstPoll ? attempt - 1 : attempt;
      const observedAt = (): string => new Date().toISOString();
      const { watch } = input;
      // Workflows from the watch change on also take a set end time for the end of a run (§9).
      const ended = (r: JobRun): boolean => (watch ? hasEnded(r) : isTerminalStatus(r.status));
      let run: JobRun;
      try {
        const client = serverOf(input);
        events.poll?.(input.ccs ?? 'default');
        const signal = ctx.cancellationSignal;
        run = await heartbeating(async () => {
          const seen = await client.getJobRun(input.jobId, input.jobRunId, { signal });
          return ended(seen) ? client.getJobRun(input.jobId, input.jobRunId, { signal, showMessages: true }) : seen;
        });
      } catch (err) {
        const type = err instanceof CcsError ? err.type : err instanceof ApplicationFailure ? err.type : undefined;
        if (watch && type && ATTENTION_ERROR_TYPES.includes(type as ErrorTypeName)) {
          if (type !== watch.attention) return { attention: { type, message: (err as Error).message }, polls, observedAt: observedAt() };
          if (err instanceof ApplicationFailure) throw ApplicationFailure.create({ type, message: err.message, nextRetryDelay: delay });
        }
        throw toFailure(err, { nextRetryDelay: delay, retryAnyway: watch !== undefined });
      }
      if (ended(run) || run.status !== input.lastStatus || run.customStatusText !== input.lastCustomStatusText || (watch && watch.attention !== null)) {
        return { run: boundedRun(run), polls, observedAt: observedAt(), ...(watch ? { attention: null } : {}) };
      }
      throw unchanged(`run ${run.jobRunId} still ${run.status}`, delay);
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
