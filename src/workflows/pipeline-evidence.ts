/**
 * The pipeline's closing evidence record: what it is built from, filled in as the pipeline goes, and
 * the write, retried until done whatever cancelled the pipeline.
 */
import { ApplicationFailure, CancellationScope, CancelledFailure, workflowInfo } from '@temporalio/workflow';
import { pipelineEvidence, redriveEvidence } from '../domain/evidence';
import type { PipelineDefinition, PipelineReport } from '../domain/pipeline';
import { evidenceCall, startedBy } from './activity-options';
import type { Deadline } from './deadline';

/** What the pipeline's evidence record is built from, filled in as the pipeline goes. */
export interface Closing {
  definition: PipelineDefinition;
  report?: PipelineReport;
  deadline: Deadline;
}

/** The pipeline's evidence record, retried until written; only a pipeline that got as far as its report has one. */
export async function recordPipelineEvidence(closing: Closing, err: unknown): Promise<void> {
  if (!closing.report) return;
  const info = workflowInfo();
  const failure = err instanceof ApplicationFailure ? err : undefined;
  await CancellationScope.nonCancellable(() =>
    evidenceCall.recordEvidence(
      pipelineEvidence({
        workflowId: info.workflowId,
        runId: info.runId,
        startedBy: startedBy((closing.definition as Partial<PipelineDefinition> | null)?.requestedBy),
        definition: closing.definition,
        report: closing.report!,
        error:
          err === undefined
            ? null
            : {
                type: failure?.type ?? (err instanceof CancelledFailure ? 'Cancelled' : err instanceof Error ? err.name : 'Error'),
                message: err instanceof Error ? err.message : 'unknown failure',
              },
        deadlineAt: closing.deadline.at,
        redrive: redriveEvidence(closing.report!),
      }),
    ),
  );
}
