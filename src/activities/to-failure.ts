import { ApplicationFailure, type Duration } from '@temporalio/common';
import { CcsError } from '../domain/errors';

export interface ToFailureOptions {
  /** Wait this long before the next attempt (a `Retry-After` that is longer wins). */
  nextRetryDelay?: Duration | undefined;
  /** Retry even a type that is not retryable on its own: a followed run needs attention, not an end. */
  retryAnyway?: boolean | undefined;
}

/**
 * The one place where CCS client errors become Temporal failures: the `type` is the error's type,
 * retryability follows the vocabulary (unless the caller retries anyway), `Retry-After` becomes the
 * next retry delay, and the client's error is kept as the cause. Messages were scrubbed of secrets by
 * the client when they were made.
 */
export function toFailure(err: unknown, options: ToFailureOptions = {}): unknown {
  if (!(err instanceof CcsError)) return err;
  const { nextRetryDelay, retryAnyway = false } = options;
  const retryAfter = err.retryAfterMs;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable && !retryAnyway,
    details: [{ status: err.status ?? null, mayHaveReachedServer: err.mayHaveReachedServer }],
    cause: err,
    ...(retryAfter !== undefined
      ? { nextRetryDelay: Math.max(retryAfter, typeof nextRetryDelay === 'number' ? nextRetryDelay : 0) }
      : nextRetryDelay !== undefined
        ? { nextRetryDelay }
        : {}),
  });
}
