/**
 * How a `runCcsJob` execution comes to follow a run: it starts the job exactly once, adopts a run in
 * progress when the input allows it, or takes over the run its predecessor followed. A cancel or the
 * deadline is honoured at every step. Workflow code: deterministic, no I/O.
 */
import { CancellationScope, upsertSearchAttributes } from '@temporalio/workflow';
import type { ExecuteJobResult } from '../domain/activities';
import { SearchAttribute } from '../domain/contract';
import { jobAlreadyRunning } from '../domain/failures';
import { hasEnded, newestFirst, type JobRun } from '../domain/job-run';
import { ccsCall, RUN_SNAPSHOT_SIZE, settleCall, executeCall } from './activity-options';
import { cancelledBeforeExecute } from './job-outcome';
import { activitySummary } from '../domain/ui-summary';
import { holdWhilePaused, joinMaintenance, showDetails, type JobState } from './job-state';

/**
 * Lists the job's latest runs (in history before executing, so a retried execute can recognise the
 * run it started), then adopts a run in progress (`ifRunning: attach`) or executes the job. A listing
 * is dropped on a cancel; an execute in flight is waited for (its run, if any, is then aborted), or,
 * when it was between attempts, the job is looked at again for a run an earlier attempt started.
 * Returns the listing: the history an "auto" duration alert reads. Throws `CcsJobAlreadyRunning`
 * (`ifRunning: fail`), or, when cancelled before CCS had a run, `CcsJobAborted`/`CcsJobTimedOut`
 * or the native cancellation.
 */
export async function startOrAdopt(job: JobState): Promise<JobRun[]> {
  const { jobId, ccs } = job.input;
  upsertSearchAttributes([{ key: SearchAttribute.jobId, value: jobId }]);
  await joinMaintenance(job);
  await holdWhilePaused(job);
  if (job.cancel.info) return endBeforeExecute(job);
  const known = await untilCancelled(job, () =>
    ccsCall.listJobRuns.executeWithOptions({ summary: activitySummary.listRuns(jobId, ccs) }, [{ jobId, count: RUN_SNAPSHOT_SIZE, ccs }]),
  ).result;
  if (known === null) return endBeforeExecute(job);
  const inProgress = newestFirst(known).find((r) => !hasEnded(r));
  if (inProgress) {
    if (job.input.ifRunning === 'fail') throw jobAlreadyRunning(jobId, inProgress);
    job.run.start(inProgress, true);
    return known;
  }
  await holdWhilePaused(job);
  if (job.cancel.info) return endBeforeExecute(job);
  const knownRunIds = known.map((r) => r.jobRunId);
  const execute = untilCancelled(job, () =>
    executeCall.executeJob.executeWithOptions({ summary: activitySummary.execute(jobId, ccs) }, [{ jobId, knownRunIds, ccs }]),
  );
  let started: ExecuteJobResult | null = (await execute.result) ?? (await execute.settled.catch(() => null));
  if (started === null) {
    // Cancelled between attempts (or the attempt failed): CCS may still process a request its client
    // gave up on, so the look waits one CCS request timeout before its second read.
    const ours = await settleCall.findRunOfCancelledExecute.executeWithOptions({ summary: activitySummary.findRun(jobId, ccs) }, [
      { jobId, knownRunIds, ccs },
    ]);
    if (!ours) return endBeforeExecute(job);
    started = { run: ours, adopted: true };
  }
  job.run.start(started.run, started.adopted);
  return known;
}

/** A continuation: the run is known; the search attributes say so again, and the server's maintenance is joined. */
export async function takeOver(job: JobState): Promise<JobRun[]> {
  const run = job.run.current!;
  upsertSearchAttributes([
    { key: SearchAttribute.jobId, value: job.input.jobId },
    { key: SearchAttribute.jobRunId, value: run.jobRunId },
    { key: SearchAttribute.jobStatus, value: run.status },
  ]);
  await joinMaintenance(job);
  return [];
}

/** When the followed run started (epoch ms): now for a run this workflow executed, CCS's start time for an adopted one. */
export function runStartedAt(job: JobState): number {
  const now = Date.now();
  const run = job.run.current;
  if (!job.run.adopted || !run?.startTime) return now;
  const at = Date.parse(run.startTime);
  return Number.isFinite(at) && at <= now ? at : now;
}

/**
 * Runs an activity call in its own scope, raced with a cancel request. `result` is the call's value,
 * or null once a cancel came first (the scope is then cancelled); `settled` is the call itself, for a
 * caller that must learn how it ended after all.
 */
function untilCancelled<T>(job: JobState, call: () => Promise<T>): { result: Promise<T | null>; settled: Promise<T> } {
  const scope = new CancellationScope();
  const settled = scope.run(call);
  settled.catch(() => undefined);
  const result = Promise.race([settled, job.cancel.requested.then(() => null)]).then((value) => {
    if (value === null) scope.cancel();
    return value;
  });
  return { result, settled };
}

/** Cancelled (or past the deadline) before CCS had a run: nothing to abort. */
function endBeforeExecute(job: JobState): never {
  job.phase = 'finished';
  showDetails(job);
  if (job.cancel.native) throw job.cancel.native;
  throw cancelledBeforeExecute(job.input.jobId, job.cancel.info!);
}
