/**
 * What every long activity does while it waits: heartbeat (so a dead worker is noticed within the
 * heartbeat timeout, and a cancellation reaches the activity at all), sleep with the SDK's
 * cancellation-aware sleep, and tell a worker that is stopping from a workflow that cancelled.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { ErrorType } from '../domain/errors';

/**
 * Runs `fn` while heartbeating (`details()` with each beat, replacing the last), so that the server
 * notices a worker that died mid-call within the activity's heartbeat timeout instead of its much
 * longer start-to-close timeout.
 */
export async function heartbeating<T>(fn: () => Promise<T>, details?: () => unknown): Promise<T> {
  const ctx = Context.current();
  const every = ctx.info.heartbeatTimeoutMs ? Math.max(200, ctx.info.heartbeatTimeoutMs / 3) : 0;
  const timer = every ? setInterval(() => ctx.heartbeat(details?.()), every) : undefined;
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Why an activity was cancelled: the worker stopping (hand the wait to another worker) or the workflow. */
function workerShuttingDown(ctx: Context): boolean {
  const reason: unknown = ctx.cancellationSignal.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return ctx.cancellationSignal.aborted && text.includes('WORKER_SHUTDOWN');
}

/**
 * What a cancelled wait throws: for a worker that is stopping, the benign retryable
 * `CcsWorkerStopping` due in a second (another worker takes the wait over; never an abort); for a
 * cancellation by the workflow, `err` itself (the SDK's `CancelledFailure`).
 */
export function stopped(err: unknown): Error {
  if (workerShuttingDown(Context.current())) {
    return ApplicationFailure.create({
      type: ErrorType.WorkerStopping,
      message: 'this worker is stopping; the wait continues on another worker',
      nextRetryDelay: 1_000,
      category: ApplicationFailureCategory.BENIGN,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Waits `ms` with the SDK's cancellation-aware `Context.sleep`: a cancellation (heard at a
 * heartbeat) ends the wait at once, thrown as {@link stopped} says. Heartbeats only when run inside
 * {@link heartbeating}; {@link sleepHeartbeating} does both.
 */
export async function sleep(ms: number): Promise<void> {
  try {
    await Context.current().sleep(ms);
  } catch (err) {
    throw stopped(err);
  }
}

/** {@link sleep} while heartbeating `details()`. */
export function sleepHeartbeating(ms: number, details?: () => unknown): Promise<void> {
  return heartbeating(() => sleep(ms), details);
}
