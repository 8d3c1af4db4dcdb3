/**
 * Ending a run this workflow follows: abort it once and wait, bounded by `abortConfirmTimeout`,
 * until CCS reports it ended. Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../domain/errors';
import { hasEnded, type JobRun } from '../domain/job-run';
import { abortCall, CONFIRM_MAX_POLL_MS, CONFIRM_POLL_MS, waitActivities } from './activity-options';
import { waitInput } from './follow';
import type { JobState } from './job-state';

/**
 * Aborts `target` and returns the run as CCS reports it ended. `stopWaiting` cancels the wait still
 * in flight, after the abort is scheduled (that order in history). Throws `CcsAbortUnconfirmed`
 * (non-retryable, naming the run) when CCS has not confirmed within `abortConfirmTimeout`.
 */
export async function abortAndConfirm(job: JobState, target: JobRun, stopWaiting: (() => void) | undefined): Promise<JobRun> {
  const { input } = job;
  const unconfirmed = (cause: unknown): ApplicationFailure =>
    ApplicationFailure.create({
      type: ErrorType.AbortUnconfirmed,
      nonRetryable: true,
      message: `CCS did not confirm the abort of job run ${target.jobRunId} (job ${input.jobId}); check it in the CCS console and abort it there if it is still running`,
      details: [{ jobId: input.jobId, jobRunId: target.jobRunId, lastStatus: job.run.current?.status ?? target.status }],
      cause: cause instanceof Error ? cause : undefined,
    });
  const giveUpAt = Date.now() + input.abortConfirmTimeoutMs;
  let answer;
  try {
    const abort = abortCall(input.abortConfirmTimeoutMs).abortJobRun({ jobId: input.jobId, jobRunId: target.jobRunId, ccs: input.ccs });
    stopWaiting?.();
    answer = await abort;
  } catch (err) {
    throw unconfirmed(err);
  }
  if (!answer.accepted && answer.run) {
    job.run.observe(answer.run, new Date().toISOString());
    return answer.run;
  }
  const pace = { pollIntervalMs: Math.min(input.pollIntervalMs, CONFIRM_POLL_MS), maxPollIntervalMs: CONFIRM_MAX_POLL_MS };
  let latest = target;
  while (!hasEnded(latest)) {
    const remaining = giveUpAt - Date.now();
    if (remaining <= 0) throw unconfirmed(undefined);
    try {
      const waits = waitActivities(pace.pollIntervalMs, pace.maxPollIntervalMs, input.heartbeatTimeoutMs, remaining);
      latest = job.run.record(await waits.waitForJobRunChange(waitInput(job, latest, pace, true))).run ?? latest;
    } catch (err) {
      throw unconfirmed(err);
    }
  }
  return latest;
}
