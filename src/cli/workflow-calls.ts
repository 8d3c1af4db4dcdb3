/** The Temporal calls several commands share: start-or-attach, and signalling a running workflow. */
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { notFound, type Cli } from './connect';
import { CliError } from './output';
import { printable } from './terminal-text';

/** What the Temporal UI shows of a workflow from its start (src/domain/ui-summary builds them). */
export interface StartMetadata {
  staticSummary: string;
  staticDetails?: string;
}

/** A workflow started, or the running one attached to. */
export interface Started {
  handle: WorkflowHandle;
  workflowId: string;
  /** The run the handle follows, as `start` answered. */
  runId: string;
  /** True when a run of this id was already going and `start` returned it. */
  attached: boolean;
  /** When that run started (attached), or when this start was asked (started now). */
  startTime: Date;
}

/**
 * Starts `workflowType` under `workflowId` with the conflict policy use-existing: one `start`, whose
 * handle names the run. The one `describe()` before it tells "attached" from "started" (the server's
 * answer says which, but SDK 1.24's `start()` does not pass it on); comparing run ids keeps that
 * right when the earlier run ends in between. `metadata` is the summary and details the UI shows
 * (an attached run keeps its own). Throws what `start` throws.
 */
export async function startOrAttach(
  cli: Cli,
  workflowType: string,
  workflowId: string,
  args: unknown[],
  metadata?: StartMetadata,
): Promise<Started> {
  const before = await cli.client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
  const askedAt = new Date();
  const handle = await cli.client.workflow.start(workflowType, {
    taskQueue: cli.taskQueue,
    workflowId,
    args,
    workflowIdConflictPolicy: 'USE_EXISTING',
    ...metadata,
  });
  const runId = handle.firstExecutionRunId;
  const attached = before?.status.name === 'RUNNING' && before.runId === runId;
  return { handle, workflowId, runId, attached, startTime: attached ? before.startTime : askedAt };
}

export interface SignalRunningOptions {
  /** The verb for "nothing to <verb>" when the workflow is not running, e.g. `cancel`. */
  verb: string;
  /** One message for both "no such workflow" and "not running", instead of the two default ones. */
  missing?: () => string;
}

/**
 * Signals a workflow after checking that it is running: describe, RUNNING or a one-line
 * `CliError` (no workflow of that id; or it is COMPLETED, nothing to <verb>), then the signal.
 * Returns the handle and the description (its type tells a job from a pipeline). Not retried:
 * a signal sent twice arrives twice.
 */
export async function signalRunning<Args extends unknown[]>(
  cli: Cli,
  workflowId: string,
  signal: SignalDefinition<Args>,
  args: Args,
  o: SignalRunningOptions,
): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
  const handle = cli.client.workflow.getHandle(workflowId);
  const description = o.missing
    ? await handle.describe().catch(() => undefined)
    : await handle.describe().catch(notFound(workflowId, cli.namespace));
  if (description?.status.name !== 'RUNNING') {
    throw new CliError(
      o.missing ? o.missing() : `workflow ${printable(workflowId)} is ${description?.status.name ?? 'gone'}, nothing to ${o.verb}`,
    );
  }
  await handle.signal(signal, ...args);
  return { handle, description };
}
