/**
 * `runCcsPipeline`: a scan as stages of CCS jobs. Stages run in order; the jobs of a stage run in
 * parallel as child `runCcsJob` workflows with deterministic ids. A failed job stops the pipeline
 * and cancels its running siblings (aborting their CCS runs) unless its stage continues on failure.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  log,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import {
  cancelSignal,
  childWorkflowId,
  pauseSignal,
  pipelineStatusQuery,
  resumeSignal,
  type RunCcsJobInput,
  type RunCcsJobResult,
} from '../domain/contract';
import { ErrorType } from '../domain/errors';
import {
  namedJobs,
  pipelineProblems,
  stageJobs,
  withResolvedNames,
  type PipelineDefinition,
  type PipelineJobReport,
  type PipelineReport,
} from '../domain/pipeline';
import { parseDuration } from '../domain/validation';
import { CancelListener } from './cancellation';
import { Deadline } from './deadline';
import { PauseControl, resumeReason } from './pause-control';
import { resolveNames } from './job-names';
import { recordPipelineEvidence, type Closing } from './pipeline-evidence';
import { PipelineNotices } from './pipeline-notices';
import { runCcsJob } from './run-ccs-job';
import { staleCollection } from './stale-data-gate';

const MIN_JOB_TIMEOUT_MS = 1_000;

/** What a child's failure says about its run: the error, and the run result when the failure carries it. */
function failureOf(err: unknown): { error: { type: string; message: string }; result?: RunCcsJobResult } {
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

function record(entry: PipelineJobReport, result: RunCcsJobResult): void {
  Object.assign(entry, { status: result.status, jobRunId: result.jobRunId, startTime: result.startTime, endTime: result.endTime });
  if (result.exception) entry.exception = result.exception;
  if (result.messages?.length) entry.messages = result.messages;
}

function invalidPipeline(problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.InvalidInput,
    nonRetryable: true,
    message: `pipeline is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
    details: [{ problems }],
  });
}

export async function runCcsPipeline(given: PipelineDefinition): Promise<PipelineReport> {
  const closing: Closing = { definition: given, deadline: new Deadline(null) };
  const notices = new PipelineNotices(
    () => closing.report?.name ?? '(invalid)',
    () => closing.definition,
  );
  let report: PipelineReport;
  try {
    report = await runPipeline(given, closing, notices);
  } catch (err) {
    await recordPipelineEvidence(closing, err);
    notices.closed(closing.report, err);
    await notices.settled();
    throw err;
  }
  await recordPipelineEvidence(closing, undefined);
  notices.closed(report, undefined);
  await notices.settled();
  return report;
}

async function runPipeline(given: PipelineDefinition, closing: Closing, notices: PipelineNotices): Promise<PipelineReport> {
  const problems = pipelineProblems(given);
  if (problems.length > 0) {
    // Refused before anything started: the record says so, with the report of a pipeline that never ran.
    closing.report = {
      name: typeof given?.name === 'string' ? given.name.slice(0, 200) : '(invalid)',
      status: 'Failed',
      stages: [],
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
    };
    throw invalidPipeline(problems);
  }
  let definition = given;
  const named = namedJobs(given);
  if (named.length > 0) {
    // Once, before any stage: a name that is not exactly one job stops the pipeline before it starts anything.
    const resolved = withResolvedNames(given, await resolveNames(named));
    if (resolved.problems.length > 0) throw invalidPipeline(resolved.problems);
    definition = resolved.definition;
    log.info('pipeline job names resolved', { pipeline: given.name, jobs: named.length });
  }
  const pipelineId = workflowInfo().workflowId;
  const report: PipelineReport = {
    name: definition.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    stages: definition.stages.map((stage, i) => ({
      name: stage.name,
      state: 'pending',
      jobs: stageJobs(definition, stage).map((job) => ({
        jobId: job.jobId,
        ...(job.name ? { name: job.name } : {}),
        workflowId: childWorkflowId(pipelineId, i, job.jobId),
        state: 'pending',
      })),
    })),
  };
  closing.definition = definition;
  closing.report = report;
  const deadline = new Deadline(definition.timeout === undefined ? null : Date.now() + parseDuration('timeout', definition.timeout));
  closing.deadline = deadline;
  const running = new Map<string, ChildWorkflowHandle<typeof runCcsJob>>();
  let stoppedBy: string | undefined;
  /** The error type the pipeline fails with when stopped: a failed job's, or the stale-data gate's. */
  let stoppedType: string = ErrorType.PipelineFailed;

  const signalCancel = (child: ChildWorkflowHandle<typeof runCcsJob>, reason: string): void => {
    // Non-cancellable: this also runs from the handler of the pipeline's own cancellation. A child
    // that finished in the meantime cannot be signalled; its own result tells what happened.
    CancellationScope.nonCancellable(() => child.signal(cancelSignal, { reason })).catch(() => undefined);
  };
  const cancelChildren = (reason: string): void => {
    for (const child of running.values()) signalCancel(child, reason);
  };
  const cancelListener = new CancelListener({
    accepting: () => report.status === 'running',
    onCancel: ({ by, reason }) => {
      log.info('pipeline cancel requested', { pipeline: definition.name, by, reason });
      cancelChildren(`pipeline ${definition.name} cancelled${reason ? `: ${reason}` : ''}`);
    },
    nativeReason: () => null,
  });
  setHandler(pipelineStatusQuery, () => report);
  cancelListener.listen();

  // Pause: no new stage or job starts, and every running job holds (they are told, each with the same pause).
  // A child that just finished cannot be signalled; its own result tells what happened.
  const quietly = (send: () => Promise<void>): void => void CancellationScope.nonCancellable(send).catch(() => undefined);
  const pauseChildren = (): void => {
    const pause = pauses.state;
    if (!pause) return;
    const input = {
      ...(pause.reason === null ? {} : { reason: pause.reason }),
      ...(pause.until === null ? {} : { until: pause.until }),
      holdDeadline: pause.holdDeadline,
      by: pause.by,
    };
    for (const child of running.values()) quietly(() => child.signal(pauseSignal, input));
  };
  const pauses = new PauseControl(deadline, {
    accepting: () => report.status === 'running' && !cancelListener.info,
    onPause: (pause) => {
      report.paused = pause;
      log.info('pipeline paused: no new job starts; running jobs hold', {
        pipeline: definition.name,
        by: pause.by,
        reason: pause.reason,
        until: pause.until,
      });
      pauseChildren();
    },
    onResume: (_was, why) => {
      delete report.paused;
      log.info('pipeline resumed', { pipeline: definition.name, why });
      for (const child of running.values()) quietly(() => child.signal(resumeSignal, { reason: `pipeline resumed: ${why}` }));
    },
    onIgnored: (error) => log.warn('pause signal ignored', { pipeline: definition.name, error }),
  });
  setHandler(pauseSignal, (arg) => pauses.request(arg));
  setHandler(resumeSignal, (arg) => pauses.end(resumeReason(arg)));

  const runJob = async (stageIndex: number, spec: ReturnType<typeof stageJobs>[number], entry: PipelineJobReport): Promise<void> => {
    const { name: _byName, ...settings } = spec;
    const input: RunCcsJobInput = { ...settings };
    if (deadline.at !== null) {
      const left = Math.max(MIN_JOB_TIMEOUT_MS, deadline.at - Date.now());
      const own = spec.timeout === undefined ? Infinity : parseDuration('timeout', spec.timeout);
      input.timeout = Math.min(own, left);
    }
    const child = await startChild(runCcsJob, {
      workflowId: entry.workflowId,
      args: [input],
      memo: notices.childMemo(spec.name),
      // A pipeline that is terminated still has its CCS runs aborted by the children.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    running.set(entry.workflowId, child);
    entry.state = 'running';
    if (cancelListener.info || stoppedBy) signalCancel(child, stoppedBy ?? 'pipeline cancelled');
    else if (pauses.state) pauseChildren();
    try {
      const result = await child.result();
      record(entry, result);
      entry.state = result.status === 'Completed' ? 'completed' : result.cancelled ? 'cancelled' : 'failed';
    } catch (err) {
      const { error, result } = failureOf(err);
      if (result) record(entry, result);
      entry.state = 'failed';
      entry.error = error;
      const stage = definition.stages[stageIndex];
      if (!stage?.continueOnFailure && !stoppedBy && !cancelListener.info) {
        stoppedBy = `stage ${JSON.stringify(stage?.name)} job ${entry.jobId} failed (${error.type})`;
        log.info('pipeline stopping', { pipeline: definition.name, reason: stoppedBy });
        cancelChildren(`${stoppedBy}; the pipeline stops`);
      }
    } finally {
      running.delete(entry.workflowId);
    }
  };

  await CancellationScope.nonCancellable(async () => {
    for (const [i, stage] of definition.stages.entries()) {
      const stageReport = report.stages[i]!;
      await pauses.hold(() => cancelListener.info !== undefined);
      if (!stoppedBy && deadline.at !== null && deadline.at - Date.now() < MIN_JOB_TIMEOUT_MS)
        stoppedBy = `the pipeline timeout (${String(definition.timeout)}) passed`;
      if (cancelListener.info || stoppedBy) {
        stageReport.state = 'skipped';
        for (const job of stageReport.jobs) job.state = 'skipped';
        continue;
      }
      if (stage.requireFresh) {
        const stale = await staleCollection(definition, i);
        if (stale) {
          stageReport.state = 'failed';
          for (const job of stageReport.jobs)
            Object.assign(job, { state: 'skipped', error: { type: ErrorType.StaleData, message: stale } });
          log.warn('stale-data gate closed: the stage does not run', { pipeline: definition.name, stage: stage.name, reason: stale });
          notices.staleData(stage.name, stale);
          if (!stage.continueOnFailure && !stoppedBy) {
            stoppedBy = stale;
            stoppedType = ErrorType.StaleData;
          }
          continue;
        }
      }
      stageReport.state = 'running';
      const specs = stageJobs(definition, stage);
      await Promise.all(specs.map((spec, j) => runJob(i, spec, stageReport.jobs[j]!)));
      const states = stageReport.jobs.map((j) => j.state);
      stageReport.state = states.every((s) => s === 'completed') ? 'completed' : states.includes('failed') ? 'failed' : 'cancelled';
    }
  });

  report.endedAt = new Date().toISOString();
  const failures = report.stages.flatMap((s) => s.jobs).filter((j) => j.state === 'failed');
  if (cancelListener.native) {
    report.status = 'Cancelled';
    throw cancelListener.native;
  }
  if (cancelListener.info) {
    report.status = 'Cancelled';
    return report;
  }
  if (stoppedBy) {
    report.status = 'Failed';
    throw ApplicationFailure.create({
      type: stoppedType,
      nonRetryable: true,
      message: `pipeline ${definition.name} failed: ${stoppedBy}`,
      details: [report],
    });
  }
  report.status = failures.length > 0 ? 'CompletedWithFailures' : 'Completed';
  return report;
}
