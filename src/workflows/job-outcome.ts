/**
 * How a followed CCS run becomes the workflow's outcome: the result object, and whether the workflow
 * completes with it or fails with a typed failure carrying it. Pure functions of their arguments.
 */
import { ApplicationFailure, type CancelledFailure } from '@temporalio/workflow';
import type { CancelledInfo, RunCcsJobResult } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import type { JobRun } from '../domain/job-run';

export function resultOf(run: JobRun, polls: number, adopted: boolean, cancelled: CancelledInfo | undefined): RunCcsJobResult {
  return {
    jobId: run.jobId,
    jobRunId: run.jobRunId,
    status: run.status,
    statusCode: run.statusCode,
    startTime: run.startTime,
    endTime: run.endTime,
    summary: run.summary,
    exception: run.exception,
    customStatusText: run.customStatusText,
    activities: run.activities,
    messages: run.messages ?? [],
    polls,
    adopted,
    ...(cancelled ? { cancelled } : {}),
    ...(run.omitted ? { omitted: run.omitted } : {}),
    ...(run.unreadable ? { unreadable: run.unreadable } : {}),
  };
}

/**
 * Returns the result when the workflow completes with it (Completed, or Aborted by our own `cancel`
 * signal); throws otherwise: `CcsJobFaulted`, `CcsJobTimedOut`, `CcsJobAborted` (details: the
 * result), or the native cancellation that asked for the abort.
 */
export function outcomeOf(
  result: RunCcsJobResult,
  cancel: CancelledInfo | undefined,
  nativeCancel: CancelledFailure | undefined,
): RunCcsJobResult {
  const where = `CCS job ${result.jobId} run ${result.jobRunId}`;
  if (result.status === 'Completed') return result;
  if (result.status === 'Faulted') {
    throw ApplicationFailure.create({
      type: ErrorType.JobFaulted,
      nonRetryable: true,
      message: `${where} faulted${result.exception ? `: ${result.exception}` : ''}`,
      details: [result],
    });
  }
  if (result.status !== 'Aborted') {
    // Ended (its end time is set) in a status that is not a documented end, e.g. Idle or Custom.
    throw ApplicationFailure.create({
      type: ErrorType.JobEndedUnexpectedly,
      nonRetryable: true,
      message: `${where} ended in status ${JSON.stringify(result.status)}${result.customStatusText ? ` (${result.customStatusText})` : ''}${result.exception ? `: ${result.exception}` : ''}`,
      details: [result],
    });
  }
  if (cancel?.by === 'timeout') {
    throw ApplicationFailure.create({
      type: ErrorType.JobTimedOut,
      nonRetryable: true,
      message: `${where} was aborted: ${cancel.reason}`,
      details: [result],
    });
  }
  if (nativeCancel) throw nativeCancel;
  if (cancel?.by === 'signal') return result;
  throw ApplicationFailure.create({
    type: ErrorType.JobAborted,
    nonRetryable: true,
    message: `${where} was aborted outside this workflow`,
    details: [result],
  });
}

/** The failure of a workflow cancelled (or past its deadline) before CCS had a run: nothing was started. */
export function cancelledBeforeExecute(jobId: string, cancel: CancelledInfo): ApplicationFailure {
  return ApplicationFailure.create({
    type: cancel.by === 'timeout' ? ErrorType.JobTimedOut : ErrorType.JobAborted,
    nonRetryable: true,
    message: `cancelled (${cancel.by}) before CCS job ${jobId} was executed; no run was started`,
    details: [{ jobId, cancelled: cancel }],
  });
}
