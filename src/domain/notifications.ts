/**
 * The notification contract: the events workflows decide to announce, and the activity and workflow
 * inputs that carry them to channels. Pure and side-effect free (workflows import it). Which channels
 * an event goes to, and how, is worker configuration (NOTIFICATIONS_FILE, src/notifications); a
 * workflow only decides that something happened, durably, and hands the event over.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Every event type a rule can name; the strings are public (receivers and rule files use them). */
export const NotificationEventType = Object.freeze({
  RunCompleted: 'run.completed',
  /** Faulted, aborted outside, timed out, ended unexpectedly, abort unconfirmed. */
  RunFailed: 'run.failed',
  RunAttention: 'run.attention',
  RunAttentionCleared: 'run.attention_cleared',
  RunLate: 'run.late',
  PipelineCompleted: 'pipeline.completed',
  PipelineFailed: 'pipeline.failed',
  PipelineStaleData: 'pipeline.stale_data',
  ScanMissed: 'scan.missed',
  ScanRecovered: 'scan.recovered',
  /** `ccs-jobs notify test --channel NAME`: never matched by rules, sent to the named channel only. */
  Test: 'test',
});
export type NotificationEventType = (typeof NotificationEventType)[keyof typeof NotificationEventType];

export const NOTIFICATION_EVENT_TYPES: readonly NotificationEventType[] = Object.freeze(Object.values(NotificationEventType));

/** Bounds on what an event carries, whatever CCS sent. */
export const NOTIFICATION_LIMITS = Object.freeze({
  /** Newest run messages carried. */
  messages: 5,
  /** Characters of one message, of the exception, of any one text field. */
  text: 500,
  /** Characters of the one-line summary. */
  summary: 300,
});

/**
 * Whether an event opens or closes an incident on channels that keep them (PagerDuty): `trigger`
 * and `resolve` with the same `incidentKey` are one incident; `info` opens none.
 */
export type NotificationSeverity = 'info' | 'warning' | 'critical';
export type IncidentAction = 'trigger' | 'resolve' | 'none';

export interface NotificationEvent {
  /** Stable: the same on every retry and every channel of this event (receivers deduplicate by it). */
  id: string;
  type: NotificationEventType;
  /** ISO 8601, when the workflow decided it. */
  time: string;
  /** One line a person reads first ("Faulted: job Nightly CER on emea"). */
  summary: string;
  severity: NotificationSeverity;
  /** Ties a trigger to its resolve (`run.attention` → `run.attention_cleared`, `scan.missed` → `scan.recovered`). */
  incident: { action: IncidentAction; key: string };
  workflowId: string;
  runId: string;
  workflowType: string;
  /** CCS server name (never its URL or credentials). */
  ccs?: string;
  job?: { id: string; name?: string };
  jobRunId?: string;
  /** The pipeline's name, for a pipeline's events and for the runs it started. */
  pipeline?: string;
  /** The Temporal schedule that started it, when one did. */
  schedule?: string;
  /** The CCS status last seen. */
  status?: string;
  /** Completed, Faulted, Aborted, Cancelled, TimedOut, … (the run or pipeline outcome). */
  outcome?: string;
  /** The stable error type (src/domain/errors.ts) when it failed. */
  errorType?: string;
  exception?: string;
  /** The newest run messages, bounded by NOTIFICATION_LIMITS. */
  messages?: string[];
  /** Who started it (`requestedBy`, the schedule or the CLI user), as claimed. */
  startedBy?: string;
  /** Type-specific facts (late: expected and elapsed; stale data: the window and the run checked; missed: the window). */
  details?: Record<string, string | number | boolean | null>;
  /** Added by the worker when it delivers (TEMPORAL_UI_URL, the evidence record); not decided by the workflow. */
  links?: { temporalUi?: string; evidence?: string };
}

/** `announceNotification` activity: route one decided event to the channels whose rules match and queue its deliveries. */
export interface AnnounceNotificationInput {
  event: NotificationEvent;
}

export interface AnnounceNotificationResult {
  /** Channel names a delivery was queued (or already queued) for; empty when no rule matched or none is configured. */
  channels: string[];
}

/** Input of the `deliverCcsNotification` workflow: one event to one channel, retried until `giveUpAfterMs`. */
export interface DeliverNotificationInput {
  event: NotificationEvent;
  channel: string;
  /** Retries stop this long after the event was queued (NOTIFICATIONS_FILE `delivery.giveUpAfter`, default 24 h). */
  giveUpAfterMs: number;
  /** The longest pause between two attempts (`delivery.maxRetryInterval`, default 10 min). */
  maxRetryIntervalMs: number;
}

/** `sendNotification` activity: one attempt at one channel (retried by its policy). */
export interface SendNotificationInput {
  event: NotificationEvent;
  channel: string;
}

/** `recordNotificationGivenUp` activity: counted, logged once, written to the run's evidence. */
export interface NotificationGivenUpInput {
  event: NotificationEvent;
  channel: string;
  attempts: number;
  lastError: string;
}

/**
 * Memo keys a pipeline sets on the job runs it starts, so their events name the pipeline, the job's
 * name and the schedule that started the pipeline (a child's own search attributes know none of them).
 */
export const NotificationMemo = Object.freeze({
  pipeline: 'ccsPipeline',
  jobName: 'ccsJobName',
  schedule: 'ccsSchedule',
});

/** The delivery workflow's id: one per event and channel, so a repeated announce queues nothing twice. */
export function deliveryWorkflowId(eventId: string, channel: string): string {
  return `ccs-notify/${eventId}/${channel}`;
}

/** The missed-scan watchdog of a schedule. */
export function scanWatchWorkflowId(scheduleId: string): string {
  return `ccs-scan-watch/${scheduleId}`;
}

/** Truncates a text field to `max` characters, marking the cut. */
export function boundText(text: string, max: number = NOTIFICATION_LIMITS.text): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What the announce activity tells a schedule's watchdog when a run or pipeline of that schedule Completed. */
export interface ScanSucceededInput {
  /** ISO 8601: when the run ended. */
  at: string;
  workflowId: string;
  runId: string;
}

export const scanSucceededSignal = defineSignal<[ScanSucceededInput]>('scanSucceeded');

/** Input of the `ccsScanWatch` workflow (one per schedule created with `--alert-if-no-success`). */
export interface ScanWatchInput {
  scheduleId: string;
  /** The window, a duration ("26h"): `scan.missed` when no Completed run ended within it. */
  alertIfNoSuccess: string;
  /** Carried across continue-as-new. */
  lastSuccessAt?: string;
  /** When the first window without a success ended (set while missed, cleared by a success). */
  missedSince?: string;
  /** Start of the current window (ISO). */
  windowStart?: string;
  /** Carried across continue-as-new: windows ended without a success since the last one. */
  missedWindows?: number;
}

/** The shortest `alertIfNoSuccess` the CLI and pipeline files accept (the workflow itself takes 1 s, for tests). */
export const MIN_ALERT_IF_NO_SUCCESS_MS = 60_000;

/** What the watchdog's `status` query answers. */
export interface ScanWatchStatus {
  scheduleId: string;
  /** The window as given ("26h"). */
  window: string;
  /** ISO: when the newest Completed run of the schedule ended, when one did since the watchdog started. */
  lastSuccessAt: string | null;
  /** ISO: when the first window without a success ended; null while scans succeed. */
  missedSince: string | null;
  /** Windows ended without a success since the last one (0 while scans succeed). */
  missedWindows: number;
  /** ISO: when the current window ends (`scan.missed` then, unless a success comes first). */
  deadline: string;
}

export const scanWatchStatusQuery = defineQuery<ScanWatchStatus>('status');
