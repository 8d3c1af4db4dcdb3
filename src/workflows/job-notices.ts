/**
 * The events a `runCcsJob` execution announces: attention raised and cleared (one incident per
 * workflow, `<workflowId>/attention`, so a pager resolves what it opened, across continue-as-new),
 * late, and at close completed or failed. Not announced: a cancel the user asked for that CCS
 * confirmed (they know: they asked), and a refused input (nothing was sent to CCS; the start fails at
 * once for whoever started it). Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure, CancelledFailure, workflowInfo } from '@temporalio/workflow';
import type { CancelledInfo, RunCcsJobInput, RunCcsJobResult } from '../domain/contract';
import type { LateInfo } from '../domain/duration-alert';
import { ErrorType, type Attention } from '../domain/errors';
import type { JobRun } from '../domain/job-run';
import type { ValidRunCcsJobInput } from '../domain/job-workflow';
import { NotificationEventType, NotificationMemo } from '../domain/notifications';
import { formatDuration } from '../domain/validation';
import { Announcements, memoText, newestMessages, text, type DecidedEvent } from './notify';

/** What a run's outcome is called in its event, by the failure's type. */
const OUTCOME_OF_FAILURE: Readonly<Record<string, string>> = Object.freeze({
  [ErrorType.JobFaulted]: 'Faulted',
  [ErrorType.JobAborted]: 'Aborted',
  [ErrorType.JobTimedOut]: 'TimedOut',
  [ErrorType.AbortUnconfirmed]: 'AbortUnconfirmed',
  [ErrorType.JobAlreadyRunning]: 'AlreadyRunning',
});

export class JobNotices {
  private readonly announced = new Announcements();

  constructor(
    private readonly input: ValidRunCcsJobInput,
    private readonly raw: RunCcsJobInput,
    private readonly run: () => JobRun | undefined,
  ) {}

  /** The run was flagged for attention (or its type changed): opens (or updates) the workflow's attention incident. */
  attentionRaised(attention: Attention): void {
    this.add({
      type: NotificationEventType.RunAttention,
      summary: `Needs attention (${attention.type}): ${this.subject()}`,
      severity: 'warning',
      incident: { action: 'trigger', key: attentionKey() },
      errorType: attention.type,
      details: { message: text(attention.message) ?? null, since: attention.since },
    });
  }

  /** The run could be read again, or it closed while flagged: resolves the attention incident. */
  attentionCleared(was: Attention, why: 'readable again' | 'run closed'): void {
    this.add({
      type: NotificationEventType.RunAttentionCleared,
      summary: `Attention cleared (${why}): ${this.subject()}`,
      severity: 'info',
      incident: { action: 'resolve', key: attentionKey() },
      errorType: was.type,
      details: { was: was.type, since: was.since, why },
    });
  }

  /** The run outlasted its expected duration; it is still followed. */
  late(late: LateInfo): void {
    this.add({
      type: NotificationEventType.RunLate,
      summary: `Late: ${this.subject()} has run longer than ${formatDuration(late.expectedMs)}`,
      severity: 'warning',
      incident: { action: 'none', key: `${workflowInfo().workflowId}/late` },
      details: { expectedMs: late.expectedMs, basis: late.basis, since: late.since },
    });
  }

  /**
   * The execution closes with `result` or `err` (never a continue-as-new): completed, failed, or
   * nothing for a confirmed cancel the user asked for. `attention`: the flag still set, resolved now.
   */
  closed(err: unknown, result: RunCcsJobResult | undefined, cancel: CancelledInfo | undefined, attention: Attention | undefined): void {
    if (attention) this.attentionCleared(attention, 'run closed');
    const failure = err instanceof ApplicationFailure ? err : undefined;
    const asked = cancel !== undefined && cancel.by !== 'timeout';
    if (err === undefined && result) {
      if (result.status === 'Completed') this.add({ ...this.ofResult(result), ...completed(this.subject()) });
      else if (!asked) this.add({ ...this.ofResult(result), ...failed(this.subject(), result.status) });
      return;
    }
    const type = failure?.type ?? (err instanceof Error ? err.name : 'Error');
    // The abort the user asked for, confirmed (or no run started yet). An unconfirmed abort, or a run
    // that faulted before the abort reached it, is still announced.
    if (err instanceof CancelledFailure || (asked && type === ErrorType.JobAborted)) return;
    const details = failure?.details?.[0] as Partial<RunCcsJobResult> | undefined;
    const outcome = OUTCOME_OF_FAILURE[type] ?? (type === ErrorType.JobEndedUnexpectedly ? (details?.status ?? 'Ended') : type);
    this.add({
      ...(details?.jobRunId ? this.ofResult(details as RunCcsJobResult) : {}),
      ...failed(this.subject(), outcome),
      errorType: type,
      ...(details?.exception ? {} : { exception: text(err instanceof Error ? err.message : String(err)) }),
    });
  }

  /** Resolves once every event of this execution is queued or given up on. */
  settled(): Promise<void> {
    return this.announced.settled();
  }

  private add(event: Omit<DecidedEvent, 'ccs' | 'job'>): void {
    const run = this.run();
    const pipeline = memoText(NotificationMemo.pipeline);
    const jobName = memoText(NotificationMemo.jobName);
    const startedBy = text(this.raw.requestedBy) ?? (pipeline ? `pipeline ${pipeline}` : undefined);
    this.announced.add({
      ccs: this.input.ccs,
      job: { id: this.input.jobId, ...(jobName ? { name: jobName } : {}) },
      ...(run ? { jobRunId: run.jobRunId, status: run.status } : {}),
      ...(pipeline ? { pipeline } : {}),
      ...(startedBy ? { startedBy } : {}),
      ...event,
    });
  }

  /** The fields a closing run's result gives. */
  private ofResult(result: RunCcsJobResult): Partial<DecidedEvent> {
    const messages = newestMessages(result.messages);
    const exception = text(result.exception);
    return {
      jobRunId: result.jobRunId,
      status: result.status,
      ...(exception ? { exception } : {}),
      ...(messages ? { messages } : {}),
    };
  }

  /** "job <name or id> on <server>", for summaries. */
  private subject(): string {
    return `job ${memoText(NotificationMemo.jobName) ?? this.input.jobId} on ${this.input.ccs}`;
  }
}

function attentionKey(): string {
  return `${workflowInfo().workflowId}/attention`;
}

function completed(subject: string): Pick<DecidedEvent, 'type' | 'summary' | 'severity' | 'incident' | 'outcome'> {
  return {
    type: NotificationEventType.RunCompleted,
    summary: `Completed: ${subject}`,
    severity: 'info',
    incident: { action: 'none', key: workflowInfo().workflowId },
    outcome: 'Completed',
  };
}

function failed(subject: string, outcome: string): Pick<DecidedEvent, 'type' | 'summary' | 'severity' | 'incident' | 'outcome'> {
  return {
    type: NotificationEventType.RunFailed,
    summary: `${outcome}: ${subject}`,
    severity: 'critical',
    incident: { action: 'trigger', key: workflowInfo().workflowId },
    outcome,
  };
}
