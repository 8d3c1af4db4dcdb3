/**
 * What a pipeline's job entry takes from its child `runCcsJob`: the run's result when it ended, or
 * the error (and the run, when the failure carries it) when it did not. Workflow code.
 */
import { ApplicationFailure, CancelledFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import type { RunCcsJobResult } from '../domain/contract';
import type { PipelineJobReport } from '../domain/pipeline';

/** What a child's failure says about its run: the error, and the run result when the failure carries it. */
export function failureOf(err: unknown): { error: { type: string; message: string }; result?: RunCcsJobResult } {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as Partial<RunCcsJobResult> | undefined;
    return {
      error: { type: cause.type ?? 'Error', message: cause.message },
      ...(details?.jobRunId ? { result: details as RunCcsJobResult } : {}),
    };
  }
  if (cause instanceof CancelledFailure) return { error: { type: 'Cancelled', message: 'the job workflow was cancelled' } };
  return { error: { type: (cause as Error)?.name ?? 'Error', message: (cause as Error)?.message ?? String(cause) } };
}

export function record(entry: PipelineJobReport, result: RunCcsJobResult): void {
  Object.assign(entry, { status: result.status, jobRunId: result.jobRunId, startTime: result.startTime, endTime: result.endTime });
  if (result.exception) entry.exception = result.exception;
  if (result.messages?.length) entry.messages = result.messages;
}
