/**
 * The state of one `runCcsJob` execution, in small parts: the run it follows, the cancel, the
 * deadline, the pause and the duration alert. The workflow function builds it and registers the
 * handlers that read it; the steps (start, follow, abort) change it. Workflow code: deterministic, no I/O.
 */
import { log, upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute, type RunCcsJobInput, type RunCcsJobPhase, type RunCcsJobStatus } from '../domain/contract';
import type { JobRun } from '../domain/job-run';
import type { ValidRunCcsJobInput } from '../domain/job-workflow';
import { maintenanceLookup } from './activity-options';
import { CancelListener } from './cancellation';
import { Deadline } from './deadline';
import { DurationAlert } from './duration-alert';
import { FollowedRun } from './followed-run';
import { JobNotices } from './job-notices';
import { PauseControl } from './pause-control';
import { CurrentDetails, jobDetailsText } from './ui-details';

export interface JobState {
  readonly input: ValidRunCcsJobInput;
  /** The input as given: a continuation passes on only the fields its caller set. */
  readonly raw: RunCcsJobInput;
  phase: RunCcsJobPhase;
  readonly run: FollowedRun;
  readonly cancel: CancelListener;
  readonly deadline: Deadline;
  readonly pause: PauseControl;
  readonly alert: DurationAlert;
  /** The events this execution announces (job-notices). */
  readonly notices: JobNotices;
  /** What the Temporal UI shows as the run's current details (ui-details). */
  readonly details: CurrentDetails;
}

/** A new execution's state; a continuation's starts from what its predecessor handed over (`input.resume`). */
export function newJobState(input: ValidRunCcsJobInput, raw: RunCcsJobInput): JobState {
  const { resume, jobId } = input;
  const notices: JobNotices = new JobNotices(input, raw, (): JobRun | undefined => run.current);
  const run: FollowedRun = new FollowedRun(input, resume, notices, () => showDetails(job));
  const deadline = new Deadline(resume ? resume.deadlineAt : input.timeoutMs === null ? null : Date.now() + input.timeoutMs);
  const job: JobState = {
    input,
    raw,
    phase: resume ? 'running' : 'starting',
    run,
    deadline,
    cancel: new CancelListener({
      accepting: () => job.phase !== 'finished',
      onCancel: ({ by, reason }) => log.info('cancel requested', { jobId, jobRunId: run.current?.jobRunId, by, reason }),
    }),
    pause: new PauseControl(
      deadline,
      {
        accepting: () => job.phase !== 'finished' && !job.cancel.info,
        onPause: (p, was) => {
          log.info(was ? 'pause updated' : 'pause requested: no CCS request until resumed', {
            jobId,
            jobRunId: run.current?.jobRunId,
            by: p.by,
            reason: p.reason,
            until: p.until,
          });
          showDetails(job);
        },
        onResume: (was, why) => {
          log.info('resumed', { jobId, jobRunId: run.current?.jobRunId, why, pausedMs: Date.now() - Date.parse(was.since) });
          showDetails(job);
        },
        onIgnored: (error) => log.warn('pause signal ignored', { jobId, error }),
      },
      resume?.paused,
    ),
    alert: new DurationAlert(input.expected, resume),
    notices,
    details: new CurrentDetails(),
  };
  return job;
}

/** Messages are not part of the details: asking for those after the newest gives none. */
const NO_MESSAGES = Number.MAX_SAFE_INTEGER;

/**
 * Shows the job's state as its current details in the Temporal UI: called where that state changes
 * (a status, attention, late, pause, resume, the phase, the end), set only when the text changed.
 */
export function showDetails(job: JobState): void {
  job.details.show(jobDetailsText(statusOf(job, NO_MESSAGES), job.input.pollIntervalMs));
}

/** What the `status` query answers; with `messagesSince`, only the messages after that number. */
export function statusOf(job: JobState, messagesSince: unknown): RunCcsJobStatus {
  const { current, lastChangeAt, polls, attention, messages } = job.run;
  const cancel = job.cancel.info;
  const paused = job.pause.state;
  return {
    phase: job.phase,
    jobId: job.input.jobId,
    ...(current
      ? { jobRunId: current.jobRunId, status: current.status, statusCode: current.statusCode, customStatusText: current.customStatusText }
      : {}),
    ...(lastChangeAt ? { lastChangeAt } : {}),
    polls,
    ...(cancel ? { cancelReason: cancel.reason } : {}),
    ...(attention ? { attention } : {}),
    ...job.alert.view(),
    ...(paused ? { paused } : {}),
    ...messages.view(typeof messagesSince === 'number' ? messagesSince : 0),
  };
}

/**
 * Holds while a pause is in effect (phase `paused`): returns once resumed (or `until` passed), or at
 * once on a cancel. A pause by maintenance also ends when its window is found closed.
 */
export async function holdWhilePaused(job: JobState): Promise<void> {
  if (!job.pause.state || job.cancel.info) return;
  const previous = job.phase;
  job.phase = 'paused';
  showDetails(job);
  await job.pause.hold(
    () => job.cancel.info !== undefined,
    async () => (await maintenanceLookup.maintenanceWindowOf({ ccs: job.input.ccs })) === null,
  );
  job.phase = previous;
  showDetails(job);
}

/** Names the run's server (`CcsServer`), and pauses first when the server's maintenance window is open. */
export async function joinMaintenance(job: JobState): Promise<void> {
  const { ccs } = job.input;
  upsertSearchAttributes([{ key: SearchAttribute.server, value: ccs }]);
  if (job.pause.state) return;
  const window = await maintenanceLookup.maintenanceWindowOf({ ccs });
  if (window)
    job.pause.request({
      by: 'maintenance',
      ...(window.reason === null ? {} : { reason: window.reason }),
      ...(window.until === null ? {} : { until: window.until }),
    });
}
