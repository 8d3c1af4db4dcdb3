import { ApplicationFailure, type Duration } from '@temporalio/common';
import { CcsError } from '../domain/errors';

/**
 * The one place where CCS client errors become Temporal failures: the `type` is the error's type,
 * retryability follows the vocabulary, and `Retry-After` becomes the next retry delay.
 */
export function toFailure(err: unknown, nextRetryDelay?: Duration): unknown {
  if (!(err instanceof CcsError)) return err;
  const retryAfter = err.retryAfterMs;
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable,
    details: [{ status: err.status ?? null, mayHaveReachedServer: err.mayHaveReachedServer }],
    ...(retryAfter !== undefined ? { nextRetryDelay: Math.max(retryAfter, typeof nextRetryDelay === 'number' ? nextRetryDelay : 0) } : nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
  });
}

