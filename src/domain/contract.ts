/**
 * The public names of the orchestrator: every name other teams use to start, signal, query and
 * find CCS job workflows (from this project, the temporal CLI, or Go/Python/Java clients), and the
 * one builder for each workflow id and visibility query. Side-effect free; workflows, activities,
 * worker, CLI and tests share it. The shapes behind the names live in job-workflow.ts and pipeline.ts.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CancelInput, RunCcsJobStatus, StatusQueryInput } from './job-workflow';
import type { PauseInput, ResumeInput } from './pause';
import type { PipelineReport } from './pipeline';
import type { MaintenanceInput, MaintenanceStatus } from './maintenance';
import { invalidInput, requireGuid, validateServerName } from './validation';

export type { LiveMessage, StatusQueryInput } from './job-workflow';
export type {
  CancelInput,
  CancelledInfo,
  RunCcsJobInput,
  RunCcsJobPhase,
  RunCcsJobResult,
  RunCcsJobResume,
  RunCcsJobStatus,
} from './job-workflow';
export type { DurationInput } from './validation';
export type { PauseInput, PauseState, ResumeInput } from './pause';
export type { MaintenanceInput, MaintenanceStatus } from './maintenance';

export const DEFAULT_TASK_QUEUE = 'ccs-jobs';

export const WorkflowName = Object.freeze({
  runCcsJob: 'runCcsJob',
  runCcsPipeline: 'runCcsPipeline',
  /** Reads only: the JobIDs behind job names, asked of the worker that holds the CCS credentials. */
  resolveCcsJobNames: 'resolveCcsJobNames',
  /** One per CCS server while its maintenance window is open: pauses the server's runs, resumes them at the end. */
  ccsMaintenanceWindow: 'ccsMaintenanceWindow',
  /** Finds CCS runs no workflow follows (terminated workflows, console-started runs); reports, adopts or aborts them. */
  reconcileCcsRuns: 'reconcileCcsRuns',
  /** One notification event to one channel, retried with back-off until the channel takes it or the delivery gives up. */
  deliverCcsNotification: 'deliverCcsNotification',
  /** One per schedule created with `--alert-if-no-success`: `scan.missed` when no Completed run ended within the window. */
  ccsScanWatch: 'ccsScanWatch',
} as const);

/** Keyword search attributes kept current by `runCcsJob`; the dev server and clusters must register them. */
export const SearchAttribute = Object.freeze({
  jobId: defineSearchAttributeKey('CcsJobId', SearchAttributeType.KEYWORD),
  jobRunId: defineSearchAttributeKey('CcsJobRunId', SearchAttributeType.KEYWORD),
  jobStatus: defineSearchAttributeKey('CcsJobStatus', SearchAttributeType.KEYWORD),
  /** The error type a followed run needs attention for (unset when clear): `CcsAttention IS NOT NULL`. */
  attention: defineSearchAttributeKey('CcsAttention', SearchAttributeType.KEYWORD),
  /** The expected duration a run has outlasted, e.g. "45m" (unset while on time): `CcsLate IS NOT NULL`. */
  late: defineSearchAttributeKey('CcsLate', SearchAttributeType.KEYWORD),
  /** Why polling is held, "signal" or "maintenance" (unset while not paused): `CcsPaused IS NOT NULL`. */
  paused: defineSearchAttributeKey('CcsPaused', SearchAttributeType.KEYWORD),
  /** The configured CCS server a run is on (its `ccs`): what maintenance windows and reconciles select by. */
  server: defineSearchAttributeKey('CcsServer', SearchAttributeType.KEYWORD),
});

export const SEARCH_ATTRIBUTE_NAMES = Object.values(SearchAttribute).map((key) => key.name);

export const cancelSignal = defineSignal<[CancelInput?]>('cancel');
/** Hold a run (or a pipeline and its runs): no CCS request, no abort, until `resume` or `until`. */
export const pauseSignal = defineSignal<[PauseInput?]>('pause');
export const resumeSignal = defineSignal<[ResumeInput?]>('resume');
export const statusQuery = defineQuery<RunCcsJobStatus, [StatusQueryInput?]>('status');
/** The pipeline's live report; same query name as `runCcsJob`'s, so `status` works on either. */
export const pipelineStatusQuery = defineQuery<PipelineReport>('status');

/**
 * The workflow id of a job's orchestration, `ccs-job-<JobID>`: starting a job that is already being
 * orchestrated finds that workflow instead of starting a second CCS run. (Schedules append their time.)
 */
export function jobWorkflowId(jobId: string): string {
  return `ccs-job-${requireGuid('jobId', jobId)}`;
}

/** The workflow id under which a reconcile adopts a run nobody follows, `ccs-adopt-<JobRunID>`: one adoption per run, ever. */
export function adoptionWorkflowId(jobRunId: string): string {
  return `ccs-adopt-${requireGuid('jobRunId', jobRunId).toLowerCase()}`;
}

/** The workflow id of a CCS server's maintenance window, `ccs-maintenance-<server>`: one window per server at a time. */
export function maintenanceWorkflowId(ccs: string): string {
  return `ccs-maintenance-${validateServerName('ccs', ccs)}`;
}

/** Opens a maintenance window, or changes the open one (reason, until): sent with signal-with-start. */
export const maintenanceSignal = defineSignal<[MaintenanceInput]>('maintenance');
/** Closes a maintenance window now: its server's runs resume. */
export const endMaintenanceSignal = defineSignal<[{ reason?: string }?]>('end');
export const maintenanceStatusQuery = defineQuery<MaintenanceStatus>('status');

/** The workflow id of a pipeline, `ccs-pipeline-<name as a slug>`. */
export function pipelineWorkflowId(name: string): string {
  return `ccs-pipeline-${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}

/** The id of a pipeline's child: names the pipeline run, the stage and the job, the same on every replay. */
export function childWorkflowId(pipelineWorkflowId: string, stageIndex: number, jobId: string): string {
  return `${pipelineWorkflowId}/stage-${stageIndex + 1}/${jobId}`;
}

export interface JobListFilter {
  /** Include closed workflows too. */
  all?: boolean;
  /** Only runs flagged for attention. */
  attention?: boolean;
  /** A CCS status name in any case, e.g. "executing". */
  status?: string;
  jobId?: string;
}

/**
 * The visibility query for `runCcsJob` workflows. Queries interpolate user text, so only GUIDs and
 * status words get in; anything else throws `CcsInvalidInput` naming the field.
 */
export function jobListQuery(filter: JobListFilter, field = { status: 'status', jobId: 'jobId' }): string {
  const terms = [`WorkflowType='${WorkflowName.runCcsJob}'`];
  if (!filter.all) terms.push(`ExecutionStatus='Running'`);
  if (filter.status !== undefined) {
    const s = filter.status;
    if (!/^\w{1,40}$/.test(s))
      throw invalidInput(`${field.status} must be a CCS status such as Executing or Pending; got ${JSON.stringify(s)}`);
    terms.push(`${SearchAttribute.jobStatus.name}='${s.charAt(0).toUpperCase()}${s.slice(1).toLowerCase()}'`);
  }
  if (filter.attention) terms.push(`${SearchAttribute.attention.name} IS NOT NULL`);
  if (filter.jobId !== undefined) terms.push(`${SearchAttribute.jobId.name}='${requireGuid(field.jobId, filter.jobId)}'`);
  return terms.join(' AND ');
}
