/**
 * Notifications under chaos (issue #29 "Must show"): receivers that are down while many runs fault
 * and complete, a worker SIGKILLed in the middle, and afterwards every expected event delivered,
 * once per id and byte-identical across retries, signed, with no secret in it, while no run was held
 * open by the outage. Then the same over SMTP against a real SMTP server, and PagerDuty incidents
 * opened and resolved with a repeated trigger deduplicated.
 *
 * `npx vitest run --config vitest.chaos.config.mts test/chaos/notifications.chaos.ts`;
 * CHAOS_WORKFLOWS (50), NOTIFY_OUTAGE_SECONDS (90), NOTIFY_SMTP_OUTAGE_SECONDS (60),
 * NOTIFY_PD_RUNS (20) scale it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { NotificationEventType, type NotificationEvent } from '../../src/domain/notifications';
import { startSimulator, type Simulator } from '../../src/sim/server';
import { eventually, SIM_USER, spawnWorkerProcess, type WorkerProcess } from '../helpers';
import {
  startPagerDutyReceiver,
  startSmtpReceiver,
  startWebhookReceiver,
  type ReceivedMessage,
  type ReceivedRequest,
} from '../notification-receivers';
import { tempDir } from '../temp-dir';
import { check, invariants, random, settle, startAll, ZERO_INVARIANTS, type Plan, type Summary, type Tracked } from './harness';

const RUNS = Number(process.env.CHAOS_WORKFLOWS ?? 50);
const OUTAGE_MS = Number(process.env.NOTIFY_OUTAGE_SECONDS ?? 90) * 1000;
const SMTP_OUTAGE_MS = Number(process.env.NOTIFY_SMTP_OUTAGE_SECONDS ?? 60) * 1000;
const PD_RUNS = Number(process.env.NOTIFY_PD_RUNS ?? 20);
/** Deliveries retry at most this far apart, so the backlog drains within seconds of the receiver's return. */
const MAX_RETRY_INTERVAL = '3s';
/** After the outage: the backlog must be in within this long (retries at most 3 s apart, plus a restart). */
const CATCH_UP_MS = 90_000;
const SETTLE_MS = 240_000;

const figures: string[] = [];
afterAll(() => {
  if (figures.length) console.log(`\nnotifications chaos\n${figures.join('\n')}\n`);
});

/** Runs taking `plans` in turn, their jobs added to the simulator: pending 0.5-2 s, executing `executing` s, then Completed or Faulted. */
function planRuns(
  sim: Simulator,
  count: number,
  rnd: () => number,
  executing: [number, number] = [2, 8],
  plans: Plan[] = ['complete', 'fault'],
) {
  return Array.from({ length: count }, (_, i) => {
    const plan = plans[i % plans.length]!;
    const pending = 0.5 + rnd() * 1.5;
    const runFor = executing[0] + rnd() * (executing[1] - executing[0]);
    const jobId = sim.state.addJob({
      JobID: randomUUID(),
      JobName: `notify ${plan} ${i}`,
      steps: [
        ['Pending', pending],
        ['Executing', runFor],
        [plan === 'fault' ? 'Faulted' : 'Completed', 0],
      ],
      // What CCS echoes in a fault must not reach a receiver: the password quoted in the exception.
      exception: plan === 'fault' ? `chaos fault; login ${SIM_USER.username} / ${SIM_USER.password} refused` : null,
    }).JobID;
    return { jobId, plan, endsAfterMs: (pending + runFor) * 1000 };
  });
}

const NO_CANCELS = (): undefined => undefined;

/**
 * A receiver outage: down from `begin()` for at least `minMs` and until `end()`, which the scenario
 * calls once every run closed. A close that waited for the receiver could then never happen: the run
 * would be stuck, not merely late, whatever a SIGKILLed worker's restart costs.
 */
class Outage {
  private began = Number.POSITIVE_INFINITY;
  private minEnd = Number.POSITIVE_INFINITY;
  private endsAt = Number.POSITIVE_INFINITY;

  begin(minMs: number): void {
    this.began = Date.now();
    this.minEnd = this.began + minMs;
  }

  get down(): boolean {
    return Date.now() < this.endsAt;
  }

  /** Ends it (not before its minimum); returns when it ends. */
  end(): number {
    this.endsAt = Math.max(Date.now(), this.minEnd);
    return this.endsAt;
  }

  get seconds(): number {
    return Math.round((this.endsAt - this.began) / 1000);
  }
}

interface WorkerRig {
  dir: string;
  sim: Simulator;
  client: Client;
  taskQueue: string;
  env: Record<string, string>;
  /** Every output of every worker process so far (for the leak check). */
  outputs(): string[];
  /** SIGKILL, wait for the exit, start a new process on the same queue; resolves with the seconds the new one took to poll. */
  kill(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A simulator and a worker process with NOTIFICATIONS_FILE = `notifications(dir)` (JSON is YAML)
 * and the secret files `files` (name → content) in its directory.
 */
async function workerRig(notifications: (dir: string) => unknown, files: Record<string, string>): Promise<WorkerRig> {
  const sim = await startSimulator({ port: 0 });
  const dir = tempDir('notify-chaos-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  writeFileSync(join(dir, 'notifications.json'), JSON.stringify(notifications(dir), null, 2));
  const taskQueue = `notify-chaos-${randomUUID()}`;
  const env = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_BASE_URL: sim.baseUrl,
    CCS_USERNAME: SIM_USER.username,
    CCS_PASSWORD: SIM_USER.password,
    CCS_CA_FILE: join(dir, 'ca.pem'),
    EVIDENCE_DIR: join(dir, 'evidence'),
    NOTIFICATIONS_FILE: join(dir, 'notifications.json'),
    TEMPORAL_UI_URL: 'http://temporal-ui.test:8233',
  };
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const outputs: string[] = [];
  let worker: WorkerProcess = await spawnWorkerProcess(env);
  return {
    dir,
    sim,
    client: new Client({ connection }),
    taskQueue,
    env,
    outputs: () => [...outputs, worker.output()],
    kill: async () => {
      worker.child.kill('SIGKILL');
      await worker.exited;
      outputs.push(worker.output());
      const at = Date.now();
      worker = await spawnWorkerProcess(env);
      return Math.round((Date.now() - at) / 1000);
    },
    stop: async () => {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await connection.close();
      await sim.close();
    },
  };
}

/** The CCS runs of `tracked` that have ended, by now. */
function endedRuns(sim: Simulator, tracked: { jobId: string }[]): number {
  return tracked.filter((t) => sim.state.runsOf(t.jobId).some((r) => sim.state.view(r).endedAt !== null)).length;
}

/**
 * Runs whose workflow closed after `outageEnd` although their CCS run ended before it: held open by
 * the outage. Also the longest lag from the CCS end to the close (seconds).
 */
async function heldByOutage(sim: Simulator, tracked: Tracked[], outageEnd: number): Promise<{ held: string[]; maxLagS: number }> {
  const held: string[] = [];
  let maxLag = 0;
  for (const t of tracked) {
    const run = sim.state.runsOf(t.jobId)[0];
    const ended = run ? sim.state.view(run).endedAt : null;
    const closed = (await t.handle.describe()).closeTime?.getTime();
    if (ended === null || closed === undefined) {
      held.push(`${t.handle.workflowId}: CCS ended ${ended ?? 'never'}, closed ${closed ?? 'never'}`);
      continue;
    }
    maxLag = Math.max(maxLag, closed - ended);
    if (ended < outageEnd && closed >= outageEnd)
      held.push(`${t.handle.workflowId}: closed ${closed - outageEnd} ms after the outage ended`);
  }
  return { held, maxLagS: Math.round(maxLag / 100) / 10 };
}

const CLOSING: Record<string, string> = { complete: NotificationEventType.RunCompleted, fault: NotificationEventType.RunFailed };

/** What is wrong with the closing events received for `tracked`: missing, of the wrong type, or announced twice (two ids). */
function closingProblems(tracked: Tracked[], events: Pick<NotificationEvent, 'id' | 'type' | 'workflowId' | 'outcome'>[]): string[] {
  const problems: string[] = [];
  for (const t of tracked) {
    const mine = events.filter((e) => e.workflowId === t.handle.workflowId);
    const closing = mine.filter((e) => e.type === NotificationEventType.RunCompleted || e.type === NotificationEventType.RunFailed);
    if (closing.length === 0) problems.push(`${t.handle.workflowId} (${t.plan}): no closing event`);
    else if (closing.length > 1)
      problems.push(`${t.handle.workflowId}: ${closing.length} closing events (ids ${closing.map((e) => e.id).join(', ')})`);
    else if (closing[0]!.type !== CLOSING[t.plan])
      problems.push(`${t.handle.workflowId} (${t.plan}): ${closing[0]!.type} (${closing[0]!.outcome})`);
  }
  return problems;
}

/** Secrets (in every form they are sent) found in `texts`. */
function leaks(texts: string[], secrets: string[]): string[] {
  const forms = secrets.filter(Boolean).flatMap((s) => [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)]);
  return [...new Set(forms.filter((f) => texts.some((t) => t.includes(f))))].map((f) => `${f.slice(0, 4)}…`);
}

// The run invariants without `restartNeeded`: no canary runs after these scenarios, so it is not measured.
const { restartNeeded: _restart, ...ZERO_RUNS } = ZERO_INVARIANTS;
const runInvariants = (s: Summary): unknown => {
  const { restartNeeded: _restartNeeded, ...rest } = invariants(s);
  return rest;
};

describe.sequential('notifications chaos', () => {
  it(`webhook down (503) for ${OUTAGE_MS / 1000} s and until every run closed, while ${RUNS} runs fault and complete, worker SIGKILLed twice`, async () => {
    const started = Date.now();
    const secret = randomBytes(24).toString('hex');
    // The outage starts when the runs do (the worker's start-up is not part of it).
    const outage = new Outage();
    const receiver = await startWebhookReceiver({ secret, script: () => (outage.down ? 503 : 200) });
    const r = await workerRig(
      (d) => ({
        channels: { ops: { type: 'webhook', url: `${receiver.url}/ccs`, secretFile: join(d, 'hook-secret'), allowPlaintext: true } },
        rules: [{ events: [NotificationEventType.RunCompleted, NotificationEventType.RunFailed], channels: ['ops'] }],
        delivery: { giveUpAfter: '1h', maxRetryInterval: MAX_RETRY_INTERVAL },
      }),
      { 'hook-secret': secret },
    ).catch(async (e: unknown) => {
      await receiver.close();
      throw e;
    });
    try {
      const rnd = random(29);
      const jobs = planRuns(r.sim, RUNS, rnd);
      outage.begin(OUTAGE_MS);
      const tracked = await startAll(r.client, r.taskQueue, jobs, rnd, NO_CANCELS, 4);
      // Kill 1: in the middle of the runs (half of them ended in CCS).
      await eventually(() => endedRuns(r.sim, tracked) >= RUNS / 2, 120_000, 'half the CCS runs to end');
      const restarts = [await r.kill()];
      await settle(tracked, SETTLE_MS);
      const closedAt = Date.now();
      // Kill 2: every run closed, their deliveries only pending in retries (the outbox), the receiver still down.
      restarts.push(await r.kill());
      const outageEnd = outage.end();
      const { held, maxLagS } = await heldByOutage(r.sim, tracked, outageEnd);
      const attemptsInOutage = receiver.requests().filter((q) => q.at < outageEnd).length;

      const ids = new Set(tracked.map((t) => t.handle.workflowId));
      const closingIn = (): number =>
        new Set(
          receiver
            .events()
            .filter((e) => ids.has(e.workflowId) && e.type !== NotificationEventType.Test)
            .map((e) => e.workflowId),
        ).size;
      await receiver
        .waitFor(() => closingIn() >= tracked.length, Math.max(0, outageEnd - Date.now()) + CATCH_UP_MS)
        .catch((e: unknown) => console.error(String(e)));
      const caughtUpS = Math.round((Date.now() - outageEnd) / 1000);

      const requests = receiver.requests();
      const events = receiver.events();
      const changed = [...receiver.bodiesById()].filter(([, bodies]) => bodies.size > 1).map(([id]) => id);
      const acceptedTwice = countAcceptedTwice(requests);
      const secrets = [SIM_USER.password, secret, ...r.sim.issuedTokens()];
      const leaked = leaks(
        requests.map((q) => `${JSON.stringify(q.headers)}\n${q.body}`),
        secrets,
      );
      const summary = await check(
        'webhook outage',
        r.sim,
        tracked,
        [...r.outputs(), ...requests.map((q) => q.body)],
        started,
        [secret],
        r.env.EVIDENCE_DIR,
      );
      const problems = closingProblems(tracked, events);
      figures.push(
        `webhook: ${tracked.length} runs; ${events.length} events accepted; ${requests.length} deliveries (${attemptsInOutage} during the outage, ` +
          `${requests.length - events.length} retries); ${acceptedTwice} accepted twice (deduplicated by id); ${changed.length} ids with two bodies; ` +
          `${receiver.badSignatures} bad signatures; runs closed ${Math.round((closedAt - started) / 1000)} s in, longest CCS-end→close ${maxLagS} s; ` +
          `${held.length} held by the outage (down ${outage.seconds} s); 2 SIGKILLs (mid-runs; after the closes, receiver down; new worker polling after ${restarts.join(' and ')} s); ` +
          `backlog in ${caughtUpS} s after the outage; wall ${Math.round((Date.now() - started) / 1000)} s`,
      );
      if (problems.length) console.error(`webhook: ${problems.slice(0, 10).join('\n  ')}`);
      if (held.length) console.error(`webhook held: ${held.slice(0, 10).join('\n  ')}`);

      expect(runInvariants(summary)).toEqual(ZERO_RUNS);
      expect(held).toEqual([]);
      expect(attemptsInOutage).toBeGreaterThan(0);
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
      expect(receiver.badSignatures).toBe(0);
      expect(receiver.malformed).toBe(0);
      expect(requests.every((q) => q.signatureOk === true)).toBe(true);
      expect(leaked).toEqual([]);
      // Nothing but what the rule names was sent.
      expect(events.filter((e) => !ids.has(e.workflowId))).toEqual([]);
    } finally {
      await r.stop();
      await receiver.close();
    }
  }, 600_000);

  it(`SMTP answering 451 for ${SMTP_OUTAGE_MS / 1000} s and until every run closed, while ${RUNS} runs fault and complete, worker SIGKILLed`, async () => {
    const started = Date.now();
    const password = `smtp-${randomBytes(12).toString('hex')}`;
    const outage = new Outage();
    const smtp = await startSmtpReceiver({ user: 'ccs-notify', password, script: () => (outage.down ? 451 : 250) });
    const r = await workerRig(
      (d) => {
        writeFileSync(join(d, 'smtp-ca.pem'), smtp.caPem);
        return {
          channels: {
            mail: {
              type: 'email',
              host: smtp.host,
              port: smtp.port,
              from: 'ccs-jobs@example.test',
              to: ['scan-owners@example.test'],
              username: 'ccs-notify',
              passwordFile: join(d, 'smtp-password'),
              caFile: join(d, 'smtp-ca.pem'),
            },
          },
          rules: [{ events: [NotificationEventType.RunCompleted, NotificationEventType.RunFailed], channels: ['mail'] }],
          delivery: { giveUpAfter: '1h', maxRetryInterval: MAX_RETRY_INTERVAL },
        };
      },
      { 'smtp-password': password },
    ).catch(async (e: unknown) => {
      await smtp.close();
      throw e;
    });
    try {
      const rnd = random(31);
      const jobs = planRuns(r.sim, RUNS, rnd);
      outage.begin(SMTP_OUTAGE_MS);
      const tracked = await startAll(r.client, r.taskQueue, jobs, rnd, NO_CANCELS, 4);
      await eventually(() => endedRuns(r.sim, tracked) >= RUNS / 2, 120_000, 'half the CCS runs to end');
      const restart = await r.kill();
      await settle(tracked, SETTLE_MS);
      const outageEnd = outage.end();
      const { held, maxLagS } = await heldByOutage(r.sim, tracked, outageEnd);
      const attemptsInOutage = smtp.attempts().filter((m) => m.at < outageEnd).length;

      const byWorkflow = (m: ReceivedMessage): string | undefined =>
        tracked.find((t) => m.text.includes(t.handle.workflowId))?.handle.workflowId;
      const covered = (): number => new Set(smtp.messages().map(byWorkflow).filter(Boolean)).size;
      await smtp
        .waitFor(() => covered() >= tracked.length, Math.max(0, outageEnd - Date.now()) + CATCH_UP_MS)
        .catch((e: unknown) => console.error(String(e)));
      const caughtUpS = Math.round((Date.now() - outageEnd) / 1000);

      const attempts = smtp.attempts();
      const messages = smtp.messages();
      // One event per message: by X-Ccs-Event-Id; the same id must always carry the same subject, body and Message-ID.
      const byId = new Map<string, Set<string>>();
      for (const m of attempts) {
        const seen = byId.get(m.eventId ?? '') ?? new Set<string>();
        seen.add(JSON.stringify([m.subject, m.messageId, m.text, m.html ?? '']));
        byId.set(m.eventId ?? '', seen);
      }
      const changed = [...byId].filter(([, v]) => v.size > 1).map(([id]) => id);
      const uniqueAccepted = new Map<string, ReceivedMessage>();
      for (const m of messages) if (m.eventId && !uniqueAccepted.has(m.eventId)) uniqueAccepted.set(m.eventId, m);
      const events = [...uniqueAccepted.values()].map((m) => ({
        id: m.eventId!,
        workflowId: byWorkflow(m) ?? '',
        type: (m.headers['x-ccs-event-type'] ?? '') as NotificationEvent['type'],
        outcome: m.subject,
      }));
      const problems = closingProblems(tracked, events);
      const leaked = leaks(
        attempts.map((m) => m.raw),
        [SIM_USER.password, password, ...r.sim.issuedTokens()],
      );
      const summary = await check(
        'smtp outage',
        r.sim,
        tracked,
        [...r.outputs(), ...attempts.map((m) => m.raw)],
        started,
        [password],
        r.env.EVIDENCE_DIR,
      );
      figures.push(
        `email: ${tracked.length} runs; ${uniqueAccepted.size} events accepted; ${attempts.length} messages sent (${attemptsInOutage} refused with 451 during ` +
          `${outage.seconds} s); ${messages.length - uniqueAccepted.size} accepted twice; ${changed.length} ids with two bodies; ` +
          `${attempts.filter((m) => !m.eventId).length} without X-Ccs-Event-Id; ${smtp.badAuth} refused logins; ${attempts.filter((m) => !m.secure).length} without TLS; ` +
          `SIGKILL mid-runs (new worker polling after ${restart} s); longest CCS-end→close ${maxLagS} s; ${held.length} held; backlog in ${caughtUpS} s after the outage; wall ${Math.round((Date.now() - started) / 1000)} s`,
      );
      if (problems.length) console.error(`email: ${problems.slice(0, 10).join('\n  ')}`);

      expect(runInvariants(summary)).toEqual(ZERO_RUNS);
      expect(held).toEqual([]);
      expect(attemptsInOutage).toBeGreaterThan(0);
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
      expect(attempts.every((m) => m.eventId && m.secure && m.user === 'ccs-notify')).toBe(true);
      expect(smtp.badAuth).toBe(0);
      expect(leaked).toEqual([]);
    } finally {
      await r.stop();
      await smtp.close();
    }
  }, 600_000);

  it(`PagerDuty: ${PD_RUNS} runs need attention (CCS 403 on reads) then clear; one incident each, triggered and resolved; lost answers deduplicated`, async () => {
    const started = Date.now();
    const routingKey = randomBytes(16).toString('hex');
    // The first trigger of each incident is applied and its answer lost: the channel repeats it.
    const firstTriggers = new Set<string>();
    const pd = await startPagerDutyReceiver({
      routingKey,
      loseAnswer: (e) => {
        if (e.event_action !== 'trigger' || !e.dedup_key || firstTriggers.has(e.dedup_key)) return false;
        firstTriggers.add(e.dedup_key);
        return true;
      },
    });
    const r = await workerRig(
      (d) => ({
        channels: { pager: { type: 'pagerduty', url: pd.enqueueUrl, routingKeyFile: join(d, 'pd-key'), allowPlaintext: true } },
        rules: [{ events: [NotificationEventType.RunAttention, NotificationEventType.RunAttentionCleared], channels: ['pager'] }],
        delivery: { giveUpAfter: '1h', maxRetryInterval: MAX_RETRY_INTERVAL },
      }),
      { 'pd-key': routingKey },
    ).catch(async (e: unknown) => {
      await pd.close();
      throw e;
    });
    try {
      const rnd = random(37);
      // Long enough runs that the 403 window falls inside every one of them.
      const jobs = planRuns(r.sim, PD_RUNS, rnd, [30, 40], ['complete']);
      const tracked = await startAll(r.client, r.taskQueue, jobs, rnd, NO_CANCELS, 4);
      // Every run found and read once: only then are reads refused (a 403 before the run is found fails fast, by design).
      await eventually(
        async () =>
          (await Promise.all(tracked.map((t) => t.handle.query(statusQuery)))).every((q) => q.jobRunId !== undefined && q.polls > 0),
        60_000,
        'every run to be followed',
      );
      r.sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'] });
      const keys = new Set(tracked.map((t) => `${t.handle.workflowId}/attention`));
      const mine = () => pd.incidents().filter((i) => keys.has(i.dedupKey));
      // Reads are refused until every run's incident is open and its lost first answer repeated.
      await pd
        .waitFor(() => mine().length >= tracked.length && mine().every((i) => i.triggers >= 2), 90_000)
        .catch((e: unknown) => console.error(String(e)));
      const raisedS = Math.round((Date.now() - started) / 1000);
      r.sim.setFaults({});
      await pd
        .waitFor(() => mine().length >= tracked.length && mine().every((i) => i.status === 'resolved'), 90_000)
        .catch((e: unknown) => console.error(String(e)));
      await settle(tracked, SETTLE_MS);
      const incidents = mine();
      const perKey = new Map<string, number>();
      for (const i of incidents) perKey.set(i.dedupKey, (perKey.get(i.dedupKey) ?? 0) + 1);
      const requests: ReceivedRequest[] = pd.requests();
      // The routing key is PagerDuty's credential and belongs in routing_key; nothing else may carry a secret.
      const bodies = requests.map((q) => q.body.split(routingKey).join(''));
      const leaked = leaks(bodies, [SIM_USER.password, ...r.sim.issuedTokens()]);
      const summary = await check('pagerduty attention', r.sim, tracked, [...r.outputs()], started, [routingKey], r.env.EVIDENCE_DIR);
      figures.push(
        `pagerduty: ${tracked.length} runs; ${incidents.length} incidents (${incidents.filter((i) => i.status === 'resolved').length} resolved); ` +
          `${requests.length} requests; ${pd.lostAnswers} answers lost → ${pd.deduplicated} repeated triggers deduplicated; ${pd.invalid} invalid; ` +
          `all raised ${raisedS} s in; wall ${Math.round((Date.now() - started) / 1000)} s`,
      );
      expect(runInvariants(summary)).toEqual(ZERO_RUNS);
      expect(incidents).toHaveLength(tracked.length);
      expect([...perKey.values()].every((n) => n === 1)).toBe(true);
      expect(incidents.every((i) => i.status === 'resolved' && i.triggers >= 2 && i.resolves >= 1)).toBe(true);
      expect(pd.deduplicated).toBeGreaterThanOrEqual(tracked.length);
      expect(pd.invalid).toBe(0);
      expect(leaked).toEqual([]);
    } finally {
      r.sim.setFaults({});
      await r.stop();
      await pd.close();
    }
  }, 600_000);
});

/** Deliveries answered 2xx for an id already answered 2xx (at-least-once: the receiver deduplicates them by id). */
function countAcceptedTwice(requests: ReceivedRequest[]): number {
  const seen = new Set<string>();
  let twice = 0;
  for (const q of requests) {
    if (q.status < 200 || q.status >= 300) continue;
    const id = q.headers['x-ccs-event-id'] ?? '';
    if (seen.has(id)) twice++;
    seen.add(id);
  }
  return twice;
}
