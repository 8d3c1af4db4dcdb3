/**
 * The CCS activities: each one CCS call (or a short, retry-safe group of reads), nothing else. Built
 * by a factory over injected clients so tests and workers choose the CCS servers. Their inputs and
 * results are the contract in src/domain/activities.ts; each concern is a module of its own:
 * reads (job-reads), the exactly-once start (execute-job), following a run (wait-for-change),
 * aborts (abort).
 */
import type { CcsClient } from '../ccs/client';
import { createAbortActivities } from './abort';
import { createExecuteActivities } from './execute-job';
import { createNotificationActivities, type NotificationActivityDeps, type NotificationActivityFunctions } from './notifications';
import { createReadActivities } from './job-reads';
import { DEFAULT_POLLING, type PollingSettings } from './polling';
import { serverPicker } from './servers';
import { createWaitActivities, type ActivityEvents } from './wait-for-change';

export { LIVE_BATCH, POLL_GROWTH, RUN_SNAPSHOT_SIZE, waitForChangeInput } from '../domain/activities';
export type {
  AbortJobRunInput,
  AbortJobRunResult,
  AbortOrphanRunInput,
  AbortOrphanRunResult,
  ExecuteJobInput,
  ExecuteJobResult,
  FindJobsByNameInput,
  FindJobsByNameResult,
  ListJobRunsInput,
  LiveMessages,
  LiveMessagesWatch,
  OnServer,
  RunWatch,
  SearchJobIdsInput,
  UnknownStatusWatch,
  WaitForJobRunAttention,
  WaitForJobRunChangeInput,
  WaitForJobRunChangeResult,
  WaitOutcome,
} from '../domain/activities';
export { ATTEMPT_END_MARGIN_MS, EXECUTE_SEND_MARGIN_MS, STARTED_RUN_LOOK_MS } from './execute-job';
export { DEFAULT_POLLING, jittered, pollDelayMs, type PollingSettings } from './polling';
export { liveMessages, type ActivityEvents, type WatchProgress } from './wait-for-change';
export {
  createNotificationActivities,
  type NotificationActivityDeps,
  type NotificationActivityFunctions,
  type NotificationMetrics,
} from './notifications';

/** What the activities are built over: the CCS clients by server name, the metrics hooks, the polling settings. */
export interface ActivityDeps {
  /** The `default` CCS server (shorthand for `servers: { default: client }`). */
  client?: CcsClient;
  /** CCS servers by the name a run gives in its `ccs` field. */
  servers?: Readonly<Record<string, CcsClient>>;
  /** Told what the activities saw, for metrics. */
  events?: ActivityEvents;
  /** How waits poll (CCS_WATCH_THRESHOLD, CCS_POLL_JITTER). */
  polling?: Partial<PollingSettings>;
  /** The notifier (NOTIFICATIONS_FILE), its metrics and the evidence sink for given-up deliveries; unset: notifications off. */
  notifications?: NotificationActivityDeps | undefined;
}

/**
 * The CCS activities over `deps`' clients, by the names workflows call them: `findJobsByName`,
 * `searchJobIds`, `listJobRuns`, `executeJob`, `findRunOfCancelledExecute`, `waitForJobRunChange`,
 * `abortJobRun`, `abortOrphanRun`, and the notification activities `announceNotification`,
 * `sendNotification`, `recordNotificationGivenUp`. An input naming a server the worker lacks fails with the
 * non-retryable `CcsInvalidInput` before anything is sent.
 */
export function createActivities({ client, servers = {}, events = {}, polling = {}, notifications = {} }: ActivityDeps) {
  const serverOf = serverPicker(client ? { ...servers, default: client } : servers);
  return {
    ...createReadActivities(serverOf),
    ...createExecuteActivities(serverOf),
    ...createWaitActivities(serverOf, { ...DEFAULT_POLLING, ...polling }, events),
    ...createAbortActivities(serverOf),
    ...createNotificationActivities(notifications),
  };
}

/** The CCS activities' types, as workflows proxy them (the notification ones: NotificationActivityFunctions). */
export type CcsActivities = Omit<ReturnType<typeof createActivities>, keyof NotificationActivityFunctions>;
