/**
 * `runCcsJob`: starts one CCS job run (or adopts one), follows it to Completed, Faulted or Aborted,
 * and aborts it when cancelled or past its deadline. Deterministic orchestration only: every CCS
 * call is an activity, imported as a type. The steps live beside it: start-or-adopt, follow, abort,
 * and the state they share (job-state); pause, deadline, duration alert, live messages and the
 * closing evidence record are modules of their own.
 */
import { setHandler, workflowInfo } from '@temporalio/workflow';
import { pauseSignal, resumeSignal, statusQuery, type RunCcsJobInput, type RunCcsJobResult } from '../domain/contract';
import { invalidInputFailure } from '../domain/failures';
import { hasEnded } from '../domain/job-run';
import { validateRunCcsJobInput, type ValidRunCcsJobInput } from '../domain/job-workflow';
import { invalidInput } from '../domain/validation';
import { abortAndConfirm } from './abort';
import { followUntilEndOrCancel, readFinal } from './follow';
import { closeWithEvidence, recordRefusedInput } from './job-evidence';
import { newJobState, showDetails, statusOf, type JobState } from './job-state';
import { outcomeOf, resultOf } from './job-outcome';
import { resumeReason } from './pause-control';
import { runStartedAt, startOrAdopt, takeOver } from './start-or-adopt';

/**
 * Runs one CCS job: the result when its run Completed (or was aborted by our own `cancel` signal);
 * otherwise fails with `CcsInvalidInput`, `CcsJobAlreadyRunning`, `CcsJobFaulted`, `CcsJobTimedOut`,
 * `CcsJobAborted`, `CcsJobEndedUnexpectedly` or `CcsAbortUnconfirmed` (docs/errors.md), or the native
 * cancellation that asked for the abort.
 */
export async function runCcsJob(raw: RunCcsJobInput): Promise<RunCcsJobResult> {
  const input = await checkedInput(raw);
  const job = newJobState(input, raw);
  setHandler(statusQuery, (arg) => statusOf(job, arg?.messagesSince));
  setHandler(pauseSignal, (arg) => job.pause.request(arg));
  setHandler(resumeSignal, (arg) => job.pause.end(resumeReason(arg)));
  job.cancel.listen();
  showDetails(job);
  job.deadline.arm(
    () => job.pause.holdsDeadline(),
    () => job.cancel.request('timeout', `deadline of ${raw.timeout ?? 'the previous run'} passed`),
  );
  return closeWithEvidence(job, () => run(job));
}

/** The input, validated; a refused input is recorded (nothing was sent to CCS) and fails the workflow. */
async function checkedInput(raw: RunCcsJobInput): Promise<ValidRunCcsJobInput> {
  try {
    const input = validateRunCcsJobInput(raw);
    // `resume` is the state a run hands to its own continuation: from anyone else it would make this
    // workflow follow (and on cancel, abort) a CCS run it never started.
    if (input.resume && !workflowInfo().continuedFromExecutionRunId) {
      throw invalidInput('resume is internal to continue-as-new and must not be set by callers; remove it');
    }
    return input;
  } catch (err) {
    const failure = invalidInputFailure(err);
    await recordRefusedInput(raw, failure);
    throw failure;
  }
}

/** One execution: start or adopt the run (or take over the one handed over), follow it to its end or a cancel, end. */
async function run(job: JobState): Promise<RunCcsJobResult> {
  const history = job.input.resume ? await takeOver(job) : await startOrAdopt(job);
  job.phase = 'running';
  showDetails(job);
  job.alert.arm(job.run.current!, history, runStartedAt(job), {
    going: () => job.phase !== 'finished' && !hasEnded(job.run.current),
    context: () => job.run.context(),
    countLate: () => job.run.countLate(),
    announceLate: (late) => {
      job.notices.late(late);
      showDetails(job);
    },
  });
  const stopWaiting = await followUntilEndOrCancel(job);
  let final = job.run.current!;
  if (job.cancel.info && !hasEnded(final)) {
    job.phase = 'cancelling';
    showDetails(job);
    final = await abortAndConfirm(job, final, stopWaiting);
  } else if (final.messages === undefined) {
    // Ended before its first wait (an adopted or instantly faulted run): one read for its messages.
    final = await readFinal(job, final);
  }
  job.phase = 'finished';
  showDetails(job);
  job.run.countEnd(final);
  const result = resultOf(final, job.run.polls, job.run.adopted, job.cancel.info);
  const late = job.alert.lateInfo;
  if (late) result.late = late;
  return outcomeOf(result, job.cancel.info, job.cancel.native);
}
