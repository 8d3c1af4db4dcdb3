/**
 * Failures that both workflows and activities raise, built in one place so their type, message and
 * details cannot drift apart. Pure: `ApplicationFailure` from @temporalio/common works on both sides.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from './errors';

/** `CcsJobAlreadyRunning`: the job has a run in progress and the caller asked not to attach. */
export function jobAlreadyRunning(jobId: string, inProgress: { jobRunId: string; status: string }): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.JobAlreadyRunning,
    nonRetryable: true,
    message: `CCS job ${jobId} already has run ${inProgress.jobRunId} in status ${inProgress.status}; pass ifRunning: 'attach' to follow it`,
    details: [{ jobRunId: inProgress.jobRunId, status: inProgress.status }],
  });
}

/** `CcsInvalidInput` from a validation error, as a workflow fails with it. */
export function invalidInputFailure(err: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.InvalidInput, message: (err as Error).message, nonRetryable: true });
}
