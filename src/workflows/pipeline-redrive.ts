/**
 * A pipeline redrive's part of `runCcsPipeline`: load the attempt it continues (through the worker),
 * check it may run, plan what is carried and what runs again, and build the report it starts from;
 * and, when an attempt ends with failed jobs, the automatic redrive it starts. Workflow code.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, log, workflowInfo } from '@temporalio/workflow';
import { childWorkflowId } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { pipelineProblems, stageJobs, type PipelineDefinition, type PipelineReport } from '../domain/pipeline';
import {
  attemptOf,
  planRedrive,
  redriveInputProblems,
  redriveWorkflowId,
  scanRootId,
  type PipelineRedriveInput,
  type RedriveInfo,
  type RedrivePlan,
} from '../domain/redrive';
import { parseDuration } from '../domain/validation';
import { redriveCall } from './activity-options';

/** What a redrive runs: the scan's definition, the report it starts from (carried jobs filled in), and which jobs run. */
export interface LoadedRedrive {
  definition: PipelineDefinition;
  report: PipelineReport;
  /** Per stage, per job: true when the job runs again (its entry is pending), false when it was carried. */
  rerun: boolean[][];
}

/** A redrive that may not run: one line, before anything started. */
function refused(message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.RedriveRefused, nonRetryable: true, message, ...(cause ? { cause } : {}) });
}

/**
 * Loads and checks a redrive: its input, the attempt it continues (activity `readRedriveSource`, which
 * refuses a running attempt or a later one), its own id, the definition as it validates today, and the
 * plan. Every refusal fails `CcsRedriveRefused` (a malformed input `CcsInvalidInput`) before any job starts.
 */
export async function loadRedrive(input: PipelineRedriveInput): Promise<LoadedRedrive> {
  const problems = redriveInputProblems(input);
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: `redrive input is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
      details: [{ problems }],
    });
  const workflowId = workflowInfo().workflowId;
  let source;
  try {
    source = await redriveCall.readRedriveSource({ redriveOf: input.redriveOf, workflowId });
  } catch (err) {
    // The activity's own line is the workflow's, without the activity wrapper around it.
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure)
      throw ApplicationFailure.create({
        type: cause.type === ErrorType.InvalidInput ? ErrorType.InvalidInput : ErrorType.RedriveRefused,
        nonRetryable: true,
        message: cause.message,
        cause,
      });
    throw err;
  }
  // Checked here too: a client other than the CLI may start a redrive under any id.
  const expected = redriveWorkflowId(source.rootWorkflowId, source.attempt + 1);
  if (workflowId !== expected)
    throw refused(`redrive of ${source.of.workflowId} must run as ${expected} (the scan's next attempt), not ${workflowId}`);
  const invalid = pipelineProblems(source.definition);
  if (invalid.length > 0) throw refused(`the definition of ${source.rootWorkflowId} no longer validates: ${invalid.join('; ')}`);
  const planned = planRedrive(source, { onlyFailed: input.onlyFailed, fromStage: input.fromStage });
  if ('refusal' in planned) throw refused(planned.refusal);
  const info: RedriveInfo = {
    of: source.of,
    rootWorkflowId: source.rootWorkflowId,
    attempt: source.attempt + 1,
    mode: planned.plan.mode,
    ...(planned.plan.fromStage === undefined ? {} : { fromStage: planned.plan.fromStage }),
    ...(input.automatic ? { automatic: true } : {}),
  };
  const definition: PipelineDefinition = {
    ...source.definition,
    ...(input.requestedBy === undefined ? {} : { requestedBy: input.requestedBy }),
  };
  log.info('pipeline redrive planned', {
    pipeline: definition.name,
    of: source.of.workflowId,
    attempt: info.attempt,
    mode: info.mode,
    rerun: planned.plan.stages.flatMap((s) => s.jobs).filter((j) => j.carry === null).length,
  });
  return { definition, report: startingReport(definition, planned.plan, info, workflowId), rerun: rerunOf(planned.plan) };
}

function rerunOf(plan: RedrivePlan): boolean[][] {
  return plan.stages.map((s) => s.jobs.map((j) => j.carry === null));
}

/** The redrive's report as it starts: carried entries as they were (with where from), the rest pending under this execution's ids. */
function startingReport(definition: PipelineDefinition, plan: RedrivePlan, redrive: RedriveInfo, workflowId: string): PipelineReport {
  return {
    name: definition.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    redrive,
    stages: definition.stages.map((stage, i) => {
      const planned = plan.stages[i]!;
      const runs = planned.jobs.some((j) => j.carry === null);
      return {
        name: stage.name,
        // A stage nothing of which runs again stays as the attempt redriven left it.
        state: runs ? 'pending' : (planned.source?.state ?? 'completed'),
        ...(!runs && planned.source?.freshness ? { freshness: planned.source.freshness } : {}),
        jobs: stageJobs(definition, stage).map((job, j) => {
          const carried = planned.jobs[j]?.carry;
          if (carried) return carried;
          return {
            jobId: job.jobId,
            ...(job.name ? { name: job.name } : {}),
            workflowId: childWorkflowId(workflowId, i, job.jobId),
            state: 'pending' as const,
          };
        }),
      };
    }),
  };
}

/**
 * The automatic redrive (`redrive: { after, max }`): when this attempt ended with failed jobs (Failed
 * by a job, or CompletedWithFailures with a failed job) and the scan has had fewer than `max` redrives,
 * start the next attempt, delayed by `after`. Never after a cancel, a refused input or a stale-data
 * gate. The attempt's outcome is already decided: a start that cannot be made is logged, not thrown.
 */
export async function startAutoRedrive(
  definition: PipelineDefinition | undefined,
  report: PipelineReport | undefined,
  err: unknown,
): Promise<void> {
  const auto = definition?.redrive;
  if (!auto || !report) return;
  const failedType = err instanceof ApplicationFailure ? err.type : err === undefined ? undefined : 'other';
  const failedJobs = report.stages.some((s) => s.jobs.some((j) => j.state === 'failed'));
  const eligible =
    (report.status === 'Failed' && failedType === ErrorType.PipelineFailed) ||
    (report.status === 'CompletedWithFailures' && err === undefined);
  if (!eligible || !failedJobs) return;
  const { workflowId, runId } = workflowInfo();
  const attempt = attemptOf(workflowId);
  const max = auto.max ?? 1;
  if (attempt >= max) {
    log.info('automatic redrive not started: the scan had its redrives', { pipeline: report.name, attempt, max });
    return;
  }
  const next = redriveWorkflowId(scanRootId(workflowId), attempt + 1);
  try {
    const started = await CancellationScope.nonCancellable(() =>
      redriveCall.startAutoRedrive({
        workflowId: next,
        input: { redriveOf: { workflowId, runId }, automatic: true },
        startDelayMs: parseDuration('redrive.after', auto.after),
      }),
    );
    log.info('automatic redrive scheduled', { pipeline: report.name, redrive: next, after: auto.after, started: started.started });
  } catch (failure) {
    log.warn('automatic redrive could not be started', { pipeline: report.name, redrive: next, error: (failure as Error).message });
  }
}
