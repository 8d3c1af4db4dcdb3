/** The CLI's side of a schedule's missed-scan watchdog (`ccsScanWatch`): start it, cancel it, ask it. */
import { WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowName } from '../domain/contract';
import { scanWatchStatusQuery, scanWatchWorkflowId, type ScanWatchInput, type ScanWatchStatus } from '../domain/notifications';
import type { Cli } from './connect';

/** How long `schedule list/describe` waits for a watchdog's answer: a query needs a worker up. */
const QUERY_TIMEOUT_MS = 5_000;

/**
 * Starts the watchdog of `scheduleId` on the CLI's task queue, or keeps the one already running
 * (conflict policy use-existing): creating a schedule twice never watches it twice. Throws what
 * `start` throws; safe to retry.
 */
export async function startScanWatch(cli: Cli, scheduleId: string, alertIfNoSuccess: string): Promise<void> {
  const input: ScanWatchInput = { scheduleId, alertIfNoSuccess };
  await cli.client.workflow.start(WorkflowName.ccsScanWatch, {
    taskQueue: cli.taskQueue,
    workflowId: scanWatchWorkflowId(scheduleId),
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // A watchdog lives as long as its schedule (months): pinned like the rest, it would keep its build
    // from ever draining. It follows the deployment's current version instead (docs/versioning.md).
    versioningOverride: 'AUTO_UPGRADE',
  });
}

/** Cancels the watchdog of `scheduleId`; one already gone (or never started) is fine. Safe to retry. */
export async function cancelScanWatch(cli: Cli, scheduleId: string): Promise<void> {
  const handle = cli.client.workflow.getHandle(scanWatchWorkflowId(scheduleId));
  const description = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (description?.status.name === 'RUNNING') await handle.cancel();
}

/**
 * The watchdog's status, or one short text saying why there is none ("not running", "no answer
 * (is a worker up?)"). Never throws for a missing or silent watchdog: list and describe still print.
 */
export async function scanWatchOf(cli: Cli, scheduleId: string): Promise<ScanWatchStatus | string> {
  const handle = cli.client.workflow.getHandle(scanWatchWorkflowId(scheduleId));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return `watchdog ${description.status.name.toLowerCase()}`;
    return await cli.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(scanWatchStatusQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'watchdog not running';
    return 'no answer from the watchdog (is a worker up?)';
  }
}
