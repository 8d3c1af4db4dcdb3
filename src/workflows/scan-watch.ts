/**
 * `ccsScanWatch`: the missed-scan watchdog of one schedule (workflow id `ccs-scan-watch/<schedule>`,
 * started by `ccs-jobs schedule create --alert-if-no-success 26h`). Each window ends `alertIfNoSuccess`
 * after the last success (or after the previous window): a window that ends without a Completed run
 * raises `scan.missed` once, the next window starts at once, and the first success after a miss raises
 * `scan.recovered`. Windows that all ended while no worker ran are told in one event (their count in
 * `missedWindows`). The deadline is a Temporal timer, so a miss is raised even when no worker was up
 * at the deadline: as soon as one is back. Ends only when cancelled (the schedule is deleted).
 * Workflow code: deterministic, no I/O.
 */
import { ApplicationFailure, condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { WorkflowName } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import {
  NotificationEventType,
  scanSucceededSignal,
  scanWatchStatusQuery,
  scanWatchWorkflowId,
  type NotificationEvent,
  type ScanSucceededInput,
  type ScanWatchInput,
  type ScanWatchStatus,
} from '../domain/notifications';
import { parseDuration } from '../domain/validation';
import type { NotificationActivities } from './activity-options';

/** The shortest window the workflow takes; the CLI and pipeline files ask for at least a minute. */
export const MIN_WATCH_WINDOW_MS = 1_000;
/** Windows (ended by a success or a miss) per execution before continue-as-new: a schedule every five minutes stays bounded. */
export const WINDOWS_PER_RUN = 100;
/** History events past which the watchdog continues as new even if the server has not suggested it. */
const MAX_HISTORY_EVENTS = 2_000;

// Not `announce()` (./notify): that one gives up after ANNOUNCE_TIMEOUT_MS so a run closes on time.
// The watchdog holds nothing open, and a missed scan must never go unsaid: retried until queued, under
// an id fixed by the schedule and the deadline.
const { announceNotification } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** The watchdog's state, carried across continue-as-new. */
class Watch {
  readonly scheduleId: string;
  readonly window: string;
  readonly windowMs: number;
  lastSuccessAt: number | undefined;
  missedSince: number | undefined;
  windowStart: number;
  missedWindows: number;
  /** Set by a success signal newer than the last one; cleared when the loop has taken it. */
  fresh: ScanSucceededInput | undefined;

  constructor(input: ScanWatchInput) {
    if (typeof input?.scheduleId !== 'string' || input.scheduleId === '')
      throw ApplicationFailure.create({ type: ErrorType.InvalidInput, nonRetryable: true, message: 'scheduleId: required' });
    this.scheduleId = input.scheduleId;
    this.window = input.alertIfNoSuccess;
    try {
      this.windowMs = parseDuration('alertIfNoSuccess', input.alertIfNoSuccess);
    } catch (err) {
      throw ApplicationFailure.create({
        type: ErrorType.InvalidInput,
        nonRetryable: true,
        message: (err as Error).message,
        cause: err as Error,
      });
    }
    if (this.windowMs < MIN_WATCH_WINDOW_MS)
      throw ApplicationFailure.create({ type: ErrorType.InvalidInput, nonRetryable: true, message: 'alertIfNoSuccess: at least 1s' });
    this.lastSuccessAt = isoMs(input.lastSuccessAt);
    this.missedSince = isoMs(input.missedSince);
    // The first window starts when the watchdog was started, not when a worker first ran it.
    this.windowStart = isoMs(input.windowStart) ?? workflowInfo().startTime.getTime();
    this.missedWindows = input.missedWindows ?? 0;
  }

  get deadline(): number {
    return this.windowStart + this.windowMs;
  }

  /** A success counts when it is newer than the last one; an older or malformed one changes nothing. */
  succeeded(signal: ScanSucceededInput): void {
    const at = isoMs(signal?.at);
    if (at === undefined || (this.lastSuccessAt !== undefined && at <= this.lastSuccessAt)) return;
    this.lastSuccessAt = at;
    // A run's end time is the server's clock; a window never starts in the workflow's future.
    this.windowStart = Math.min(at, Date.now());
    this.fresh = signal;
  }

  status(): ScanWatchStatus {
    return {
      scheduleId: this.scheduleId,
      window: this.window,
      lastSuccessAt: iso(this.lastSuccessAt),
      missedSince: iso(this.missedSince),
      missedWindows: this.missedWindows,
      deadline: new Date(this.deadline).toISOString(),
    };
  }

  carry(): ScanWatchInput {
    return {
      scheduleId: this.scheduleId,
      alertIfNoSuccess: this.window,
      windowStart: new Date(this.windowStart).toISOString(),
      missedWindows: this.missedWindows,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: new Date(this.lastSuccessAt).toISOString() }),
      ...(this.missedSince === undefined ? {} : { missedSince: new Date(this.missedSince).toISOString() }),
    };
  }
}

function isoMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** The event of a miss or a recovery; its id is fixed by the schedule and the moment, so a replay or retry repeats it. */
function scanEvent(watch: Watch, kind: 'missed' | 'recovered', atMs: number, run?: ScanSucceededInput): NotificationEvent {
  const info = workflowInfo();
  const window = watch.window;
  const missed = kind === 'missed';
  return {
    id: `${scanWatchWorkflowId(watch.scheduleId)}/${kind}/${atMs}`,
    type: missed ? NotificationEventType.ScanMissed : NotificationEventType.ScanRecovered,
    time: new Date().toISOString(),
    summary: missed
      ? `No successful scan of schedule ${watch.scheduleId} within ${window} (${watch.missedWindows} window${watch.missedWindows === 1 ? '' : 's'} missed)`
      : `Schedule ${watch.scheduleId} succeeded again after ${watch.missedWindows} missed window${watch.missedWindows === 1 ? '' : 's'}`,
    severity: missed ? 'critical' : 'info',
    incident: { action: missed ? 'trigger' : 'resolve', key: `scan/${watch.scheduleId}` },
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: WorkflowName.ccsScanWatch,
    schedule: watch.scheduleId,
    details: {
      window,
      lastSuccessAt: iso(watch.lastSuccessAt),
      missedSince: iso(watch.missedSince),
      missedWindows: watch.missedWindows,
      ...(run ? { succeededWorkflowId: run.workflowId, succeededRunId: run.runId } : {}),
    },
  };
}

/**
 * Watches one schedule until cancelled. Throws `CcsInvalidInput` (non-retryable) for a missing
 * schedule id or a window that is not a duration of at least 1 s.
 */
export async function ccsScanWatch(input: ScanWatchInput): Promise<void> {
  const watch = new Watch(input);
  setHandler(scanSucceededSignal, (signal) => watch.succeeded(signal));
  setHandler(scanWatchStatusQuery, () => watch.status());

  for (let windows = 0; ; windows++) {
    // Never with a success not yet taken: its recovery would be lost with this execution.
    const long = windows >= WINDOWS_PER_RUN || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
    if (long && watch.fresh === undefined) await continueAsNew<typeof ccsScanWatch>(watch.carry());
    const deadline = watch.deadline;
    const succeeded = await condition(() => watch.fresh !== undefined, Math.max(1, deadline - Date.now()));
    if (succeeded) {
      const run = watch.fresh!;
      watch.fresh = undefined;
      if (watch.missedSince !== undefined) {
        const event = scanEvent(watch, 'recovered', watch.lastSuccessAt!, run);
        watch.missedSince = undefined;
        watch.missedWindows = 0;
        log.info('scan recovered', { scheduleId: watch.scheduleId, lastSuccessAt: iso(watch.lastSuccessAt) });
        await announceNotification({ event });
      }
      continue;
    }
    // Windows that all ended while no worker ran (a long outage) are counted, and told in one event
    // for the newest of them: no burst of stale alerts when the worker is back.
    const ended = Math.max(1, Math.floor((Date.now() - watch.windowStart) / watch.windowMs));
    const lastDeadline = watch.windowStart + ended * watch.windowMs;
    // The next window starts at that deadline, before the announce is awaited: a success arriving
    // meanwhile restarts the window from its own end time.
    watch.missedSince ??= deadline;
    watch.missedWindows += ended;
    watch.windowStart = lastDeadline;
    log.warn('scan missed: no successful run within the window', { scheduleId: watch.scheduleId, window: watch.window, windows: ended });
    await announceNotification({ event: scanEvent(watch, 'missed', lastDeadline) });
  }
}
