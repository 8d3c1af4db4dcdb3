/**
 * Announcing what happened: a workflow decides an event (durably: the decision and its id are in
 * history) and hands it to `announceNotification`, which queues one delivery workflow per channel.
 * Queueing never changes the outcome of the run that announces, and never holds it open for long:
 * it is bounded (ANNOUNCE_TIMEOUT_MS), and a failure to queue is logged and counted, not thrown.
 * Workflow code: deterministic, no I/O.
 */
import { CancellationScope, log, metricMeter, uuid4, workflowInfo } from '@temporalio/workflow';
import { boundText, NOTIFICATION_LIMITS, NotificationMemo, type NotificationEvent } from '../domain/notifications';
import type { JobRunMessage } from '../domain/job-run';
import { announceCall } from './activity-options';

/** What the announcing workflow decides; id, time, its own ids and the schedule are filled in by {@link Announcements.add}. */
export type DecidedEvent = Omit<NotificationEvent, 'id' | 'time' | 'workflowId' | 'runId' | 'workflowType' | 'links'>;

/** The events one execution announced, so its close can wait for them (bounded) before it closes or continues as new. */
export class Announcements {
  private readonly pending: Promise<void>[] = [];

  /**
   * Decides `decided` now (its id from the workflow's deterministic uuid, its time from workflow
   * time) and starts queueing it; never throws.
   */
  add(decided: DecidedEvent): void {
    this.pending.push(announce(decided));
  }

  /** Resolves once every event added so far is queued or given up on (at most ANNOUNCE_TIMEOUT_MS each, in parallel). */
  async settled(): Promise<void> {
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }
}

/**
 * Queues one event in a non-cancellable scope (a run being cancelled still tells), retried for at
 * most ANNOUNCE_TIMEOUT_MS; resolves either way.
 */
export async function announce(decided: DecidedEvent): Promise<void> {
  const info = workflowInfo();
  const schedule = decided.schedule ?? scheduleOf();
  const event: NotificationEvent = {
    ...decided,
    id: uuid4(),
    time: new Date().toISOString(),
    summary: boundText(decided.summary, NOTIFICATION_LIMITS.summary),
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    ...(schedule ? { schedule } : {}),
  };
  try {
    await CancellationScope.nonCancellable(() => announceCall.announceNotification({ event }));
  } catch (err) {
    metricMeter
      .createCounter('ccs_notifications_unqueued', 'events', 'notification events a workflow decided but could not queue')
      .add(1, { type: event.type });
    log.warn('notification event not queued: its channels will not receive it; the outcome is unchanged', {
      eventId: event.id,
      type: event.type,
      error: err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err),
    });
  }
}

/** The schedule that started this workflow (Temporal's own search attribute), or the one a pipeline passed to its run. */
function scheduleOf(): string | undefined {
  const info = workflowInfo();
  const own = (info.searchAttributes?.TemporalScheduledById as unknown[] | undefined)?.[0];
  if (typeof own === 'string') return own;
  const passed = info.memo?.[NotificationMemo.schedule];
  return typeof passed === 'string' ? passed : undefined;
}

/** What a pipeline put in its run's memo under `key`, when it is a string. */
export function memoText(key: string): string | undefined {
  const value = workflowInfo().memo?.[key];
  return typeof value === 'string' && value !== '' ? boundText(value) : undefined;
}

/** The newest run messages an event carries, each bounded. */
export function newestMessages(messages: readonly JobRunMessage[] | undefined): string[] | undefined {
  if (!messages || messages.length === 0) return undefined;
  return messages.slice(-NOTIFICATION_LIMITS.messages).map((m) => boundText(m.time ? `${m.time} ${m.text}` : m.text));
}

/** A text field, bounded; undefined when empty. */
export function text(value: string | null | undefined): string | undefined {
  return value ? boundText(value) : undefined;
}
