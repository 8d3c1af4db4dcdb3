/**
 * How waits pace their reads of CCS: the growing poll interval, jitter, and the benign failure that
 * hands the next poll to the Temporal server's retry timer (retry-as-poll).
 */
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { POLL_GROWTH } from '../domain/activities';
import { ErrorType } from '../domain/errors';

/**
 * How a wait polls. Below `holdBelowMs` a wait polls inside one activity attempt, heartbeating: a
 * retry-as-poll costs the Temporal server a dispatch, a failed attempt and a timer per poll, which
 * short intervals multiply. At or above it, each poll is an attempt (Temporal's own advice for
 * intervals of a minute or more).
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

/** The poll interval after `attempt - 1` unchanged polls: grows from the start value toward the maximum. */
export function pollDelayMs(attempt: number, startMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, startMs * POLL_GROWTH ** Math.max(0, attempt - 1)));
}

/** `ms` made up to `jitter` longer or shorter at random (never below 1 s: Temporal's timer resolution). */
export function jittered(ms: number, jitter: number, random: () => number = Math.random): number {
  if (jitter <= 0) return ms;
  return Math.max(1_000, Math.round(ms * (1 + jitter * (2 * random() - 1))));
}

/** The benign `CcsRunUnchanged` failure that makes the server schedule the next poll after `delayMs`. */
export function unchanged(message: string, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.RunUnchanged,
    message,
    nextRetryDelay: delayMs,
    category: ApplicationFailureCategory.BENIGN,
  });
}
