/**
 * Domain metrics, exported through the SDK's Prometheus endpoint next to its own: CCS requests by
 * operation and outcome (count and duration), polls, token requests, current runs by CCS status,
 * notifications sent, skipped and given up, and missed-scan facts.
 * Runs started, adopted and ended are counted by the workflow itself (see run-ccs-job.ts).
 */
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { ActivityEvents } from '../../activities';
import type { NotificationMetrics } from '../../activities/notifications';
import type { RequestObserver } from '../../ccs/requests';
import { JOB_STATUS_NAMES } from '../../domain/job-run';
import { SearchAttribute, WorkflowName } from '../../domain/contract';

/** Buckets (seconds) for CCS request durations: CCS answers in tens of milliseconds to tens of seconds. */
export const REQUEST_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const REQUEST_DURATION_METRIC = 'ccs_request_duration_seconds';

export interface WorkerMetrics {
  /** The request observer for one named CCS server's client. */
  requestsTo(ccs: string): RequestObserver;
  activityEvents: ActivityEvents;
  /** Notification deliveries and the missed-scan watchdogs' facts. */
  notifications: NotificationMetrics;
}

export function workerMetrics(meter: MetricMeter): WorkerMetrics {
  const requests = meter.createCounter(
    'ccs_requests',
    'requests',
    'CCS REST requests by server, operation and outcome (HTTP status, or network/tls/aborted/too_large, or paused: not sent while the server asked for a pause)',
  );
  const duration = meter.createHistogram(
    REQUEST_DURATION_METRIC,
    'float',
    's',
    'CCS REST request duration by server, operation and outcome',
  );
  const tokens = meter.createCounter(
    'ccs_token_requests',
    'requests',
    'CCS token requests (password or refresh grant) by server and outcome',
  );
  const polls = meter.createCounter('ccs_polls', 'polls', 'Status reads of waiting CCS runs (one per poll attempt)');
  const sent = meter.createCounter(
    'ccs_notifications_sent',
    'notifications',
    'Notifications a channel accepted, by channel and event type',
  );
  const skipped = meter.createCounter(
    'ccs_notifications_skipped',
    'notifications',
    'Notifications a channel deliberately did not send (PagerDuty: the event opens or closes no incident), by channel and event type',
  );
  const failed = meter.createCounter(
    'ccs_notifications_failed',
    'notifications',
    'Notification deliveries that gave up (refused, or not accepted within delivery.giveUpAfter), by channel',
  );
  const lastSuccess = meter.createGauge(
    'ccs_scan_last_success_timestamp_seconds',
    'float',
    's',
    'Unix time at which the newest Completed run or pipeline of a schedule ended, as this worker announced it',
  );
  const missed = meter.createCounter(
    'ccs_scans_missed',
    'windows',
    'Windows in which a watched schedule had no Completed run (scan.missed), by schedule',
  );
  return {
    requestsTo:
      (ccs) =>
      ({ operation, outcome, durationMs }) => {
        const tags = { ccs, operation, outcome: String(outcome) };
        requests.add(1, tags);
        duration.record(durationMs / 1000, tags);
        if (operation === 'token') tokens.add(1, { ccs, outcome: String(outcome) });
      },
    activityEvents: { poll: (ccs) => polls.add(1, { ccs }) },
    notifications: {
      sent: (channel, type) => sent.add(1, { channel, type }),
      skipped: (channel, type) => skipped.add(1, { channel, type }),
      failed: (channel) => failed.add(1, { channel }),
      scanSucceeded: (schedule, atSeconds) => lastSuccess.set(atSeconds, { schedule }),
      scanMissed: (schedule) => missed.add(1, { schedule }),
    },
  };
}

/**
 * Keeps `ccs_runs_current{status}` at the number of running `runCcsJob` workflows by their last CCS
 * status, from Temporal visibility: cluster-wide, so every worker reports the same value (use max()).
 * Visibility groups only by ExecutionStatus, hence one count per status ("starting": none seen yet).
 */
export function trackCurrentRuns(
  meter: MetricMeter,
  client: Client,
  everyMs = 30_000,
  warn: (message: string) => void = () => undefined,
): { refresh: () => Promise<void>; stop: () => void } {
  const gauge = meter.createGauge(
    'ccs_runs_current',
    'int',
    'runs',
    'Running runCcsJob workflows by the CCS status they last saw (cluster-wide, from Temporal visibility)',
  );
  const running = `WorkflowType = '${WorkflowName.runCcsJob}' AND ExecutionStatus = 'Running'`;
  const attribute = SearchAttribute.jobStatus.name;
  const statuses: [string, string][] = [
    ['starting', `${running} AND ${attribute} IS NULL`],
    ...JOB_STATUS_NAMES.map((status): [string, string] => [status, `${running} AND ${attribute} = '${status}'`]),
  ];
  const refresh = async (): Promise<void> => {
    try {
      const counts = await Promise.all(
        statuses.map(async ([status, query]) => [status, (await client.workflow.count(query)).count] as const),
      );
      for (const [status, count] of counts) gauge.set(count, { status });
    } catch (err) {
      warn(`could not count current runs from Temporal visibility: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
