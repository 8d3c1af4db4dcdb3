/**
 * The notification activities: route a decided event to its channels and queue one durable delivery
 * per channel (`announceNotification`), make one attempt at one channel (`sendNotification`), and
 * record a delivery that gave up (`recordNotificationGivenUp`). Built over the worker's notifier
 * (NOTIFICATIONS_FILE); without one, announcing queues nothing and costs one function call.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowName } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import type { EvidenceContent } from '../domain/evidence';
import {
  deliveryWorkflowId,
  NotificationEventType,
  scanSucceededSignal,
  scanWatchWorkflowId,
  type AnnounceNotificationInput,
  type AnnounceNotificationResult,
  type DeliverNotificationInput,
  type NotificationGivenUpInput,
  type SendNotificationInput,
} from '../domain/notifications';
import { NotificationDeliveryError, type Notifier, type SendResult } from '../notifications';
import type { EvidenceSink } from './evidence';

/** What the activities count; src/hosting/observability/metrics.ts exports them. */
export interface NotificationMetrics {
  /** `ccs_notifications_sent_total{channel,type}` (type: the event type). */
  sent(channel: string, type: string): void;
  /** `ccs_notifications_skipped_total{channel,type}`: the channel deliberately sent nothing (PagerDuty, no incident). */
  skipped(channel: string, type: string): void;
  /** `ccs_notifications_failed_total{channel}`: deliveries that gave up. */
  failed(channel: string): void;
  /** `ccs_scan_last_success_timestamp_seconds{schedule}`. */
  scanSucceeded(schedule: string, atSeconds: number): void;
  /** `ccs_scans_missed_total{schedule}`. */
  scanMissed(schedule: string): void;
}

export interface NotificationActivityDeps {
  /** Undefined: no NOTIFICATIONS_FILE, notifications off. */
  notifier?: Notifier | undefined;
  metrics?: Partial<NotificationMetrics> | undefined;
  /** Where given-up deliveries are recorded: the evidence chain. */
  evidence?: EvidenceSink | undefined;
  workerVersion?: string | undefined;
}

const COMPLETIONS: readonly string[] = [NotificationEventType.RunCompleted, NotificationEventType.PipelineCompleted];

export function createNotificationActivities({ notifier, metrics = {}, evidence, workerVersion = 'unknown' }: NotificationActivityDeps) {
  return {
    /**
     * Queues `deliverCcsNotification` for each channel whose rules take the event, on this worker's
     * task queue, once: the workflow id is the event's and the channel's, and a delivery already
     * started (or finished) counts as queued. Also tells the schedule's watchdog about a Completed
     * run. Safe to retry; raises only retryable failures (Temporal unreachable).
     */
    async announceNotification({ event }: AnnounceNotificationInput): Promise<AnnounceNotificationResult> {
      const ctx = Context.current();
      if (event.type === NotificationEventType.ScanMissed && event.schedule) metrics.scanMissed?.(event.schedule);
      if (COMPLETIONS.includes(event.type) && event.schedule) {
        const at = Date.parse(event.time);
        if (Number.isFinite(at)) metrics.scanSucceeded?.(event.schedule, at / 1000);
        try {
          await ctx.client.workflow
            .getHandle(scanWatchWorkflowId(event.schedule))
            .signal(scanSucceededSignal, { at: event.time, workflowId: event.workflowId, runId: event.runId });
        } catch (err) {
          // No watchdog: the schedule was created without --alert-if-no-success.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      if (!notifier) return { channels: [] };
      const channels = notifier.route(event);
      if (channels.length === 0) return { channels };
      // Scrubbed before it enters any history: the delivery workflow's input is what receivers get.
      const prepared = notifier.prepare(event);
      const { giveUpAfterMs, maxRetryIntervalMs } = notifier.config.delivery;
      for (const channel of channels) {
        const input: DeliverNotificationInput = { event: prepared, channel, giveUpAfterMs, maxRetryIntervalMs };
        try {
          await ctx.client.workflow.start(WorkflowName.deliverCcsNotification, {
            workflowId: deliveryWorkflowId(event.id, channel),
            taskQueue: ctx.info.taskQueue,
            args: [input],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
        } catch (err) {
          // Queued by an earlier attempt of this activity (or delivered already): exactly once.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      ctx.log.info('notification queued', { eventId: event.id, type: event.type, channels });
      return { channels };
    },

    /**
     * One attempt to hand the event to `channel`. Raises `NotificationDeliveryFailed` (retryable; its
     * next retry no sooner than the receiver's Retry-After) or `NotificationRefused` (not retryable:
     * the receiver refused it, or the channel is not configured on this worker). Safe to retry:
     * receivers deduplicate by the event id, and the body is the same on every attempt.
     */
    async sendNotification({ event, channel }: SendNotificationInput): Promise<SendResult> {
      const ctx = Context.current();
      const sender = notifier?.channel(channel);
      if (!notifier || !sender)
        throw ApplicationFailure.create({
          type: ErrorType.NotificationRefused,
          nonRetryable: true,
          message: notifier
            ? `no channel named ${JSON.stringify(channel)} in NOTIFICATIONS_FILE ${notifier.config.file}`
            : `this worker has no NOTIFICATIONS_FILE: it cannot deliver to channel ${JSON.stringify(channel)}`,
        });
      const prepared = notifier.prepare(event);
      try {
        const result = await sender.send(prepared, ctx.cancellationSignal);
        if (result.outcome === 'skipped') metrics.skipped?.(channel, event.type);
        else metrics.sent?.(channel, event.type);
        return result;
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw err;
        const known = err instanceof NotificationDeliveryError ? err : undefined;
        const retryable = known ? known.retryable : true;
        const message = notifier.scrub((err as Error)?.message ?? String(err));
        throw ApplicationFailure.create({
          type: retryable ? ErrorType.NotificationDeliveryFailed : ErrorType.NotificationRefused,
          nonRetryable: !retryable,
          message,
          details: [{ attempt: ctx.info.attempt, ...(known?.status !== undefined ? { status: known.status } : {}) }],
          ...(known?.retryAfterMs !== undefined ? { nextRetryDelay: known.retryAfterMs } : {}),
        });
      }
    },

    /**
     * A delivery that gave up: counted, logged once (WARN), and appended to the evidence chain as a
     * `notification` record naming the run. Safe to retry: the record's key is the event's and the
     * channel's, so a repeated append writes nothing more (the count may repeat on a retry).
     */
    async recordNotificationGivenUp({ event, channel, attempts, lastError }: NotificationGivenUpInput): Promise<{ recorded: boolean }> {
      const ctx = Context.current();
      const error = (notifier ? notifier.scrub(lastError) : lastError).slice(0, 500);
      if (ctx.info.attempt === 1) metrics.failed?.(channel);
      ctx.log.warn('notification delivery gave up', { eventId: event.id, type: event.type, channel, attempts, lastError: error });
      if (!evidence) return { recorded: false };
      const content: EvidenceContent = {
        key: `notification-given-up/${event.id}/${channel}`,
        kind: 'notification',
        workflowId: event.workflowId,
        runId: event.runId,
        startedBy: {
          ...(event.schedule ? { scheduleId: event.schedule } : {}),
          ...(event.startedBy ? { requestedBy: event.startedBy } : {}),
        },
        ccs: event.ccs ?? null,
        jobId: event.job?.id ?? null,
        jobRunId: event.jobRunId ?? null,
        startTime: null,
        endTime: null,
        status: event.status ?? event.outcome ?? 'unknown',
        outcome: 'notification-given-up',
        error: { type: ErrorType.NotificationDeliveryFailed, message: error },
        exception: null,
        messages: [],
        cancel: null,
        deadline: null,
        late: false,
        notification: { eventId: event.id, eventType: event.type, channel, attempts, lastError: error },
        recordedAt: new Date().toISOString(),
        workerVersion,
        pipelineDigest: null,
      };
      await evidence.append(content);
      return { recorded: true };
    },
  };
}

export type NotificationActivityFunctions = ReturnType<typeof createNotificationActivities>;
