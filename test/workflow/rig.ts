/**
 * The workflow tier's rig: a time-skipping test server of the file's own, one worker running scripted
 * activities on a fresh task queue, a scripted CCS whose runs follow a timeline in workflow time,
 * and readers of when things happened (history event times, relative to the workflow's start).
 * Scripted activities answer at once or fail `CcsRunUnchanged` with `nextRetryDelay`, so every wait
 * is a server timer the test server can skip: no activity ever sleeps in real time.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, inject } from 'vitest';
import type { CcsActivities } from '../../src/activities';
import type { FleetActivities } from '../../src/activities/fleet';
import type { RedriveActivities } from '../../src/activities/redrive';
import type { NotificationActivities } from '../../src/workflows/activity-options';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { JobRun, JobRunMessage } from '../../src/domain/job-run';
import { fakeRun } from '../fake-run';
import type { MaintenanceWindowView } from '../../src/domain/maintenance';
import { createWorker } from '../../src/hosting/create-worker';
import { quietRuntime } from '../helpers';
import { tempDir } from '../temp-dir';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
export const RUN = '11111111-2222-3333-4444-555555555555';

export function jobRun(status: string, extra: Partial<JobRun> = {}): JobRun {
  return fakeRun(JOB, RUN, status, extra);
}

/** Every activity a script may stand in for; a name the current script lacks fails, never reaches a real system. */
const SCRIPTABLE = [
  'listJobRuns',
  'executeJob',
  'waitForJobRunChange',
  'abortJobRun',
  'maintenanceWindowOf',
  'signalRunsOnServer',
  'recentJobIds',
  'trackersOfRun',
  'adoptRun',
  'announceNotification',
  'sendNotification',
  'recordNotificationGivenUp',
  'readRedriveSource',
  'startAutoRedrive',
] as const;

export type Scripted = Partial<CcsActivities & FleetActivities & NotificationActivities & RedriveActivities>;

export interface TimeSkippingRig {
  readonly env: TestWorkflowEnvironment;
  /** The task queue of the file's worker. */
  readonly taskQueue: string;
  /** Makes `activities` the ones the file's worker runs from now on. */
  use(activities: Scripted): void;
}

/**
 * The file's own time-skipping environment and one worker on a fresh task queue, started before its
 * tests and stopped (worker first) after them. The worker's activities are whatever the running test
 * scripted (tests in a file run one at a time); closing records go to a temporary directory.
 */
export function timeSkippingEnv(): TimeSkippingRig {
  let env: TestWorkflowEnvironment | undefined;
  let current: Scripted = {};
  let running: Promise<void> | undefined;
  let worker: Awaited<ReturnType<typeof createWorker>> | undefined;
  const taskQueue = `ts-${randomUUID()}`;
  const delegates = Object.fromEntries(
    SCRIPTABLE.map((name) => [
      name,
      (input: unknown) => {
        const fn = current[name] as ((arg: unknown) => Promise<unknown>) | undefined;
        if (!fn) throw ApplicationFailure.nonRetryable(`activity ${name} is not scripted by this test`, 'NotScripted');
        return fn(input);
      },
    ]),
  ) as Scripted;
  beforeAll(async () => {
    quietRuntime();
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
    });
    // The workflows keep their search attributes current: the test server refuses names it was not told of.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_NAMES.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
    worker = await createWorker({
      connection: env.nativeConnection,
      taskQueue,
      servers: {},
      activities: delegates,
      evidence: tempDir('ccs-wf-evidence-'),
      workflowBundlePath: inject('workflowBundlePath'),
      failWorkflowOnBug: true,
    });
    running = worker.run();
  });
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
  });
  return {
    get env() {
      if (!env) throw new Error('the time-skipping environment is not started (use it inside a test)');
      return env;
    },
    taskQueue,
    use(activities: Scripted) {
      current = activities;
    },
  };
}

/** Runs `fn` on the file's worker with `activities` scripted, handing it the worker's task queue. */
export async function withWorker<T>(rig: TimeSkippingRig, activities: Scripted, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  rig.use(activities);
  return fn(rig.taskQueue);
}

/** Workflow time of the current activity attempt (server time: skipped time included). */
export function activityNow(): number {
  return Context.current().info.currentAttemptScheduledTimestampMs;
}

/** The benign failure that has the server run the next poll after `delayMs` (a timer it can skip). */
export function unchanged(delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.RunUnchanged,
    message: 'unchanged',
    nextRetryDelay: delayMs,
    category: ApplicationFailureCategory.BENIGN,
  });
}

/** One step of a scripted run: from `afterMs` after the execute on, CCS reports `status`. */
export interface Step {
  afterMs: number;
  status: string;
  statusCode?: number | null;
  messages?: JobRunMessage[];
  exception?: string;
}

export interface Call {
  name: string;
  /** Workflow time of the call (epoch ms). */
  at: number;
  input: unknown;
}

/**
 * A scripted CCS job with one run: executed at the first `executeJob`, then the `steps` in workflow
 * time; an abort ends it Aborted at once. Every call is recorded with its workflow time. Reads of the
 * waits' inputs are shape-tolerant (`watch.unknownStatus` or a top-level `unknownStatus`).
 */
export function scriptedCcs(
  steps: Step[],
  options: { known?: JobRun[] | ((at: number, jobId: string) => JobRun[]); window?: (at: number) => MaintenanceWindowView | null } = {},
) {
  const calls: Call[] = [];
  /** When the run started: at the execute, or (a run only followed) at the first call. */
  let startedAt: number | undefined;
  let executed = false;
  let abortedAt: number | undefined;
  const record = (name: string, input: unknown): number => {
    const at = activityNow();
    calls.push({ name, at, input });
    startedAt ??= at;
    return at;
  };
  const runAt = (at: number): JobRun => {
    if (abortedAt !== undefined) return jobRun('Aborted', { statusCode: 7, endTime: new Date(abortedAt).toISOString(), messages: [] });
    const since = at - (startedAt ?? at);
    const step: Step = [...steps].reverse().find((s) => since >= s.afterMs) ?? { afterMs: 0, status: 'Pending', statusCode: 1 };
    const ended = ['Completed', 'Faulted', 'Aborted'].includes(step.status);
    return jobRun(step.status, {
      statusCode: step.statusCode === undefined ? 2 : step.statusCode,
      startTime: startedAt === undefined ? null : new Date(startedAt).toISOString(),
      ...(ended ? { endTime: new Date(at).toISOString(), messages: step.messages ?? [] } : {}),
      ...(step.exception ? { exception: step.exception } : {}),
    });
  };
  const activities: Scripted = {
    listJobRuns: (input) => {
      const at = record('listJobRuns', input);
      const { known } = options;
      return Promise.resolve(typeof known === 'function' ? known(at, input.jobId) : (known ?? []));
    },
    executeJob: (input) => {
      startedAt = record('executeJob', input);
      executed = true;
      return Promise.resolve({ run: runAt(startedAt), adopted: false });
    },
    waitForJobRunChange: (input) => {
      const at = record('waitForJobRunChange', input);
      const { attempt } = Context.current().info;
      if (input.delayFirstPoll && attempt === 1) return Promise.reject(unchanged(input.pollIntervalMs));
      const run = runAt(at);
      const ended = run.endTime !== null;
      // What the real wait flags: a status outside 0-7 that has lasted the time allowed (either input shape).
      const watch = watchOf(input);
      const flagged =
        watch.unknownStatus &&
        run.statusCode === null &&
        !ended &&
        at - Date.parse(watch.unknownStatus.since) >= watch.unknownStatus.afterMs
          ? { type: ErrorType.UnknownStatus, message: `status ${run.status} outside 0-7` }
          : null;
      const same =
        run.status === input.lastStatus &&
        run.customStatusText === input.lastCustomStatusText &&
        (flagged?.type ?? null) === (watch.attention ?? null);
      if (!ended && same) return Promise.reject(unchanged(input.pollIntervalMs));
      return Promise.resolve({ run, polls: attempt, observedAt: new Date(at).toISOString(), attention: flagged });
    },
    abortJobRun: (input) => {
      abortedAt = record('abortJobRun', input);
      return Promise.resolve({ accepted: true });
    },
    maintenanceWindowOf: (input) => {
      const at = record('maintenanceWindowOf', input);
      return Promise.resolve(options.window?.(at) ?? null);
    },
  };
  return {
    activities,
    calls,
    /** Workflow times of the calls named `name`. */
    times: (name: string): number[] => calls.filter((c) => c.name === name).map((c) => c.at),
    /** When the run was executed (workflow time), or undefined when it never was. */
    get startedAt() {
      return executed ? startedAt : undefined;
    },
  };
}

/** What a wait says the workflow flags now: from `watch` (older shape) or top-level fields. */
export function watchOf(input: unknown): { attention?: string | null; unknownStatus?: { since: string; afterMs: number } } {
  const given = input as {
    watch?: { attention?: string | null; unknownStatus?: { since: string; afterMs: number } };
    attention?: string | null;
    unknownStatus?: { since: string; afterMs: number };
  };
  return given.watch ?? { attention: given.attention ?? null, ...(given.unknownStatus ? { unknownStatus: given.unknownStatus } : {}) };
}

/** Milliseconds of a protobuf timestamp. */
function ms(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(ts?.seconds ?? 0) * 1000 + Math.floor((ts?.nanos ?? 0) / 1e6);
}

export interface Event {
  type: string;
  /** Epoch ms of the event. */
  at: number;
  /** The activity's type, for ActivityTaskScheduled. */
  activity?: string;
  /** The timer's duration, for TimerStarted. */
  timerMs?: number;
  /** The timer's id, for TimerStarted and TimerFired. */
  timerId?: string;
}

/** A workflow's history as (type, time) pairs; `EVENT_TYPE_` dropped from the types. */
export async function eventsOf(handle: WorkflowHandle): Promise<Event[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => {
    const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined;
    const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
    const timerId = e.timerStartedEventAttributes?.timerId ?? e.timerFiredEventAttributes?.timerId ?? undefined;
    return {
      type,
      at: ms(e.eventTime),
      ...(activity ? { activity } : {}),
      ...(timeout ? { timerMs: ms(timeout) } : {}),
      ...(timerId ? { timerId } : {}),
    };
  });
}

/** The timers of `durationMs` a history started: when each started and when it fired (undefined if it did not). */
export function timersOf(events: Event[], durationMs: number): { started: number; fired: number | undefined }[] {
  return events
    .filter((e) => e.type === 'TIMER_STARTED' && e.timerMs === durationMs)
    .map((t) => ({ started: t.at, fired: events.find((e) => e.type === 'TIMER_FIRED' && e.timerId === t.timerId)?.at }));
}

/** When the workflow started (epoch ms), from its first event. */
export function startOf(events: Event[]): number {
  return events[0]!.at;
}
