/**
 * The public contract of the orchestrator: every name other teams use to start, signal, query and
 * find CCS job workflows (from this project, the temporal CLI, or Go/Python/Java clients), and the
 * shapes of inputs and results. Side-effect free; workflows, activities, worker, CLI and tests share it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobRunMessage } from './ccs/types';
import type { PipelineReport } from './pipeline';

export const DEFAULT_TASK_QUEUE = 'ccs-jobs';

export const WorkflowName = Object.freeze({
  runCcsJob: 'runCcsJob',
  runCcsPipeline: 'runCcsPipeline',
} as const);

/** Activity names are public: other SDKs' workers may implement them. */
export const ActivityName = Object.freeze({
  listJobRuns: 'listJobRuns',
  executeJob: 'executeJob',
  waitForJobRunChange: 'waitForJobRunChange',
  abortJobRun: 'abortJobRun',
} as const);

/** Keyword search attributes kept current by `runCcsJob`; the dev server and clusters must register them. */
export const SearchAttribute = Object.freeze({
  jobId: defineSearchAttributeKey('CcsJobId', SearchAttributeType.KEYWORD),
  jobRunId: defineSearchAttributeKey('CcsJobRunId', SearchAttributeType.KEYWORD),
  jobStatus: defineSearchAttributeKey('CcsJobStatus', SearchAttributeType.KEYWORD),
});

export const SEARCH_ATTRIBUTE_NAMES = Object.values(SearchAttribute).map((key) => key.name);

/** A duration: milliseconds, or text such as "30s", "5m", "1h30m". */
export type DurationInput = string | number;

export interface RunCcsJobInput {
  /** The CCS job to run (GUID). */
  jobId: string;
  /** Which configured CCS server runs the job (the worker's CCS_SERVERS_FILE names). Default "default". */
  ccs?: string;
  /** First wait between polls. Default "30s". */
  pollInterval?: DurationInput;
  /** Polls slow down toward this while nothing changes. Default the larger of pollInterval and "5m". */
  maxPollInterval?: DurationInput;
  /** Deadline for the whole run; when it passes the run is aborted and the workflow fails `CcsJobTimedOut`. */
  timeout?: DurationInput;
  /** What to do when the job already has a run in progress: fail (default) or follow that run. */
  ifRunning?: 'fail' | 'attach';
  /** How long to wait for CCS to report an aborted run as ended before failing `CcsAbortUnconfirmed`. Default "5m". */
  abortConfirmTimeout?: DurationInput;
  /** Internal: state carried across continue-as-new. Never set it yourself. */
  resume?: RunCcsJobResume;
}

/** State a `runCcsJob` execution hands to its continuation. */
export interface RunCcsJobResume {
  jobRunId: string;
  adopted: boolean;
  polls: number;
  /** Epoch milliseconds of the deadline, if any. */
  deadlineAt: number | null;
  status: string;
  statusCode: number | null;
  customStatusText: string | null;
  lastChangeAt: string;
}

export interface CancelInput {
  reason?: string;
}

export interface CancelledInfo {
  by: 'signal' | 'cancellation' | 'timeout';
  reason: string | null;
  at: string;
}

/** What `runCcsJob` returns (and attaches as failure details when the run Faulted, was Aborted or timed out). */
export interface RunCcsJobResult {
  jobId: string;
  jobRunId: string;
  status: string;
  statusCode: number | null;
  startTime: string | null;
  endTime: string | null;
  summary: string | null;
  exception: string | null;
  customStatusText: string | null;
  activities: unknown[];
  messages: JobRunMessage[];
  /** Status reads made while following the run. */
  polls: number;
  /** True when this workflow followed a run it did not start (after an ambiguous execute, or `ifRunning: 'attach'`). */
  adopted: boolean;
  cancelled?: CancelledInfo;
}

export type RunCcsJobPhase = 'starting' | 'running' | 'cancelling' | 'finished';

export interface RunCcsJobStatus {
  phase: RunCcsJobPhase;
  jobId: string;
  jobRunId?: string;
  status?: string;
  statusCode?: number | null;
  customStatusText?: string | null;
  lastChangeAt?: string;
  polls: number;
  cancelReason?: string | null;
}

export const cancelSignal = defineSignal<[CancelInput?]>('cancel');
export const statusQuery = defineQuery<RunCcsJobStatus>('status');
/** The pipeline's live report; same query name as `runCcsJob`'s, so `status` works on either. */
export const pipelineStatusQuery = defineQuery<PipelineReport>('status');
