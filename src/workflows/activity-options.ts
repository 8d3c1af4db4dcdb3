/**
 * How `runCcsJob` calls its activities: named option sets (timeouts, retry policies built from the
 * error vocabulary) and the run counters it emits. Workflow code: deterministic, no I/O.
 */
import { ActivityCancellationType, metricMeter, proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { CcsActivities, WaitForJobRunAttention, WaitForJobRunChangeResult } from '../activities';
import type { EvidenceActivities } from '../activities/evidence';
import type { FleetActivities } from '../activities/fleet';
import type { StartedBy } from '../domain/evidence';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';

/** Runs recorded before executing; must match the activities' RUN_SNAPSHOT_SIZE (kept here: workflows import no activity code). */
export const RUN_SNAPSHOT_SIZE = 10;
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

/** Activities that poll: unchanged polls set their own delay (nextRetryDelay); this policy paces other failures. */
export function pollActivities(pollIntervalMs: number, maxPollIntervalMs: number, scheduleToCloseTimeout?: number) {
  return proxyActivities<CcsActivities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    ...(scheduleToCloseTimeout === undefined ? {} : { scheduleToCloseTimeout }),
    retry: { ...RETRY, initialInterval: pollIntervalMs, backoffCoefficient: 1.25, maximumInterval: Math.max(pollIntervalMs, maxPollIntervalMs) },
  });
}

/**
 * Activities that follow an existing run: every failure is retried (the activity reports errors that
 * need a person as attention first), at the poll's pace, growing to the longest poll interval.
 */
export function watchActivities(pollIntervalMs: number, maxPollIntervalMs: number, scheduleToCloseTimeout?: number) {
  return proxyActivities<CcsActivities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    ...(scheduleToCloseTimeout === undefined ? {} : { scheduleToCloseTimeout }),
    retry: { initialInterval: pollIntervalMs, backoffCoefficient: 1.25, maximumInterval: Math.max(pollIntervalMs, maxPollIntervalMs), nonRetryableErrorTypes: [] },
  });
}

/**
 * Waits that may hold (from the held-watch change on): below the worker's threshold they poll inside
 * one attempt, so an attempt may last as long as the run; the heartbeat timeout is how soon another
 * worker takes over when the holding one dies. Failures are retried as for `watchActivities`.
 */
export function heldWatchActivities(pollIntervalMs: number, maxPollIntervalMs: number, heartbeatTimeoutMs: number, waitForCancellation = false) {
  return proxyActivities<CcsActivities>({
    startToCloseTimeout: '1d',
    // A pause must know the wait has stopped polling; a held attempt hears of its cancel at a heartbeat.
    ...(waitForCancellation ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: { initialInterval: pollIntervalMs, backoffCoefficient: 1.25, maximumInterval: Math.max(pollIntervalMs, maxPollIntervalMs), nonRetryableErrorTypes: [] },
  });
}

/**
 * Calls to Temporal about the orchestrator's own workflows (maintenance windows), never to CCS:
 * retried until Temporal answers, as any other call.
 */
export const fleetCall = proxyActivities<FleetActivities>({ startToCloseTimeout: '1m', heartbeatTimeout: '20s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } });

/**
 * A run's look for its server's maintenance window: a local activity (one describe and one query
 * of Temporal), so the check every run makes before its first CCS request costs one marker in
 * history, not an activity's three events and a workflow task.
 */
export const maintenanceLookup = proxyLocalActivities<FleetActivities>({ startToCloseTimeout: '10s', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' } });

/**
 * The closing evidence record: retried until the sink takes it (no error type stops it), backing off
 * to five minutes; the workflow's outcome is decided before and does not depend on it.
 */
export const evidenceCall = proxyActivities<EvidenceActivities>({ startToCloseTimeout: '1m', retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' } });

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

/** The execute of a watched start: a cancel waits for the attempt in flight, so its run is known, not lost. */
export const watchedExecute = proxyActivities<CcsActivities>({ ...CCS_CALL, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

export type WaitOutcome = WaitForJobRunChangeResult | WaitForJobRunAttention;

/** Run counts, here so each run counts once: the SDK emits nothing while a history is replayed. */
export function runCounters() {
  return {
    started: metricMeter.createCounter('ccs_runs_started', 'runs', 'CCS runs this orchestrator executed'),
    adopted: metricMeter.createCounter('ccs_runs_adopted', 'runs', 'CCS runs followed without executing (a retried execute, or ifRunning: attach)'),
    ended: metricMeter.createCounter('ccs_runs_ended', 'runs', 'CCS runs followed to their end, by final status'),
    attentionRaised: metricMeter.createCounter('ccs_runs_attention_raised', 'runs', 'followed runs flagged for attention, by server and error type'),
    late: metricMeter.createCounter('ccs_runs_late', 'runs', 'followed runs that outlasted their expected duration (flagged, not aborted), by server'),
    attentionCleared: metricMeter.createCounter('ccs_runs_attention_cleared', 'runs', 'attention flags cleared (the run could be read again), by server and error type'),
  };
}
