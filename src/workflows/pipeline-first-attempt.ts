/**
 * A pipeline's first attempt before anything runs: its definition checked (every problem at once) and
 * its job names resolved, and the report every job starts from. Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure, log, workflowInfo } from '@temporalio/workflow';
import { childWorkflowId } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { namedJobs, pipelineProblems, stageJobs, withResolvedNames, type PipelineDefinition } from '../domain/pipeline';
import { resolveNames } from './job-names';
import type { LoadedRedrive } from './pipeline-redrive';
import type { Closing } from './pipeline-evidence';

function invalidPipeline(problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.InvalidInput,
    nonRetryable: true,
    message: `pipeline is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
    details: [{ problems }],
  });
}

/** A first attempt's definition, checked and its job names resolved, and its report before anything runs. */
export async function firstAttempt(
  given: PipelineDefinition,
  closing: Closing,
): Promise<Omit<LoadedRedrive, 'rerun'> & { rerun?: undefined }> {
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
  return {
    definition,
    report: {
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
    },
  };
}
