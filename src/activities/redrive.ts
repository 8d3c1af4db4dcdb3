/**
 * Activities of a pipeline redrive (issue #30), over a Temporal client: read what a redrive continues
 * from (the scan's definition and the ended attempt's report, checking that the redrive may run),
 * and start the next attempt of a scan, delayed, for the pipeline's automatic redrive. They act on
 * the orchestrator's own workflows; they never send anything to CCS.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowName } from '../domain/contract';
import type { ReadRedriveSourceInput, RedriveSource, StartAutoRedriveInput } from '../domain/redrive';
import { readRedriveSource } from '../redrive/attempts';

export interface RedriveDeps {
  client: Client;
}

export function createRedriveActivities({ client }: RedriveDeps) {
  return {
    /**
     * The scan's definition and the report of the attempt being redriven. Thrown when the redrive
     * may not run (still running, a later attempt, wrong id, definition no longer valid): the
     * non-retryable `CcsRedriveRefused`, one line. Only reads: safe to retry.
     */
    async readRedriveSource(input: ReadRedriveSourceInput): Promise<RedriveSource> {
      return readRedriveSource(client, input);
    },

    /**
     * Starts the scan's next attempt (`input.workflowId`) on this worker's task queue, Temporal
     * delaying its first task by `startDelayMs`. A retry after a lost answer finds the one already
     * started (same id, any state) and returns `started: false`: one redrive per attempt, never two.
     */
    async startAutoRedrive(input: StartAutoRedriveInput): Promise<{ workflowId: string; started: boolean }> {
      try {
        await client.workflow.start(WorkflowName.runCcsPipeline, {
          taskQueue: Context.current().info.taskQueue,
          workflowId: input.workflowId,
          args: [input.input],
          ...(input.startDelayMs > 0 ? { startDelay: input.startDelayMs } : {}),
          // The id of attempt n is used once: a closed one is not started again either.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowIdConflictPolicy: 'FAIL',
        });
        return { workflowId: input.workflowId, started: true };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: input.workflowId, started: false };
        throw err;
      }
    },
  };
}

export type RedriveActivities = ReturnType<typeof createRedriveActivities>;
