/**
 * Following a run: waits for it to change until it ends or a cancel is requested, holding while
 * paused, and handing over to a continuation (continue-as-new) when the history grows. Workflow
 * code: deterministic, no I/O.
 */
import { CancellationScope, makeContinueAsNewFunc, workflowInfo } from '@temporalio/workflow';
import type { WaitForJobRunChangeInput } from '../domain/activities';
import type { RunCcsJobInput, RunCcsJobResult } from '../domain/contract';
import { hasEnded, type JobRun } from '../domain/job-run';
import { waitActivities } from './activity-options';
import { activitySummary } from '../domain/ui-summary';
import { holdWhilePaused, type JobState } from './job-state';

/** What a wait's race reports when a pause was requested. */
const PAUSED: unique symbol = Symbol('paused');

/** Intervals of a wait: the input's, or the shorter ones of an abort's confirmation. */
export interface PollPace {
  pollIntervalMs: number;
  maxPollIntervalMs: number;
}

/** A wait's input for `run`: `seen` asks for any change from the status last seen; otherwise the first read returns. */
export function waitInput(job: JobState, run: JobRun, pace: PollPace, seen: boolean): WaitForJobRunChangeInput {
  return {
    jobId: job.input.jobId,
    jobRunId: run.jobRunId,
    lastStatus: seen ? run.status : '',
    lastCustomStatusText: seen ? run.customStatusText : null,
    pollIntervalMs: pace.pollIntervalMs,
    maxPollIntervalMs: pace.maxPollIntervalMs,
    ccs: job.input.ccs,
    ...job.run.watch(),
  };
}

/**
 * Waits until the run ends or a cancel is requested; continues as new when the server suggests it.
 * On a cancel, returns how to stop the wait still in flight: the abort is scheduled first, then the
 * wait cancelled, in that order in history. A pause cancels the wait and waits until it has stopped:
 * from then on nothing reaches CCS.
 */
export async function followUntilEndOrCancel(job: JobState): Promise<(() => void) | undefined> {
  const { input } = job;
  const waits = waitActivities(input.pollIntervalMs, input.maxPollIntervalMs, input.heartbeatTimeoutMs);
  const pollsAtStart = job.run.polls;
  while (!hasEnded(job.run.current) && !job.cancel.info) {
    if (job.pause.state) {
      await holdWhilePaused(job);
      continue;
    }
    const current = job.run.current!;
    // An execution reads the run at least once before it continues as new: a continuation that starts
    // over the server's suggestion would otherwise hand over again at once, forever.
    if (workflowInfo().continueAsNewSuggested && job.run.polls > pollsAtStart) await handOver(job, current);
    const scope = new CancellationScope();
    const live = job.run.messages.watch(job.run.polls);
    const change = scope.run(() =>
      waits.waitForJobRunChange.executeWithOptions({ summary: activitySummary.wait(current.jobRunId, input.ccs, input.pollIntervalMs) }, [
        { ...waitInput(job, current, input, true), delayFirstPoll: true, ...(live ? { live } : {}) },
      ]),
    );
    const outcome = await Promise.race([
      change,
      job.cancel.requested.then(() => null),
      job.pause.requested.then((): typeof PAUSED => PAUSED),
    ]);
    if (outcome === null) {
      change.catch(() => undefined);
      return () => scope.cancel();
    }
    if (outcome === PAUSED) {
      scope.cancel();
      const last = await change.catch(() => undefined);
      if (last) job.run.record(last);
      continue;
    }
    job.run.record(outcome);
  }
  return undefined;
}

/** Reads an ended run once more, with its messages (it ended before its first wait), repeated while it needs attention. */
export async function readFinal(job: JobState, run: JobRun): Promise<JobRun> {
  const { input } = job;
  const waits = waitActivities(input.pollIntervalMs, input.maxPollIntervalMs, input.heartbeatTimeoutMs);
  for (;;) {
    const outcome = job.run.record(
      await waits.waitForJobRunChange.executeWithOptions({ summary: activitySummary.read(run.jobRunId, input.ccs) }, [
        waitInput(job, run, input, false),
      ]),
    );
    if (outcome.run) return outcome.run;
  }
}

/** Continues as new with the same input as given and the state this execution hands over, the followed run itself among it. */
function handOver(job: JobState, current: JobRun): Promise<never> {
  const { input, raw } = job;
  const paused = job.pause.state;
  // The memo (what a pipeline told its run: its name, the job's, the schedule) goes on, so later events still name them.
  const { memo } = workflowInfo();
  return makeContinueAsNewFunc<(given: RunCcsJobInput) => Promise<RunCcsJobResult>>(memo ? { memo } : {})({
    jobId: input.jobId,
    ...(raw.ccs === undefined ? {} : { ccs: input.ccs }),
    pollInterval: input.pollIntervalMs,
    maxPollInterval: input.maxPollIntervalMs,
    ifRunning: input.ifRunning,
    abortConfirmTimeout: input.abortConfirmTimeoutMs,
    ...(raw.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: input.heartbeatTimeoutMs }),
    resume: { ...job.run.handover(current), deadlineAt: job.deadline.at, ...job.alert.handover(), ...(paused ? { paused } : {}) },
    ...(raw.liveMessagesEvery === undefined ? {} : { liveMessagesEvery: raw.liveMessagesEvery }),
    ...(raw.unknownStatusAttentionAfter === undefined ? {} : { unknownStatusAttentionAfter: raw.unknownStatusAttentionAfter }),
    ...(raw.requestedBy === undefined ? {} : { requestedBy: raw.requestedBy }),
    ...(raw.expectedDuration === undefined ? {} : { expectedDuration: raw.expectedDuration }),
    ...(raw.expectedDurationFactor === undefined ? {} : { expectedDurationFactor: raw.expectedDurationFactor }),
  });
}
