/**
 * What a `runCcsJob` execution knows of the CCS run it follows: the run as last seen (the real one,
 * carried across continue-as-new), its reads, whether it was adopted, its attention flag and its
 * messages. Every read goes through `record`, which keeps the `status` query, the search attributes
 * and the run counters current. Workflow code: deterministic, no I/O.
 */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import type { UnknownStatusWatch, WaitOutcome } from '../domain/activities';
import { SearchAttribute, type RunCcsJobResume } from '../domain/contract';
import type { Attention } from '../domain/errors';
import { hasUndocumentedStatus, type JobRun } from '../domain/job-run';
import type { ValidRunCcsJobInput } from '../domain/job-workflow';
import { countRun } from './activity-options';
import type { JobNotices } from './job-notices';
import { LiveMessageLog } from './live-messages';

export class FollowedRun {
  /** The run as last seen in CCS; undefined until it is executed or adopted. */
  current: JobRun | undefined;
  lastChangeAt: string | undefined;
  /** Status reads of the run, over all executions. */
  polls: number;
  adopted: boolean;
  attention: Attention | undefined;
  /** Since when (ISO-8601) the run has shown a status outside 0–7; undefined while its status is known. */
  private unknownSince: string | undefined;
  readonly messages: LiveMessageLog;

  constructor(
    private readonly input: ValidRunCcsJobInput,
    resume: RunCcsJobResume | null,
    private readonly notices: JobNotices,
    /** Told when what the UI shows of the run changed (status, attention): its current details are set again. */
    private readonly onShownChange: () => void = () => undefined,
  ) {
    this.current = resume?.run;
    this.lastChangeAt = resume?.lastChangeAt;
    this.polls = resume?.polls ?? 0;
    this.adopted = resume?.adopted ?? false;
    this.attention = resume?.attention;
    this.unknownSince = resume?.unknownStatusSince;
    this.messages = new LiveMessageLog(input.liveMessagesEvery, resume?.messages);
  }

  /** Log fields naming the run. */
  context(): { jobId: string; jobRunId: string | undefined; status: string | undefined } {
    return { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, status: this.current?.status };
  }

  /** What a wait is told of the run's flags: the attention flagged now, and since when its status has been unknown. */
  watch(): { attention: string | null; unknownStatus?: UnknownStatusWatch } {
    const since = this.unknownSince;
    return {
      attention: this.attention?.type ?? null,
      ...(since === undefined ? {} : { unknownStatus: { since, afterMs: this.input.unknownStatusAttentionAfterMs } }),
    };
  }

  /** The run an execute started (or adopted after an ambiguous answer, or found in progress) becomes the one followed. */
  start(run: JobRun, adopted: boolean): void {
    this.adopted = adopted;
    countRun(adopted ? 'adopted' : 'started', { ccs: this.input.ccs });
    this.observe(run, new Date().toISOString());
  }

  /** Counts a wait's reads and records what it saw: a run (clearing any attention), or why it could not. */
  record<T extends WaitOutcome>(change: T): T {
    this.polls += change.polls;
    this.messages.learn(change.live, this.context());
    // A read that failed carries attention and no run; a read of a run whose status stayed outside 0–7 too long, both.
    if (change.attention) this.raiseAttention(change.attention, change.observedAt);
    else if (change.run && this.attention) this.clearAttention();
    if (change.run) this.observe(change.run, change.observedAt);
    return change;
  }

  /** Records what CCS reported; keeps the search attributes current. */
  observe(next: JobRun, observedAt: string): void {
    const previous = this.current;
    const first = previous === undefined || previous.jobRunId !== next.jobRunId;
    const changed = first || previous.status !== next.status || previous.customStatusText !== next.customStatusText;
    this.current = next;
    this.unknownSince = hasUndocumentedStatus(next) ? (this.unknownSince ?? observedAt) : undefined;
    if (!changed) return;
    this.lastChangeAt = observedAt;
    log.info('CCS run status', {
      jobId: this.input.jobId,
      jobRunId: next.jobRunId,
      status: next.status,
      customStatusText: next.customStatusText,
    });
    upsertSearchAttributes([
      ...(first ? [{ key: SearchAttribute.jobRunId, value: next.jobRunId }] : []),
      { key: SearchAttribute.jobStatus, value: next.status },
    ]);
    this.onShownChange();
  }

  /** Counts the run's end by its final status. */
  countEnd(run: JobRun): void {
    countRun('ended', { ccs: this.input.ccs, status: run.status });
  }

  /** Counts a run flagged late. */
  countLate(): void {
    countRun('late', { ccs: this.input.ccs });
  }

  /** What a continuation inherits of the run: the run itself, its reads and flags. */
  handover(
    run: JobRun,
  ): Pick<RunCcsJobResume, 'run' | 'adopted' | 'polls' | 'lastChangeAt' | 'unknownStatusSince' | 'messages' | 'attention'> {
    const messages = this.messages.handover();
    return {
      run,
      adopted: this.adopted,
      polls: this.polls,
      lastChangeAt: this.lastChangeAt ?? new Date().toISOString(),
      ...(this.unknownSince ? { unknownStatusSince: this.unknownSince } : {}),
      ...(messages ? { messages } : {}),
      ...(this.attention ? { attention: this.attention } : {}),
    };
  }

  /** Flags the run: query, search attribute, one WARN log and a metric per change of type. */
  private raiseAttention(found: { type: string; message: string }, at: string): void {
    if (this.attention?.type === found.type) return;
    this.attention = { type: found.type, message: found.message, since: at };
    upsertSearchAttributes([{ key: SearchAttribute.attention, value: found.type }]);
    countRun('attentionRaised', { ccs: this.input.ccs, type: found.type });
    this.notices.attentionRaised(this.attention);
    this.onShownChange();
    log.warn('CCS run needs attention: it is still followed and the read is retried', {
      jobId: this.input.jobId,
      jobRunId: this.current?.jobRunId,
      type: found.type,
      message: found.message,
    });
  }

  private clearAttention(): void {
    const was = this.attention;
    this.attention = undefined;
    upsertSearchAttributes([{ key: SearchAttribute.attention, value: null }]);
    countRun('attentionCleared', { ccs: this.input.ccs, type: was?.type ?? 'unknown' });
    if (was) this.notices.attentionCleared(was, 'readable again');
    this.onShownChange();
    log.info('CCS run readable again; attention cleared', { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, was: was?.type });
  }
}
