/**
 * Notification delivery on the time-skipping test server: `deliverCcsNotification` retrying a
 * channel that is down for hours (in milliseconds), giving up at `giveUpAfterMs`, and giving up at
 * once on a refusal; and a run that still closes when queueing its event is slow. The notification
 * activities are scripted; every moment is read in workflow time.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it } from 'vitest';
import { cancelSignal, type RunCcsJobInput } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import {
  NOTIFICATION_LIMITS,
  NotificationEventType,
  type DeliverNotificationInput,
  type NotificationEvent,
  type NotificationGivenUpInput,
} from '../../src/domain/notifications';
import { ANNOUNCE_ATTEMPTS, ANNOUNCE_TIMEOUT_MS } from '../../src/workflows/activity-options';
import type { deliverCcsNotification, runCcsJob } from '../../src/workflows';
import {
  HOUR,
  JOB,
  MINUTE,
  activityNow,
  eventsOf,
  scriptedCcs,
  startOf,
  timeSkippingEnv,
  withWorker,
  type Call,
  type Scripted,
} from './rig';

const rig = timeSkippingEnv();

/**
 * With RECORD_HISTORIES, saves the history as a replay fixture, as test/helpers' recordHistory does
 * for the dev server (this tier has no temporal CLI: the history is read through the client).
 */
async function recordFixture(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const file = join(__dirname, '..', 'fixtures', 'histories', `${version}-${name}.json`);
  if (existsSync(file) && process.env.RECORD_HISTORIES !== 'overwrite') return;
  const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
  writeFileSync(file, `${JSON.stringify({ workflowId: handle.workflowId, history })}\n`);
}
/** Processing allowed between a moment and what it causes (real milliseconds of server work, not hours). */
const SLACK = 1_000;
const GIVE_UP = 24 * HOUR;
const MAX_INTERVAL = 10 * MINUTE;

const event: NotificationEvent = {
  id: '6f1c1e0e-9d55-4a4e-8a57-2c1d8b1f0a01',
  type: NotificationEventType.RunFailed,
  time: '2026-12-01T00:00:00.000Z',
  summary: 'Faulted: job Nightly CER on emea',
  severity: 'critical',
  incident: { action: 'trigger', key: 'ccs-job-1' },
  workflowId: 'ccs-job-1',
  runId: 'r1',
  workflowType: 'runCcsJob',
  ccs: 'emea',
  job: { id: JOB },
  outcome: 'Faulted',
};

/** A channel that answers 503 until `downForMs` after its first attempt (workflow time), or refuses every event. */
function channel(behaviour: { downForMs: number } | 'refuses') {
  const sends: Call[] = [];
  const givenUp: Call[] = [];
  let firstAt: number | undefined;
  const activities: Scripted = {
    sendNotification: (input) => {
      const at = activityNow();
      sends.push({ name: 'send', at, input });
      firstAt ??= at;
      if (behaviour === 'refuses')
        return Promise.reject(ApplicationFailure.create({ type: ErrorType.NotificationRefused, message: 'receiver answered 400' }));
      if (at - firstAt < behaviour.downForMs)
        return Promise.reject(ApplicationFailure.create({ type: ErrorType.NotificationDeliveryFailed, message: 'receiver answered 503' }));
      return Promise.resolve({ outcome: 'sent' as const, status: 202 });
    },
    recordNotificationGivenUp: (input) => {
      givenUp.push({ name: 'givenUp', at: activityNow(), input });
      return Promise.resolve({ recorded: true });
    },
  };
  return { activities, sends, givenUp };
}

function deliver(taskQueue: string, input: Partial<DeliverNotificationInput> = {}) {
  return rig.env.client.workflow.start<typeof deliverCcsNotification>('deliverCcsNotification', {
    taskQueue,
    workflowId: `ccs-notify/${Date.now()}-${Math.random()}/ops`,
    args: [{ event, channel: 'ops', giveUpAfterMs: GIVE_UP, maxRetryIntervalMs: MAX_INTERVAL, ...input }],
  });
}

describe('deliverCcsNotification', () => {
  it('retries a channel down for 3 h with back-off, then delivers once; no give-up recorded', async () => {
    const ch = channel({ downForMs: 3 * HOUR });
    await withWorker(rig, ch.activities, async (taskQueue) => {
      const realStart = Date.now();
      const handle = await deliver(taskQueue);
      expect(await handle.result()).toEqual({ outcome: 'delivered' });
      const realMs = Date.now() - realStart;
      const last = ch.sends.at(-1)!;
      const first = ch.sends[0]!;
      // Delivered by the first attempt after the 3 h, which back-off capped at 10 min puts within 10 min of it.
      expect(last.at - first.at).toBeGreaterThanOrEqual(3 * HOUR);
      expect(last.at - first.at).toBeLessThan(3 * HOUR + MAX_INTERVAL + SLACK);
      expect(ch.givenUp).toHaveLength(0);
      // 1 s, 2 s, ... 512 s, then every 10 min: about 27 attempts, never a tight loop.
      expect(ch.sends.length).toBeGreaterThan(15);
      expect(ch.sends.length).toBeLessThan(35);
      for (const [i, s] of ch.sends.slice(1).entries()) expect(s.at - ch.sends[i]!.at).toBeLessThanOrEqual(MAX_INTERVAL + SLACK);
      // Every attempt carried the same event (the receiver deduplicates by its id).
      expect(new Set(ch.sends.map((s) => (s.input as { event: NotificationEvent }).event.id))).toEqual(new Set([event.id]));
      expect(realMs).toBeLessThan(30_000);
      await recordFixture(handle, 'notify-delivered');
    });
  });

  it('gives up at 24 h on a channel down for 25 h: recordNotificationGivenUp once, and the workflow completes', async () => {
    const ch = channel({ downForMs: 25 * HOUR });
    await withWorker(rig, ch.activities, async (taskQueue) => {
      const handle = await deliver(taskQueue);
      const result = await handle.result();
      const startedAt = startOf(await eventsOf(handle));
      expect(result.outcome).toBe('given-up');
      expect(ch.givenUp).toHaveLength(1);
      const [record] = ch.givenUp;
      // Temporal stops retrying when the next attempt would start after the 24 h: at most one interval before.
      expect(record!.at - startedAt).toBeLessThanOrEqual(GIVE_UP + SLACK);
      expect(record!.at - startedAt).toBeGreaterThanOrEqual(GIVE_UP - MAX_INTERVAL - SLACK);
      expect(ch.sends.every((s) => s.at - startedAt < GIVE_UP)).toBe(true);
      const given = record!.input as NotificationGivenUpInput;
      expect(given).toMatchObject({ channel: 'ops', event: { id: event.id } });
      expect(given.lastError).toContain('503');
      // The estimate from the retry schedule: an upper bound of the attempts made, and close to it.
      expect(given.attempts).toBeGreaterThanOrEqual(ch.sends.length);
      expect(given.attempts).toBeLessThanOrEqual(ch.sends.length + 2);
      await recordFixture(handle, 'notify-given-up');
    });
  });

  it('gives up at once on a refusal (non-retryable): one attempt, one record', async () => {
    const ch = channel('refuses');
    await withWorker(rig, ch.activities, async (taskQueue) => {
      const handle = await deliver(taskQueue);
      const result = await handle.result();
      const startedAt = startOf(await eventsOf(handle));
      expect(result).toMatchObject({ outcome: 'given-up', attempts: 1 });
      expect(ch.sends).toHaveLength(1);
      expect(ch.givenUp).toHaveLength(1);
      expect((ch.givenUp[0]!.input as NotificationGivenUpInput).lastError).toContain('400');
      expect(ch.givenUp[0]!.at - startedAt).toBeLessThan(SLACK);
    });
  });
});

describe('announcing from runCcsJob', () => {
  it('closes a Completed run within the announce bound while queueing its event keeps failing; the outcome is unchanged', async () => {
    const ccs = scriptedCcs([{ afterMs: 2 * MINUTE, status: 'Completed', statusCode: 5 }]);
    const announced: Call[] = [];
    const activities: Scripted = {
      ...ccs.activities,
      // Temporal unreachable from the activity: every attempt fails, as a retryable error would (an
      // attempt that hangs is ended by its 30 s start-to-close the same way, in real time).
      announceNotification: (input) => {
        announced.push({ name: 'announce', at: activityNow(), input });
        return Promise.reject(ApplicationFailure.create({ type: 'Unavailable', message: 'temporal frontend unavailable' }));
      },
    };
    await withWorker(rig, activities, async (taskQueue) => {
      const realStart = Date.now();
      const handle = await rig.env.client.workflow.start<typeof runCcsJob>('runCcsJob', {
        taskQueue,
        workflowId: `notify-slow-${Date.now()}`,
        args: [{ jobId: JOB, pollInterval: '1m' }],
      });
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      const events = await eventsOf(handle);
      const closedAt = events.at(-1)!.at;
      expect(events.at(-1)!.type).toBe('WORKFLOW_EXECUTION_COMPLETED');
      const first = announced[0]!;
      expect((first.input as { event: NotificationEvent }).event).toMatchObject({
        type: NotificationEventType.RunCompleted,
        outcome: 'Completed',
        job: { id: JOB },
        ccs: 'default',
      });
      // Every attempt carried the same event: its id was decided once, in history.
      expect(new Set(announced.map((a) => (a.input as { event: NotificationEvent }).event.id)).size).toBe(1);
      // Retried with back-off (1 s, 2 s, ... capped at 1 min) ANNOUNCE_ATTEMPTS times, then given up: the run closed within the bound.
      expect(announced).toHaveLength(ANNOUNCE_ATTEMPTS);
      // Measured in workflow time from the run's end (a local activity's own times are the worker's clock).
      const endedAt = Date.parse(result.endTime!);
      expect(closedAt - endedAt).toBeLessThanOrEqual(ANNOUNCE_TIMEOUT_MS);
      expect(closedAt - endedAt).toBeGreaterThanOrEqual(MINUTE);
      // Its back-offs were server timers: the test server skipped them.
      expect(events.filter((e) => e.type === 'TIMER_FIRED').length).toBeGreaterThanOrEqual(ANNOUNCE_ATTEMPTS - 2);
      expect(Date.now() - realStart).toBeLessThan(30_000);
    });
  });

  /** Scripted CCS plus an announce that queues at once, keeping each event it was handed. */
  function announcing(steps: Parameters<typeof scriptedCcs>[0]) {
    const ccs = scriptedCcs(steps);
    const events: NotificationEvent[] = [];
    const activities: Scripted = {
      ...ccs.activities,
      announceNotification: ({ event: e }) => {
        if (e.workflowType === 'runCcsJob' && !events.some((known) => known.id === e.id)) events.push(e);
        return Promise.resolve({ channels: ['ops'] });
      },
    };
    return { ccs, events, activities };
  }

  function startJob(taskQueue: string, input: Partial<RunCcsJobInput> = {}) {
    return rig.env.client.workflow.start<typeof runCcsJob>('runCcsJob', {
      taskQueue,
      workflowId: `notify-${Date.now()}-${Math.random()}`,
      args: [{ jobId: JOB, pollInterval: '1m', requestedBy: 'nightly-ops', ...input }],
    });
  }

  it('a Faulted run announces one run.failed with its outcome, error type, exception and newest messages (bounded)', async () => {
    const messages = Array.from({ length: 8 }, (_, i) => ({ time: null, text: `message ${i + 1} ${'x'.repeat(600)}` }));
    const a = announcing([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 5 * MINUTE, status: 'Faulted', statusCode: 6, exception: 'collector unreachable', messages },
    ]);
    await withWorker(rig, a.activities, async (taskQueue) => {
      const handle = await startJob(taskQueue);
      await handle.result().catch(() => undefined);
      expect(a.events.map((e) => e.type)).toEqual([NotificationEventType.RunFailed]);
      const [failed] = a.events;
      expect(failed).toMatchObject({
        outcome: 'Faulted',
        errorType: ErrorType.JobFaulted,
        severity: 'critical',
        status: 'Faulted',
        exception: 'collector unreachable',
        startedBy: 'nightly-ops',
        workflowId: handle.workflowId,
        workflowType: 'runCcsJob',
        job: { id: JOB },
        incident: { action: 'trigger', key: handle.workflowId },
      });
      expect(failed!.messages).toHaveLength(NOTIFICATION_LIMITS.messages);
      expect(failed!.messages![0]).toMatch(/^message 4 /);
      expect(failed!.messages!.every((m) => m.length <= NOTIFICATION_LIMITS.text)).toBe(true);
    });
  });

  it('a cancel the user asked for, confirmed, announces nothing', async () => {
    const a = announcing([{ afterMs: 0, status: 'Executing' }]);
    await withWorker(rig, a.activities, async (taskQueue) => {
      const handle = await startJob(taskQueue);
      await rig.env.sleep(10 * MINUTE);
      await handle.signal(cancelSignal, { reason: 'scan called off' });
      expect((await handle.result()).status).toBe('Aborted');
      expect(a.events).toEqual([]);
    });
  });

  it('attention raised and cleared: run.attention then run.attention_cleared on one incident key, then run.completed', async () => {
    const a = announcing([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 5 * MINUTE, status: 'Stage9', statusCode: null },
      { afterMs: 40 * MINUTE, status: 'Executing' },
      { afterMs: 60 * MINUTE, status: 'Completed', statusCode: 4 },
    ]);
    await withWorker(rig, a.activities, async (taskQueue) => {
      const handle = await startJob(taskQueue, { unknownStatusAttentionAfter: '15m' });
      expect((await handle.result()).status).toBe('Completed');
      expect(a.events.map((e) => e.type)).toEqual([
        NotificationEventType.RunAttention,
        NotificationEventType.RunAttentionCleared,
        NotificationEventType.RunCompleted,
      ]);
      const [raised, cleared] = a.events;
      expect(raised!.incident).toEqual({ action: 'trigger', key: `${handle.workflowId}/attention` });
      expect(cleared!.incident).toEqual({ action: 'resolve', key: `${handle.workflowId}/attention` });
      expect(raised!.errorType).toBe(ErrorType.UnknownStatus);
      expect(new Set(a.events.map((e) => e.id)).size).toBe(3);
    });
  });

  it('a run late at its expected duration announces run.late once, while it still goes', async () => {
    const a = announcing([
      { afterMs: 0, status: 'Executing' },
      { afterMs: 3 * HOUR, status: 'Completed', statusCode: 4 },
    ]);
    await withWorker(rig, a.activities, async (taskQueue) => {
      const handle = await startJob(taskQueue, { expectedDuration: '2h' });
      expect((await handle.result()).status).toBe('Completed');
      expect(a.events.map((e) => e.type)).toEqual([NotificationEventType.RunLate, NotificationEventType.RunCompleted]);
      expect(a.events[0]!.details).toMatchObject({ expectedMs: 2 * HOUR, basis: 'given' });
    });
  });
});
