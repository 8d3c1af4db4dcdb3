/**
 * `deliverCcsNotification`: one event to one channel, the durable outbox of a notification. The
 * announcing run has closed already; this workflow retries `sendNotification` with back-off until
 * the channel takes it or `giveUpAfterMs` has passed, so a receiver down for hours still gets it
 * and a worker restart loses nothing. Giving up is recorded once (`recordNotificationGivenUp`:
 * counted, logged, written to the run's evidence) and the workflow completes: a delivery that gave
 * up is a fact about the channel, not a failure to page anybody about twice. Workflow code:
 * deterministic, no I/O.
 */
import { ActivityFailure, ApplicationFailure, TemporalFailure, log, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors';
import type { DeliverNotificationInput } from '../domain/notifications';
import { DELIVERY_BACKOFF, DELIVERY_INITIAL_RETRY_MS, deliveryCall, givenUpCall } from './activity-options';

export interface DeliverNotificationResult {
  outcome: 'delivered' | 'given-up';
  /** Attempts made before giving up (see {@link attemptsOf}); absent when delivered. */
  attempts?: number;
  lastError?: string;
}

/**
 * Delivers `input.event` to `input.channel`; completes `delivered` or `given-up`, never fails for
 * the channel's sake. Fails `CcsInvalidInput` (not retryable) when the retry bounds are not positive
 * numbers: the announce activity builds them from validated configuration, so that is a bug.
 */
export async function deliverCcsNotification(input: DeliverNotificationInput): Promise<DeliverNotificationResult> {
  checkInput(input);
  const { event, channel } = input;
  try {
    await deliveryCall(input).sendNotification({ event, channel });
    return { outcome: 'delivered' };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const lastError = lastErrorOf(err);
    const attempts = attemptsOf(err, input);
    log.warn('notification given up: the channel did not take it in time, or refused it', {
      eventId: event.id,
      type: event.type,
      channel,
      attempts,
      lastError,
    });
    await givenUpCall.recordNotificationGivenUp({ event, channel, attempts, lastError });
    return { outcome: 'given-up', attempts, lastError };
  }
}

function checkInput(input: DeliverNotificationInput): void {
  const given = (typeof input === 'object' && input !== null ? input : {}) as Partial<DeliverNotificationInput>;
  const bad = [
    ...(['giveUpAfterMs', 'maxRetryIntervalMs'] as const).filter((k) => !(typeof given[k] === 'number' && given[k] > 0)),
    ...(typeof given.channel === 'string' && given.channel !== '' ? [] : ['channel']),
    ...(typeof given.event?.id === 'string' ? [] : ['event']),
  ];
  if (bad.length === 0) return;
  throw ApplicationFailure.create({
    type: ErrorType.InvalidInput,
    nonRetryable: true,
    message: `deliverCcsNotification needs an event, a channel and positive giveUpAfterMs and maxRetryIntervalMs; bad: ${bad.join(', ')}`,
  });
}

/** The innermost message of the failure chain: the sender's own error, under the timeout or retry wrapper. */
function lastErrorOf(err: ActivityFailure): string {
  let cause: Error | undefined = err;
  while (cause instanceof TemporalFailure && cause.cause) cause = cause.cause;
  return (cause?.message || 'unknown failure').slice(0, 500);
}

/**
 * Attempts made: the sender's own count when its last failure carries one (details `{ attempt }`);
 * otherwise how many attempts the retry policy starts in the time that passed since this workflow
 * started (an upper bound: it leaves out how long each attempt took).
 */
export function attemptsOf(err: ActivityFailure, input: Pick<DeliverNotificationInput, 'maxRetryIntervalMs'>): number {
  for (let cause: Error | undefined = err; cause; cause = cause instanceof TemporalFailure ? cause.cause : undefined) {
    const attempt = (cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: unknown } | undefined) : undefined)?.attempt;
    if (typeof attempt === 'number' && attempt >= 1) return attempt;
  }
  const elapsed = Date.now() - workflowInfo().startTime.getTime();
  let attempts = 1;
  for (let at = 0, pause = DELIVERY_INITIAL_RETRY_MS; ; attempts++) {
    at += Math.min(pause, Math.max(DELIVERY_INITIAL_RETRY_MS, input.maxRetryIntervalMs));
    if (at > elapsed) return attempts;
    pause *= DELIVERY_BACKOFF;
  }
}
