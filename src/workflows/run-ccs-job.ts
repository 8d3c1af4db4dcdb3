/**
 * `runCcsJob`: starts one CCS job run (or adopts one), follows it to Completed, Faulted or Aborted,
 * and aborts it when cancelled or past its deadline. Deterministic orchestration only.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  continueAsNew,
  log,
  metricMeter,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { CcsActivities } from '../activities';
import { isTerminalStatus, type JobRun } from '../ccs/types';
import {
  SearchAttribute,
  cancelSignal,
  statusQuery,
  type CancelledInfo,
  type RunCcsJobInput,
  type RunCcsJobPhase,
  type RunCcsJobResult,
  type RunCcsJobStatus,
} from '../contract';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { validateRunCcsJobInput, type ValidRunCcsJobInput } from '../input';

/** Runs recorded before executing; must match the activities' RUN_SNAPSHOT_SIZE (kept here: workflows import no activity code). */
const RUN_SNAPSHOT_SIZE = 10;
const CONFIRM_POLL_MS = 2_000;
const CONFIRM_MAX_POLL_MS = 10_000;

const RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** One CCS call; the heartbeat timeout lets a retry start soon after a worker dies mid-call. */
const CCS_CALL: ActivityOptions = { startToCloseTimeout: '1m', heartbeatTimeout: '10s', retry: RETRY };

const ccsCall = proxyActivities<CcsActivities>(CCS_CALL);

/** Run counts, here so each run counts once: the SDK emits nothing while a history is replayed. */
function runCounters() {
  return {
    started: metricMeter.createCounter('ccs_runs_started', 'runs', 'CCS runs this orchestrator executed'),
    adopted: metricMeter.createCounter('ccs_runs_adopted', 'runs', 'CCS runs followed without executing (a retried execute, or ifRunning: attach)'),
    ended: metricMeter.createCounter('ccs_runs_ended', 'runs', 'CCS runs followed to their end, by final status'),
  };
}

function pollActivities(pollIntervalMs: number, maxPollIntervalMs: number, scheduleToCloseTimeout?: number) {
  return proxyActivities<CcsActivities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '10s',
    ...(scheduleToCloseTimeout === undefined ? {} : { scheduleToCloseTimeout }),
    // Unchanged polls set their own delay (nextRetryDelay); this policy paces other failures.
    retry: { ...RETRY, initialInterval: pollIntervalMs, backoffCoefficient: 1.25, maximumInterval: Math.max(pollIntervalMs, maxPollIntervalMs) },
  });
}

function resultOf(run: JobRun, polls: number, adopted: boolean, cancelled: CancelledInfo | undefined): RunCcsJobResult {
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
  };
}

function invalidInputFailure(err: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.InvalidInput, message: (err as Error).message, nonRetryable: true });
}

export async function runCcsJob(raw: RunCcsJobInput): Promise<RunCcsJobResult> {
  let input: ValidRunCcsJobInput;
  try {
    input = validateRunCcsJobInput(raw);
  } catch (err) {
    throw invalidInputFailure(err);
  }
  const { jobId, resume } = input;
  const server = input.ccs;
  const counters = runCounters();

  let phase: RunCcsJobPhase = resume ? 'running' : 'starting';
  let run: JobRun | undefined;
  let lastChangeAt = resume?.lastChangeAt;
  let polls = resume?.polls ?? 0;
  let adopted = resume?.adopted ?? false;
  let cancel: CancelledInfo | undefined;
  let nativeCancel: CancelledFailure | undefined;
  // A plain promise, not a Trigger: a Trigger made in the root scope rejects on native cancellation.
  let announceCancel: () => void = () => undefined;
  const cancelRequested = new Promise<void>((resolve) => (announceCancel = resolve));

  if (resume) {
    run = {
      jobId,
      jobRunId: resume.jobRunId,
      status: resume.status,
      statusCode: resume.statusCode,
      customStatusText: resume.customStatusText,
      startTime: null,
      endTime: null,
      exception: null,
      summary: null,
      activities: [],
    };
  }

  const requestCancel = (by: CancelledInfo['by'], reason: string | null): void => {
    if (cancel || phase === 'finished') return;
    cancel = { by, reason, at: new Date().toISOString() };
    log.info('cancel requested', { jobId, jobRunId: run?.jobRunId, by, reason });
    announceCancel();
  };

  setHandler(statusQuery, (): RunCcsJobStatus => ({
    phase,
    jobId,
    ...(run ? { jobRunId: run.jobRunId, status: run.status, statusCode: run.statusCode, customStatusText: run.customStatusText } : {}),
    ...(lastChangeAt ? { lastChangeAt } : {}),
    polls,
    ...(cancel ? { cancelReason: cancel.reason } : {}),
  }));
  setHandler(cancelSignal, (arg) => {
    const reason = typeof arg?.reason === 'string' ? arg.reason.slice(0, 500) : null;
    requestCancel('signal', reason);
  });
  CancellationScope.current().cancelRequested.catch((err: unknown) => {
    nativeCancel = err instanceof CancelledFailure ? err : new CancelledFailure('Workflow cancelled');
    requestCancel('cancellation', nativeCancel.message || null);
  });

  const deadlineAt = resume ? resume.deadlineAt : input.timeoutMs === null ? null : Date.now() + input.timeoutMs;
  if (deadlineAt !== null) {
    // Outside the root scope, so a native cancellation does not cancel the deadline timer itself.
    void CancellationScope.nonCancellable(() => sleep(Math.max(1, deadlineAt - Date.now()))).then(() =>
      requestCancel('timeout', `deadline of ${raw.timeout ?? 'the previous run'} passed`),
    );
  }

  /** Records what CCS reported; keeps the status query and search attributes current. */
  const observe = (next: JobRun, observedAt: string): void => {
    const first = run === undefined || run.jobRunId !== next.jobRunId;
    const changed = first || run?.status !== next.status || run?.customStatusText !== next.customStatusText;
    run = next;
    if (!changed) return;
    lastChangeAt = observedAt;
    log.info('CCS run status', { jobId, jobRunId: next.jobRunId, status: next.status, customStatusText: next.customStatusText });
    upsertSearchAttributes([
      ...(first ? [{ key: SearchAttribute.jobRunId, value: next.jobRunId }] : []),
      { key: SearchAttribute.jobStatus, value: next.status },
    ]);
  };

  return await CancellationScope.nonCancellable(async () => {
    if (resume) {
      upsertSearchAttributes([
        { key: SearchAttribute.jobId, value: jobId },
        { key: SearchAttribute.jobRunId, value: resume.jobRunId },
        { key: SearchAttribute.jobStatus, value: resume.status },
      ]);
    } else {
      upsertSearchAttributes([{ key: SearchAttribute.jobId, value: jobId }]);
      // Recorded in history before executing, so a retried execute can recognise the run it started.
      const known = await ccsCall.listJobRuns({ jobId, count: RUN_SNAPSHOT_SIZE, ccs: server });
      const inProgress = known.find((r) => !isTerminalStatus(r.status));
      if (inProgress && input.ifRunning === 'fail') {
        throw ApplicationFailure.create({
          type: ErrorType.JobAlreadyRunning,
          nonRetryable: true,
          message: `CCS job ${jobId} already has run ${inProgress.jobRunId} in status ${inProgress.status}; pass ifRunning: 'attach' to follow it`,
          details: [{ jobRunId: inProgress.jobRunId, status: inProgress.status }],
        });
      }
      if (inProgress) {
        adopted = true;
        counters.adopted.add(1, { ccs: server });
        observe(inProgress, new Date().toISOString());
      } else if (cancel) {
        phase = 'finished';
        if (nativeCancel) throw nativeCancel;
        throw ApplicationFailure.create({
          type: cancel.by === 'timeout' ? ErrorType.JobTimedOut : ErrorType.JobAborted,
          nonRetryable: true,
          message: `cancelled (${cancel.by}) before CCS job ${jobId} was executed; no run was started`,
          details: [{ jobId, cancelled: cancel }],
        });
      } else {
        const started = await ccsCall.executeJob({ jobId, knownRunIds: known.map((r) => r.jobRunId), ccs: server });
        adopted = started.adopted;
        (adopted ? counters.adopted : counters.started).add(1, { ccs: server });
        observe(started.run, new Date().toISOString());
      }
    }
    phase = 'running';

    const poll = pollActivities(input.pollIntervalMs, input.maxPollIntervalMs);
    while (!isTerminalStatus(run?.status) && !cancel) {
      const current = run as JobRun;
      if (workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof runCcsJob>({
          jobId,
          ...(raw.ccs === undefined ? {} : { ccs: server }),
          pollInterval: input.pollIntervalMs,
          maxPollInterval: input.maxPollIntervalMs,
          ifRunning: input.ifRunning,
          abortConfirmTimeout: input.abortConfirmTimeoutMs,
          resume: {
            jobRunId: current.jobRunId,
            adopted,
            polls,
            deadlineAt,
            status: current.status,
            statusCode: current.statusCode,
            customStatusText: current.customStatusText,
            lastChangeAt: lastChangeAt ?? new Date().toISOString(),
          },
        });
      }
      const scope = new CancellationScope();
      const change = scope.run(() =>
        poll.waitForJobRunChange({
          jobId,
          jobRunId: current.jobRunId,
          lastStatus: current.status,
          lastCustomStatusText: current.customStatusText,
          pollIntervalMs: input.pollIntervalMs,
          maxPollIntervalMs: input.maxPollIntervalMs,
          delayFirstPoll: true,
          ccs: server,
        }),
      );
      const outcome = await Promise.race([change, cancelRequested.then(() => null)]);
      if (outcome === null) {
        scope.cancel();
        change.catch(() => undefined);
        break;
      }
      polls += outcome.polls;
      observe(outcome.run, outcome.observedAt);
    }

    let final = run as JobRun;
    if (cancel && !isTerminalStatus(final.status)) {
      phase = 'cancelling';
      final = await abortAndConfirm(final);
    } else if (final.messages === undefined) {
      // Ended before the first poll (e.g. an adopted or instantly faulted run): one read for its messages.
      const last = await pollActivities(input.pollIntervalMs, input.maxPollIntervalMs).waitForJobRunChange({
        jobId,
        jobRunId: final.jobRunId,
        lastStatus: '',
        lastCustomStatusText: null,
        pollIntervalMs: input.pollIntervalMs,
        maxPollIntervalMs: input.maxPollIntervalMs,
        ccs: server,
      });
      polls += last.polls;
      observe(last.run, last.observedAt);
      final = last.run;
    }
    phase = 'finished';
    counters.ended.add(1, { ccs: server, status: final.status });
    return outcomeOf(resultOf(final, polls, adopted, cancel));
  });

  /** Aborts the run (once) and waits, bounded, until CCS reports it ended. */
  async function abortAndConfirm(current: JobRun): Promise<JobRun> {
    const unconfirmed = (cause: unknown): ApplicationFailure =>
      ApplicationFailure.create({
        type: ErrorType.AbortUnconfirmed,
        nonRetryable: true,
        message: `CCS did not confirm the abort of job run ${current.jobRunId} (job ${jobId}); check it in the CCS console and abort it there if it is still running`,
        details: [{ jobId, jobRunId: current.jobRunId, lastStatus: run?.status ?? current.status }],
        cause: cause instanceof Error ? cause : undefined,
      });
    const giveUpAt = Date.now() + input.abortConfirmTimeoutMs;
    let answer;
    try {
      answer = await proxyActivities<CcsActivities>({ ...CCS_CALL, scheduleToCloseTimeout: input.abortConfirmTimeoutMs }).abortJobRun({
        jobId,
        jobRunId: current.jobRunId,
        ccs: server,
      });
    } catch (err) {
      throw unconfirmed(err);
    }
    if (!answer.accepted && answer.run) {
      observe(answer.run, new Date().toISOString());
      return answer.run;
    }
    let latest = current;
    while (!isTerminalStatus(latest.status)) {
      const remaining = giveUpAt - Date.now();
      if (remaining <= 0) throw unconfirmed(undefined);
      try {
        const confirmPoll = Math.min(input.pollIntervalMs, CONFIRM_POLL_MS);
        const next = await pollActivities(confirmPoll, CONFIRM_MAX_POLL_MS, remaining).waitForJobRunChange({
          jobId,
          jobRunId: latest.jobRunId,
          lastStatus: latest.status,
          lastCustomStatusText: latest.customStatusText,
          pollIntervalMs: confirmPoll,
          maxPollIntervalMs: CONFIRM_MAX_POLL_MS,
          ccs: server,
        });
        polls += next.polls;
        observe(next.run, next.observedAt);
        latest = next.run;
      } catch (err) {
        throw unconfirmed(err);
      }
    }
    return latest;
  }

  /** Completes or fails the workflow according to how the run ended and who, if anyone, cancelled it. */
  function outcomeOf(result: RunCcsJobResult): RunCcsJobResult {
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
    // Aborted.
    if (cancel?.by === 'timeout') {
      throw ApplicationFailure.create({ type: ErrorType.JobTimedOut, nonRetryable: true, message: `${where} was aborted: ${cancel.reason}`, details: [result] });
    }
    if (nativeCancel) throw nativeCancel;
    if (cancel?.by === 'signal') return result;
    throw ApplicationFailure.create({ type: ErrorType.JobAborted, nonRetryable: true, message: `${where} was aborted outside this workflow`, details: [result] });
  }
}
