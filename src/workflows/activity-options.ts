/**
 * How `runCcsJob` calls its activities: named option sets (timeouts, retry policies built from the
 * error vocabulary) and the run counters it emits. Workflow code: deterministic, no I/O.
 */
import {
  ActivityCancellationType,
  metricMeter,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { CcsActivities } from '../activities';
import type { EvidenceActivities } from '../activities/evidence';
import type { FleetActivities } from '../activities/fleet';
import type { NotificationActivityFunctions } from '../activities/notifications';
import type { RedriveActivities } from '../activities/redrive';
import type { StartedBy } from '../domain/evidence';
import type { DeliverNotificationInput } from '../domain/notifications';
import { POLL_GROWTH, RUN_SNAPSHOT_SIZE } from '../domain/activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

/** The contract's constants, one definition each (src/domain/activities). */
export { POLL_GROWTH, RUN_SNAPSHOT_SIZE };
export const CONFIRM_POLL_MS = 2_000;
export const CONFIRM_MAX_POLL_MS = 10_000;

export const RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** One CCS call; the heartbeat timeout lets a retry start soon after a worker dies mid-call. */
export const CCS_CALL: ActivityOptions = { startToCloseTimeout: '1m', heartbeatTimeout: '10s', retry: RETRY };

export const ccsCall = proxyActivities<CcsActivities>(CCS_CALL);

/**
 * Waits for a run to change. Below the worker's hold threshold they poll inside one attempt, so an
 * attempt may last as long as the run; the heartbeat timeout is how soon another worker takes over
 * when the holding one dies. Every failure is retried (the activity reports errors that need a person
 * as attention first), at the poll's pace, growing to the longest poll interval. A cancel waits until
 * the attempt has stopped: a pause promises that nothing more is sent to CCS.
 */
export function waitActivities(
  pollIntervalMs: number,
  maxPollIntervalMs: number,
  heartbeatTimeoutMs: number,
  scheduleToCloseTimeout?: number,
) {
  return proxyActivities<CcsActivities>({
    startToCloseTimeout: '1d',
    ...(scheduleToCloseTimeout === undefined ? {} : { scheduleToCloseTimeout }),
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: {
      initialInterval: pollIntervalMs,
      backoffCoefficient: POLL_GROWTH,
      maximumInterval: Math.max(pollIntervalMs, maxPollIntervalMs),
      nonRetryableErrorTypes: [],
    },
  });
}

/**
 * The abort of a followed run: retried whatever the error until `scheduleToCloseTimeout` (the
 * workflow's abortConfirmTimeout), at most ABORT_RETRY_MAX_INTERVAL apart. An abort that meets a run
 * just ended needs three answers in a row (a token, the refused abort, the run's read); with a
 * third of CCS's answers failing, the usual back-off to a minute left about ten attempts in five
 * minutes, and one workflow in a few hundred ran out of them (chaos, "error pages quote the
 * Authorization header", at three CIs): closed CcsAbortUnconfirmed on a run CCS had Completed.
 */
export const ABORT_RETRY_MAX_INTERVAL = '5s';
export function abortCall(scheduleToCloseTimeout: number) {
  return proxyActivities<CcsActivities>({
    ...CCS_CALL,
    retry: { ...RETRY, maximumInterval: ABORT_RETRY_MAX_INTERVAL, nonRetryableErrorTypes: [] },
    scheduleToCloseTimeout,
  });
}

/**
 * Calls to Temporal about the orchestrator's own workflows (maintenance windows), never to CCS:
 * retried until Temporal answers, as any other call.
 */
export const fleetCall = proxyActivities<FleetActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * A redrive's reads of Temporal (the attempt it continues) and an ending attempt's start of its
 * automatic redrive: calls to Temporal only, retried until it answers, for ten minutes at most; a
 * refusal (`CcsRedriveRefused`) is not retried.
 */
export const redriveCall = proxyActivities<RedriveActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '10m',
  retry: RETRY,
});

/**
 * A run's look for its server's maintenance window: a local activity (one describe and one query
 * of Temporal), so the check every run makes before its first CCS request costs one marker in
 * history, not an activity's three events and a workflow task.
 */
export const maintenanceLookup = proxyLocalActivities<FleetActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * The closing evidence record: retried until the sink takes it (no error type stops it), backing off
 * to five minutes; the workflow's outcome is decided before and does not depend on it.
 */
export const evidenceCall = proxyActivities<EvidenceActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** The notification activities as the workflows proxy them. */
export type NotificationActivities = NotificationActivityFunctions;

/**
 * Queueing an event: the activity only talks to Temporal (it starts one delivery workflow per
 * channel), so an attempt is quick, and it runs as a local activity: one marker in history instead
 * of an activity's three events and a workflow task, so announcing keeps a completed run within its
 * history bound. The close of a run waits for it, and a run must close on time even when queueing
 * cannot be done: at most ANNOUNCE_ATTEMPTS attempts of 30 s, backing off 1 s to 1 min (server
 * timers above one second), and never longer than ANNOUNCE_TIMEOUT_MS of real time. The attempt
 * bound holds in workflow time too (a local activity's timeouts are the worker's clock).
 */
export const ANNOUNCE_TIMEOUT_MS = 5 * 60_000;
export const ANNOUNCE_ATTEMPTS = 8;
export const announceCall = proxyLocalActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: ANNOUNCE_TIMEOUT_MS,
  localRetryThreshold: '1s',
  retry: { ...RETRY, maximumInterval: '1m', maximumAttempts: ANNOUNCE_ATTEMPTS },
});

/** The first pause between two delivery attempts; the back-off doubles it up to the channel's `maxRetryInterval`. */
export const DELIVERY_INITIAL_RETRY_MS = 1_000;
export const DELIVERY_BACKOFF = 2;

/**
 * One delivery: attempts of 30 s at most, retried with back-off until `giveUpAfterMs` after the
 * event was queued; an error type that retrying cannot help stops it at once (a refused event).
 */
export function deliveryCall(input: Pick<DeliverNotificationInput, 'giveUpAfterMs' | 'maxRetryIntervalMs'>) {
  return proxyActivities<NotificationActivities>({
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: input.giveUpAfterMs,
    retry: {
      initialInterval: DELIVERY_INITIAL_RETRY_MS,
      backoffCoefficient: DELIVERY_BACKOFF,
      maximumInterval: Math.max(DELIVERY_INITIAL_RETRY_MS, input.maxRetryIntervalMs),
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

/** The record of a delivery that gave up: retried like the evidence record it writes, bounded to a day. */
export const givenUpCall = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '1d',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** Who started this workflow, as its evidence record says: a schedule, a parent pipeline, a named requester. */
export function startedBy(requestedBy: unknown): StartedBy {
  const info = workflowInfo();
  const scheduled = (info.searchAttributes?.TemporalScheduledById as unknown[] | undefined)?.[0];
  return {
    ...(typeof scheduled === 'string' ? { scheduleId: scheduled } : {}),
    ...(info.parent ? { pipelineWorkflowId: info.parent.workflowId } : {}),
    ...(typeof requestedBy === 'string' && requestedBy !== '' ? { requestedBy: requestedBy.slice(0, 200) } : {}),
  };
}

/** The look for a run a cancelled execute may have started: it waits one CCS request timeout between its two reads. */
export const settleCall = proxyActivities<CcsActivities>({ startToCloseTimeout: '3m', heartbeatTimeout: '20s', retry: RETRY });

/**
 * The execute: a cancel waits for the attempt in flight, so its run is known, not lost. Its heartbeat
 * timeout is longer than other calls': an attempt sends its execute only within that timeout of its
 * start (so that the server cannot have moved on to the next attempt), and the look a retried attempt
 * makes first must fit in it on a slow CCS; a dead worker's execute is taken over 30 s later.
 */
export const executeCall = proxyActivities<CcsActivities>({
  ...CCS_CALL,
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The run counters, by kind: name and description (unit: runs). */
const RUN_COUNTERS = {
  started: ['ccs_runs_started', 'CCS runs this orchestrator executed'],
  adopted: ['ccs_runs_adopted', 'CCS runs followed without executing (a retried execute, or ifRunning: attach)'],
  ended: ['ccs_runs_ended', 'CCS runs followed to their end, by final status'],
  attentionRaised: ['ccs_runs_attention_raised', 'followed runs flagged for attention, by server and error type'],
  late: ['ccs_runs_late', 'followed runs that outlasted their expected duration (flagged, not aborted), by server'],
  attentionCleared: ['ccs_runs_attention_cleared', 'attention flags cleared (the run could be read again), by server and error type'],
} as const;

/** Counts one run of `kind`, here so each run counts once: the SDK emits nothing while a history is replayed. */
export function countRun(kind: keyof typeof RUN_COUNTERS, tags: Record<string, string>): void {
  const [name, description] = RUN_COUNTERS[kind];
  metricMeter.createCounter(name, 'runs', description).add(1, tags);
}
