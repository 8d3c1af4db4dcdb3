/**
 * The closing evidence record of a `runCcsJob` execution: written once, when it closes, whatever
 * the outcome (a continuation writes it, not the execution that handed over). Retried until the sink
 * takes it; the outcome is decided before and does not change. Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure, CancellationScope, CancelledFailure, ContinueAsNew, workflowInfo } from '@temporalio/workflow';
import type { RunCcsJobInput, RunCcsJobResult } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { jobEvidence } from '../domain/evidence';
import { evidenceCall, startedBy } from './activity-options';
import type { JobState } from './job-state';

/**
 * Runs `body` (the whole execution) where no native cancellation reaches it (it is turned into an
 * abort instead), then writes the evidence record; returns or rethrows the body's outcome.
 */
export function closeWithEvidence(job: JobState, body: () => Promise<RunCcsJobResult>): Promise<RunCcsJobResult> {
  return CancellationScope.nonCancellable(async () => {
    let result: RunCcsJobResult;
    try {
      result = await body();
    } catch (err) {
      // Continuing as new is not closing: the continuation writes the record, and announces, when it closes.
      if (err instanceof ContinueAsNew) {
        await job.notices.settled();
        throw err;
      }
      await recordJobEvidence(job, err);
      await announceClose(job, err);
      throw err;
    }
    await recordJobEvidence(job, undefined, result);
    await announceClose(job, undefined, result);
    return result;
  });
}

/** The closing events, after the record is written: queued (bounded, never failing) before the workflow closes. */
function announceClose(job: JobState, err: unknown, result?: RunCcsJobResult): Promise<void> {
  job.notices.closed(err, result, job.cancel.info, job.run.attention);
  return job.notices.settled();
}

/** A run refused for its input closes too, so it has its record: nothing was sent to CCS. */
export async function recordRefusedInput(raw: RunCcsJobInput, failure: ApplicationFailure): Promise<void> {
  const info = workflowInfo();
  const given = typeof raw === 'object' && raw !== null ? raw : ({} as Partial<RunCcsJobInput>);
  await CancellationScope.nonCancellable(() =>
    evidenceCall.recordEvidence(
      jobEvidence({
        workflowId: info.workflowId,
        runId: info.runId,
        startedBy: startedBy(given.requestedBy),
        ccs: typeof given.ccs === 'string' ? given.ccs.slice(0, 64) : 'default',
        jobId: typeof given.jobId === 'string' ? given.jobId.slice(0, 64) : '',
        result: undefined,
        error: { type: failure.type ?? ErrorType.InvalidInput, message: failure.message },
        cancel: undefined,
        deadlineAt: null,
      }),
    ),
  );
}

/** The record of a closing execution; a failure's details carry the run's result when there was one. */
async function recordJobEvidence(job: JobState, err: unknown, result?: RunCcsJobResult): Promise<void> {
  const failure = err instanceof ApplicationFailure ? err : undefined;
  const details = failure?.details?.[0] as Partial<RunCcsJobResult> | undefined;
  const info = workflowInfo();
  await evidenceCall.recordEvidence(
    jobEvidence({
      workflowId: info.workflowId,
      runId: info.runId,
      startedBy: startedBy(job.raw.requestedBy),
      ccs: job.input.ccs,
      jobId: job.input.jobId,
      result: result ?? (details?.jobRunId ? (details as RunCcsJobResult) : undefined),
      error:
        err === undefined
          ? null
          : {
              type: failure?.type ?? (err instanceof CancelledFailure ? 'Cancelled' : err instanceof Error ? err.name : 'Error'),
              message: err instanceof Error ? err.message : 'unknown failure',
            },
      cancel: job.cancel.info,
      deadlineAt: job.deadline.at,
    }),
  );
}
