/**
 * `runCcsPipeline`: a scan as stages of CCS jobs. Stages run in order; the jobs of a stage run in
 * parallel as child `runCcsJob` workflows with deterministic ids. A failed job stops the pipeline
 * and cancels its running siblings (aborting their CCS runs) unless its stage continues on failure.
 * A redrive (`{ redriveOf }`) continues an ended attempt of the scan: its completed jobs are carried,
 * the rest run again (pipeline-redrive.ts).
 */
import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  log,
  setHandler,
  startChild,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { cancelSignal, pauseSignal, pipelineStatusQuery, resumeSignal, type RunCcsJobInput } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { stageJobs, type PipelineJobReport, type PipelineReport } from '../domain/pipeline';
import { isRedriveInput, type RunCcsPipelineInput } from '../domain/redrive';
import { jobStartMetadata, pipelineDetails } from '../domain/ui-summary';
import { parseDuration } from '../domain/validation';
import { CancelListener } from './cancellation';
import { Deadline } from './deadline';
import { PauseControl, resumeReason } from './pause-control';
import { recordPipelineEvidence, type Closing } from './pipeline-evidence';
import { failureOf, record } from './pipeline-job-result';
import { PipelineNotices } from './pipeline-notices';
import { firstAttempt } from './pipeline-first-attempt';
import { loadRedrive, startAutoRedrive } from './pipeline-redrive';
import { runCcsJob } from './run-ccs-job';
import { staleCollection } from './stale-data-gate';
import { CurrentDetails } from './ui-details';

const MIN_JOB_TIMEOUT_MS = 1_000;

export async function runCcsPipeline(given: RunCcsPipelineInput): Promise<PipelineReport> {
  // A redrive's definition is the scan's, known once loaded; until then its closing has none to tell.
  const closing: Closing = { definition: isRedriveInput(given) ? { name: '(redrive)', stages: [] } : given, deadline: new Deadline(null) };
  const notices = new PipelineNotices(
    () => closing.report?.name ?? '(invalid)',
    () => closing.definition,
  );
  // The UI's current details: the report, shown again whenever a job, a stage or the pause changes, and at the end.
  const details = new CurrentDetails();
  const showReport = (): void => void (closing.report && details.show(pipelineDetails(closing.report)));
  let report: PipelineReport;
  try {
    report = await runPipeline(given, closing, notices, showReport);
  } catch (err) {
    showReport();
    await startAutoRedrive(closing.definition, closing.report, err);
    await recordPipelineEvidence(closing, err);
    notices.closed(closing.report, err);
    await notices.settled();
    throw err;
  }
  showReport();
  await startAutoRedrive(closing.definition, report, undefined);
  await recordPipelineEvidence(closing, undefined);
  notices.closed(report, undefined);
  await notices.settled();
  return report;
}

async function runPipeline(
  given: RunCcsPipelineInput,
  closing: Closing,
  notices: PipelineNotices,
  showReport: () => void,
): Promise<PipelineReport> {
  const { definition, report, rerun } = isRedriveInput(given) ? await loadRedrive(given) : await firstAttempt(given, closing);
  /** Whether job j of stage i runs in this execution: every job of a first attempt; in a redrive, those not carried. */
  const runs = (i: number, j: number): boolean => rerun?.[i]?.[j] ?? true;
  closing.definition = definition;
  closing.report = report;
  showReport();
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
      showReport();
    },
    onResume: (_was, why) => {
      delete report.paused;
      log.info('pipeline resumed', { pipeline: definition.name, why });
      for (const child of running.values()) quietly(() => child.signal(resumeSignal, { reason: `pipeline resumed: ${why}` }));
      showReport();
    },
    onIgnored: (error) => log.warn('pause signal ignored', { pipeline: definition.name, error }),
  });
  setHandler(pauseSignal, (arg) => pauses.request(arg));
  setHandler(resumeSignal, (arg) => pauses.end(resumeReason(arg)));

  const runJob = async (stageIndex: number, spec: ReturnType<typeof stageJobs>[number], entry: PipelineJobReport): Promise<void> => {
    const { name: _byName, ...settings } = spec;
    // A redrive attaches to a run still going (a cancel whose abort was never confirmed): never a second execute.
    const input: RunCcsJobInput = { ...settings, ...(rerun ? { ifRunning: 'attach' as const } : {}) };
    if (deadline.at !== null) {
      const left = Math.max(MIN_JOB_TIMEOUT_MS, deadline.at - Date.now());
      const own = spec.timeout === undefined ? Infinity : parseDuration('timeout', spec.timeout);
      input.timeout = Math.min(own, left);
    }
    const child = await startChild(runCcsJob, {
      workflowId: entry.workflowId,
      args: [input],
      memo: notices.childMemo(spec.name),
      ...jobStartMetadata({
        jobId: input.jobId,
        ccs: input.ccs ?? 'default',
        ...(spec.name ? { jobName: spec.name } : {}),
        startedBy: { kind: 'pipeline', pipeline: definition.name },
      }),
      // A pipeline that is terminated still has its CCS runs aborted by the children.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    running.set(entry.workflowId, child);
    entry.state = 'running';
    entry.runId = child.firstExecutionRunId;
    showReport();
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
      showReport();
    }
  };

  await CancellationScope.nonCancellable(async () => {
    for (const [i, stage] of definition.stages.entries()) {
      const stageReport = report.stages[i]!;
      await pauses.hold(() => cancelListener.info !== undefined);
      if (!stoppedBy && deadline.at !== null && deadline.at - Date.now() < MIN_JOB_TIMEOUT_MS)
        stoppedBy = `the pipeline timeout (${String(definition.timeout)}) passed`;
      const toRun = stageReport.jobs.filter((_, j) => runs(i, j));
      // A redrive's stage of carried jobs only does not run: it stays as the attempt redriven left it.
      if (toRun.length === 0) continue;
      if (cancelListener.info || stoppedBy) {
        stageReport.state = 'skipped';
        for (const job of toRun) job.state = 'skipped';
        continue;
      }
      if (stage.requireFresh) {
        const { stale, checks } = await staleCollection(definition, i);
        stageReport.freshness = checks;
        if (stale) {
          stageReport.state = 'failed';
          for (const job of toRun) Object.assign(job, { state: 'skipped', error: { type: ErrorType.StaleData, message: stale } });
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
      await Promise.all(specs.flatMap((spec, j) => (runs(i, j) ? [runJob(i, spec, stageReport.jobs[j]!)] : [])));
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
  // A redrive counts what it carried too: a skipped or cancelled job carried as it was leaves the scan unfinished.
  const unfinished = rerun !== undefined && report.stages.some((s) => s.jobs.some((j) => j.state !== 'completed'));
  report.status = failures.length > 0 || unfinished ? 'CompletedWithFailures' : 'Completed';
  return report;
}
