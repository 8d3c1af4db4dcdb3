/**
 * Following a run: `waitForJobRunChange` returns when CCS reports the run changed or ended, with
 * new live messages, or with an attention the workflow should flag. Short intervals are polled
 * inside one heartbeating attempt; long ones are one attempt per poll (retry-as-poll).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  LIVE_BATCH,
  type LiveMessages,
  type UnknownStatusWatch,
  type WaitForJobRunAttention,
  type WaitForJobRunChangeInput,
  type WaitForJobRunChangeResult,
} from '../domain/activities';
import { ATTENTION_ERROR_TYPES, CcsError, ErrorType, type ErrorTypeName } from '../domain/errors';
import { RUN_LIMITS, hasEnded, hasUndocumentedStatus, type JobRun, type JobRunMessage } from '../domain/job-run';
import { formatDuration } from '../domain/validation';
import { boundedRun } from './bounded-run';
import { heartbeating, sleepHeartbeating, stopped } from './heartbeat';
import { jittered, pollDelayMs, unchanged, type PollingSettings } from './polling';
import type { ServerOf } from './servers';
import { toFailure } from './to-failure';

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

/** The messages beyond the first `known`: their count, and the newest LIVE_BATCH of them, bounded. */
export function liveMessages(messages: readonly JobRunMessage[], known: number): LiveMessages {
  const fresh = messages.slice(Math.max(known, messages.length - LIVE_BATCH)).map((m) => ({
    time: m.time,
    text:
      m.text.length > RUN_LIMITS.messageChars
        ? `${m.text.slice(0, RUN_LIMITS.messageChars)}… (${m.text.length - RUN_LIMITS.messageChars} more characters)`
        : m.text,
  }));
  return { total: messages.length, fresh };
}

/**
 * The attention a run just read calls for: `CcsUnknownStatus` once its status has been outside the
 * documented codes 0–7 for at least `unknown.afterMs`; null otherwise.
 */
function unknownStatusAttention(
  run: JobRun,
  unknown: UnknownStatusWatch | undefined,
  now: number,
): { type: string; message: string } | null {
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

/** True when the run read differs from what the wait was told the workflow last saw. */
function changed(run: JobRun, input: WaitForJobRunChangeInput): boolean {
  return run.status !== input.lastStatus || run.customStatusText !== input.lastCustomStatusText;
}

/** `waitForJobRunChange` over the clients `serverOf` picks, pacing its reads by `polling`. */
export function createWaitActivities(serverOf: ServerOf, polling: PollingSettings, events: ActivityEvents) {
  return {
    /**
     * Returns when the run's status (or custom status text) differs from `lastStatus`, the run has
     * ended (then with its messages), new live messages are listed, or the attention the workflow
     * flags should change. While the poll interval is below the worker's threshold it polls inside this
     * attempt, heartbeating its progress; once the interval has grown past it, it throws the benign
     * retryable `CcsRunUnchanged` with the next (jittered) poll delay: retry-as-poll, which adds no
     * history events either way. An error that needs a person returns `attention` once and is then
     * retried; every other failure is retried too, typed as its CCS error. A worker that stops
     * throws the benign `CcsWorkerStopping`, so another worker takes the wait over.
     */
    async waitForJobRunChange(input: WaitForJobRunChangeInput): Promise<WaitForJobRunChangeResult | WaitForJobRunAttention> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const prior = ctx.info.heartbeatDetails as WatchProgress | undefined;
      // Reads already made in this wait by earlier attempts: a held attempt heartbeats its count, and each
      // retry-as-poll attempt since then read once.
      const before =
        prior && typeof prior.polls === 'number'
          ? prior.polls + Math.max(0, attempt - 1 - prior.attempt)
          : Math.max(0, attempt - 1 - (input.delayFirstPoll ? 1 : 0));
      const first = input.delayFirstPoll === true && attempt === 1 && !prior;
      /** The wait before read number `n` of this wait (1-based). */
      const waitBefore = (n: number): number =>
        pollDelayMs(input.delayFirstPoll ? n : n - 1, input.pollIntervalMs, input.maxPollIntervalMs);
      const held = (n: number): boolean => waitBefore(n) < polling.holdBelowMs;
      const next = (n: number): number => jittered(waitBefore(n), polling.jitter, polling.random);
      const observedAt = (): string => new Date().toISOString();
      const signal = ctx.cancellationSignal;
      const { live } = input;

      let polls = before;
      let progress: WatchProgress | undefined = prior;
      // The first read of a retry-as-poll wait is due after one interval: the server's timer waits, not us.
      if (first && !held(1)) throw unchanged(`first read of run ${input.jobRunId} is due in ${waitBefore(1)} ms`, next(1));
      for (;;) {
        const n = polls + 1;
        const holding = held(n);
        if (holding && (n > 1 || input.delayFirstPoll)) await sleepHeartbeating(next(n), () => progress);
        let run: JobRun;
        // Messages are read every `every`-th read of the run, and after a read that saw a change.
        const withMessages = live !== undefined && (live.pollsBefore + n) % live.every === 0;
        try {
          const client = serverOf(input);
          events.poll?.(input.ccs ?? 'default');
          run = await heartbeating(
            async () => {
              const seen = await client.getJobRun(input.jobId, input.jobRunId, { signal, ...(withMessages ? { showMessages: true } : {}) });
              return hasEnded(seen) || (live && changed(seen, input) && !withMessages)
                ? client.getJobRun(input.jobId, input.jobRunId, { signal, showMessages: true })
                : seen;
            },
            () => progress,
          );
        } catch (err) {
          if (signal.aborted && holding) throw stopped(err);
          const delay = next(n + 1);
          const type = err instanceof CcsError ? err.type : err instanceof ApplicationFailure ? err.type : undefined;
          if (type && ATTENTION_ERROR_TYPES.includes(type as ErrorTypeName)) {
            if (type !== input.attention)
              return { attention: { type, message: (err as Error).message }, polls: n, observedAt: observedAt() };
            if (err instanceof ApplicationFailure) throw ApplicationFailure.create({ type, message: err.message, nextRetryDelay: delay });
          }
          throw toFailure(err, { nextRetryDelay: delay, retryAnyway: true });
        }
        polls = n;
        const fresh = live && run.messages && run.messages.length > live.known ? liveMessages(run.messages, live.known) : undefined;
        // What this read calls for: the workflow hears of it when it differs from what it flags now.
        const flagged = unknownStatusAttention(run, input.unknownStatus, Date.now());
        if (hasEnded(run) || changed(run, input) || input.attention !== (flagged?.type ?? null) || fresh) {
          // A run still going carries its messages in `live` only: the full list is read once, at the end.
          const shown = hasEnded(run) ? run : { ...run, messages: undefined };
          return { run: boundedRun(shown), polls, observedAt: observedAt(), attention: flagged, ...(fresh ? { live: fresh } : {}) };
        }
        if (!held(polls + 1)) throw unchanged(`run ${run.jobRunId} still ${run.status}`, next(polls + 1));
        progress = { polls, attempt, status: run.status };
        ctx.heartbeat(progress);
      }
    },
  };
}
