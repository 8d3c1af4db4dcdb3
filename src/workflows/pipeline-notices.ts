/**
 * The events a `runCcsPipeline` announces: stale data when a stage's gate refuses, and at close
 * completed (CompletedWithFailures too: its failed jobs are in details, and each announced its own
 * `run.failed`) or failed. Not announced: a cancelled pipeline (somebody asked) and a refused
 * definition (nothing started). Its job runs are told the pipeline's name, the job's name and the
 * schedule in their memo, so their own events name them. Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors';
import { NotificationEventType, NotificationMemo, NOTIFICATION_LIMITS, boundText } from '../domain/notifications';
import type { PipelineDefinition, PipelineReport } from '../domain/pipeline';
import { Announcements, text, type DecidedEvent } from './notify';

export class PipelineNotices {
  private readonly announced = new Announcements();

  constructor(
    private readonly name: () => string,
    private readonly definition: () => PipelineDefinition,
  ) {}

  /** The memo of a job run this pipeline starts. */
  childMemo(jobName: string | undefined): Record<string, string> {
    const scheduled = (workflowInfo().searchAttributes?.TemporalScheduledById as unknown[] | undefined)?.[0];
    return {
      [NotificationMemo.pipeline]: this.name(),
      ...(jobName ? { [NotificationMemo.jobName]: jobName } : {}),
      ...(typeof scheduled === 'string' ? { [NotificationMemo.schedule]: scheduled } : {}),
    };
  }

  /** A stage's stale-data gate refused: its jobs do not run. */
  staleData(stage: string, reason: string): void {
    this.add({
      type: NotificationEventType.PipelineStaleData,
      summary: `Stale data: pipeline ${this.name()} stage ${stage} did not run`,
      severity: 'warning',
      incident: { action: 'none', key: `${workflowInfo().workflowId}/stale-data` },
      errorType: ErrorType.StaleData,
      details: { stage: boundText(stage), reason: boundText(reason) },
    });
  }

  /** The pipeline closes with `report` (and `err` when it failed); a cancelled or refused one announces nothing. */
  closed(report: PipelineReport | undefined, err: unknown): void {
    if (!report || report.status === 'Cancelled' || (err !== undefined && !(err instanceof ApplicationFailure))) return;
    const type = err instanceof ApplicationFailure ? (err.type ?? 'Error') : undefined;
    if (type === ErrorType.InvalidInput) return;
    const failedJobs = report.stages.flatMap((s) => s.jobs.filter((j) => j.state === 'failed').map((j) => ({ stage: s.name, job: j })));
    const failedSummary = failedJobs
      .map(({ stage, job }) => `${stage}: ${job.name ?? job.jobId} (${job.error?.type ?? job.status ?? 'failed'})`)
      .join('; ');
    const ok = err === undefined;
    this.add({
      type: ok ? NotificationEventType.PipelineCompleted : NotificationEventType.PipelineFailed,
      summary: `${report.status}: pipeline ${this.name()}`,
      severity: ok ? (failedJobs.length > 0 ? 'warning' : 'info') : 'critical',
      incident: ok ? { action: 'none', key: workflowInfo().workflowId } : { action: 'trigger', key: workflowInfo().workflowId },
      outcome: report.status,
      ...(type ? { errorType: type, exception: text(err instanceof Error ? err.message : undefined) } : {}),
      details: {
        stages: report.stages.length,
        failedJobs: failedJobs.length,
        ...(failedSummary ? { failed: boundText(failedSummary, NOTIFICATION_LIMITS.text) } : {}),
      },
    });
  }

  /** Resolves once every event of the pipeline is queued or given up on. */
  settled(): Promise<void> {
    return this.announced.settled();
  }

  private add(event: Omit<DecidedEvent, 'pipeline'>): void {
    const definition = this.definition() as Partial<PipelineDefinition> | null;
    const startedBy = typeof definition?.requestedBy === 'string' ? text(definition.requestedBy) : undefined;
    const ccs = typeof definition?.ccs === 'string' ? definition.ccs.slice(0, 64) : undefined;
    this.announced.add({ ...event, pipeline: boundText(this.name()), ...(startedBy ? { startedBy } : {}), ...(ccs ? { ccs } : {}) });
  }
}
