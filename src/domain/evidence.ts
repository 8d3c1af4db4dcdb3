/**
 * Evidence records: what an auditor needs of every scan, one immutable record per closed workflow
 * run, written by an activity into a hash-chained sink (src/evidence). This module builds the part a
 * workflow knows; the activity adds when it was recorded, by which worker version, and digests.
 * Pure: workflows import it.
 */
import type { CancelledInfo, RunCcsJobResult } from './job-workflow';
import type { JobRunMessage } from './job-run';
import type { PipelineDefinition, PipelineReport } from './pipeline';
import type { CarriedFrom, RedriveOf } from './redrive';

/** Messages kept in a record (the newest), each cut to 1 KiB: a record stays small whatever CCS wrote. */
export const EVIDENCE_MESSAGES = 100;

/** Who or what started the workflow. */
export interface StartedBy {
  /** The Temporal schedule that started it (`TemporalScheduledById`). */
  scheduleId?: string;
  /** The pipeline workflow that started it as a child. */
  pipelineWorkflowId?: string;
  /** A person or system named by the starter (`ccs-jobs --requested-by`, default the CLI user). */
  requestedBy?: string;
  /**
   * The Temporal client identity that started the first run (`<pid>@<host>` by default), added by
   * the evidence activity from Temporal's history: who called, whatever they named.
   */
  identity?: string;
}

/** A record as the workflow builds it. */
export interface EvidenceDraft {
  /** `<workflowId>/<runId>`: one record per workflow run, whatever retries the activity makes. */
  key: string;
  /** `notification`: a delivery that gave up (key `notification-given-up/<eventId>/<channel>`), naming the run it was about. */
  kind: 'job' | 'pipeline' | 'notification';
  workflowId: string;
  runId: string;
  startedBy: StartedBy;
  ccs: string | null;
  jobId: string | null;
  jobRunId: string | null;
  /** When the run (or the pipeline) started and ended. */
  startTime: string | null;
  endTime: string | null;
  /** The final CCS status (Completed, Faulted, Aborted, …), the pipeline's status, or "NotStarted". */
  status: string;
  /** The workflow's own outcome: completed, or the error type it failed with. */
  outcome: string;
  error: { type: string; message: string } | null;
  exception: string | null;
  messages: JobRunMessage[];
  cancel: CancelledInfo | null;
  /** The deadline the workflow had (ISO), if any. */
  deadline: string | null;
  late: boolean;
  /** The pipeline's definition, digested by the activity (then dropped) and its report, for reports. */
  pipelineDefinition?: PipelineDefinition;
  pipeline?: PipelineReport;
  /**
   * A pipeline redrive (kind `pipeline`): the attempt it continued, the scan's first attempt, and which
   * jobs were carried (with the attempt and evidence key they come from) and which were run again.
   */
  redrive?: {
    of: RedriveOf;
    rootWorkflowId: string;
    attempt: number;
    carried: { jobId: string; jobRunId: string | null; from: CarriedFrom }[];
    rerun: { jobId: string; jobRunId: string | null; workflowId: string }[];
  };
  /** A notification that was never delivered (kind `notification`). */
  notification?: { eventId: string; eventType: string; channel: string; attempts: number; lastError: string };
}

/** A record as stored: the draft plus what the activity adds. */
export interface EvidenceContent extends Omit<EvidenceDraft, 'pipelineDefinition'> {
  recordedAt: string;
  workerVersion: string;
  /** SHA-256 of the pipeline definition's canonical JSON (pipelines). */
  pipelineDigest: string | null;
}

function boundedMessages(messages: readonly JobRunMessage[] | undefined): JobRunMessage[] {
  return (messages ?? [])
    .slice(-EVIDENCE_MESSAGES)
    .map((m) => ({ time: m.time, text: m.text.length > 1024 ? `${m.text.slice(0, 1024)}…` : m.text }));
}

/** The record of a `runCcsJob` from what it knows when it closes. */
export function jobEvidence(args: {
  workflowId: string;
  runId: string;
  startedBy: StartedBy;
  ccs: string;
  jobId: string;
  result: RunCcsJobResult | undefined;
  error: { type: string; message: string } | null;
  cancel: CancelledInfo | undefined;
  deadlineAt: number | null;
}): EvidenceDraft {
  const { result } = args;
  return {
    key: `${args.workflowId}/${args.runId}`,
    kind: 'job',
    workflowId: args.workflowId,
    runId: args.runId,
    startedBy: args.startedBy,
    ccs: args.ccs,
    jobId: args.jobId,
    jobRunId: result?.jobRunId ?? null,
    startTime: result?.startTime ?? null,
    endTime: result?.endTime ?? null,
    status: result?.status ?? 'NotStarted',
    outcome: args.error ? args.error.type : 'completed',
    error: args.error,
    exception: result?.exception ?? null,
    messages: boundedMessages(result?.messages),
    cancel: args.cancel ?? null,
    deadline: args.deadlineAt === null ? null : new Date(args.deadlineAt).toISOString(),
    late: result?.late !== undefined,
  };
}

/** The record of a `runCcsPipeline` from its report. */
export function pipelineEvidence(args: {
  workflowId: string;
  runId: string;
  startedBy: StartedBy;
  definition: PipelineDefinition;
  report: PipelineReport;
  error: { type: string; message: string } | null;
  deadlineAt: number | null;
  /** A redrive's part ({@link redriveEvidence}); absent for a scan's first attempt. */
  redrive?: EvidenceDraft['redrive'];
}): EvidenceDraft {
  const { report } = args;
  return {
    key: `${args.workflowId}/${args.runId}`,
    kind: 'pipeline',
    workflowId: args.workflowId,
    runId: args.runId,
    startedBy: args.startedBy,
    ccs: typeof args.definition?.ccs === 'string' ? args.definition.ccs : null,
    jobId: null,
    jobRunId: null,
    startTime: report.startedAt,
    endTime: report.endedAt ?? null,
    status: report.status,
    outcome: args.error ? args.error.type : 'completed',
    error: args.error,
    exception: null,
    messages: [],
    cancel: null,
    deadline: args.deadlineAt === null ? null : new Date(args.deadlineAt).toISOString(),
    late: false,
    pipelineDefinition: args.definition,
    pipeline: report,
    ...(args.redrive ? { redrive: args.redrive } : {}),
  };
}

/** A redrive's part of its pipeline record, from its report: the attempt it continued, what it carried and what it ran again. */
export function redriveEvidence(report: PipelineReport): EvidenceDraft['redrive'] {
  const info = report.redrive;
  if (!info) return undefined;
  const jobs = report.stages.flatMap((s) => s.jobs);
  return {
    of: info.of,
    rootWorkflowId: info.rootWorkflowId,
    attempt: info.attempt,
    carried: jobs.flatMap((j) => (j.carried ? [{ jobId: j.jobId, jobRunId: j.jobRunId ?? null, from: j.carried }] : [])),
    // A job the redrive did not get to (skipped after a failure) is still one it was to run: listed, without a run.
    rerun: jobs.flatMap((j) => (j.carried ? [] : [{ jobId: j.jobId, jobRunId: j.jobRunId ?? null, workflowId: j.workflowId }])),
  };
}
