/**
 * Each channel against a receiver on a loopback socket: webhook signatures checked by the receiver,
 * retryable and refused answers classified, Retry-After honoured, https with a pinned and a CA-trusted
 * certificate, PagerDuty incidents opened and resolved by dedup key; then the activities: a send's
 * failure types, and announce queueing one delivery workflow per channel exactly once on a real
 * Temporal dev server.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotificationActivities } from '../../src/activities/notifications';
import { notifyTest } from '../../src/cli/notify';
import {
  deliveryWorkflowId,
  scanWatchWorkflowId,
  type AnnounceNotificationInput,
  type DeliverNotificationInput,
  type NotificationEvent,
  type SendNotificationInput,
} from '../../src/domain/notifications';
import { createNotifier, NotificationDeliveryError, notificationsFromFile, type Notifier } from '../../src/notifications';
import {
  failFirst,
  startPagerDutyReceiver,
  startWebhookReceiver,
  type PagerDutyReceiver,
  type WebhookReceiver,
} from '../notification-receivers';
import { tempDir } from '../temp-dir';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import type { EvidenceContent } from '../../src/domain/evidence';
import type { NotificationGivenUpInput } from '../../src/domain/notifications';

const dir = tempDir('ccs-notify-channels-');
const KEY = 'hmac-key-for-tests-0123';
const ROUTING_KEY = 'pd-routing-key-0123456789abcdef';
const PASSWORD = 'ccs-Passw0rd!echoed';
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const keyFile = write('hook-key', `${KEY}\n`);
const pdKeyFile = write('pd-key', `${ROUTING_KEY}\n`);

function event(overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    id: `run.failed:ccs-job/t/${Math.random().toString(36).slice(2)}`,
    type: 'run.failed',
    time: '2026-12-01T02:00:00.000Z',
    summary: 'Faulted: job Nightly CER on emea',
    severity: 'critical',
    incident: { action: 'trigger', key: 'ccs-job/t' },
    workflowId: 'ccs-job/t',
    runId: 'r1',
    workflowType: 'runCcsJob',
    ccs: 'emea',
    job: { id: 'j1', name: 'Nightly CER' },
    exception: `login failed for password ${PASSWORD}`,
    ...overrides,
  };
}

function notifierFor(channels: string, rules = 'rules: []'): Notifier {
  const problems: string[] = [];
  const config = notificationsFromFile(
    write(`n-${Math.random().toString(36).slice(2)}.yaml`, `channels:\n${channels}\n${rules}\ndelivery: { maxRetryInterval: 20s }\n`),
    {},
    problems,
  );
  expect(problems).toEqual([]);
  return createNotifier({ config: config!, secrets: [PASSWORD], links: { namespace: 'default', temporalUiUrl: 'http://ui.test' } });
}

/** A plain JSON receiver (Slack and Teams sign nothing): records bodies, answers 200. */
async function startJsonReceiver(): Promise<{ url: string; bodies: unknown[]; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({
        path: req.url,
        type: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function failureOf(p: Promise<unknown>): Promise<NotificationDeliveryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationDeliveryError);
  return err as NotificationDeliveryError;
}

describe('webhook channel', () => {
  let receiver: WebhookReceiver;
  const notifiers: Notifier[] = [];
  afterAll(async () => {
    await Promise.all(notifiers.map((n) => n.close()));
    await receiver?.close();
  });

  it('POSTs the signed event; 503 is retryable, then the same bytes are accepted', async () => {
    receiver = await startWebhookReceiver({ secret: KEY, script: failFirst(1, 503) });
    const n = notifierFor(`  ops: { type: webhook, url: ${receiver.url}/hook, secretFile: ${keyFile}, allowPlaintext: true }`);
    notifiers.push(n);
    const e = n.prepare(event());
    const first = await failureOf(n.channel('ops')!.send(e));
    expect({ retryable: first.retryable, status: first.status }).toEqual({ retryable: true, status: 503 });
    expect(first.message).toContain('channel ops (POST to 127.0.0.1:');
    await expect(n.channel('ops')!.send(n.prepare(event({ id: e.id })))).resolves.toMatchObject({ outcome: 'sent', status: 200 });
    const deliveries = receiver.deliveries(e.id);
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.signatureOk)).toBe(true);
    expect(receiver.badSignatures).toBe(0);
    expect(receiver.bodiesById().get(e.id)!.size).toBe(1);
    expect(deliveries[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-ccs-event-id': e.id });
    const got = receiver.events().find((x) => x.id === e.id)!;
    expect(got.links?.temporalUi).toBe('http://ui.test/namespaces/default/workflows/ccs-job%2Ft/r1/history');
    expect(deliveries[0]!.body).not.toContain(PASSWORD);
    expect(got.exception).toContain('[redacted]');
  });

  it('a receiver that refuses the signature (401) or the event (400) is not retried', async () => {
    const wrongKey = write('wrong-key', 'not-the-key');
    const bad = notifierFor(`  ops: { type: webhook, url: ${receiver.url}/hook, secretFile: ${wrongKey}, allowPlaintext: true }`);
    notifiers.push(bad);
    const refused = await failureOf(bad.channel('ops')!.send(bad.prepare(event())));
    expect({ retryable: refused.retryable, status: refused.status }).toEqual({ retryable: false, status: 401 });
    const four00 = await startWebhookReceiver({ secret: KEY, script: () => 400 });
    const n = notifierFor(`  ops: { type: webhook, url: ${four00.url}, secretFile: ${keyFile}, allowPlaintext: true }`);
    notifiers.push(n);
    const err = await failureOf(n.channel('ops')!.send(n.prepare(event())));
    expect({ retryable: err.retryable, status: err.status }).toEqual({ retryable: false, status: 400 });
    await four00.close();
  });

  it('a closed port is a retryable network failure', async () => {
    const gone = await startJsonReceiver();
    await gone.close();
    const n = notifierFor(`  ops: { type: webhook, url: ${gone.url}, secretFile: ${keyFile}, allowPlaintext: true }`);
    notifiers.push(n);
    const err = await failureOf(n.channel('ops')!.send(n.prepare(event())));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('https: a pinned certificate and a CA file are trusted; an unknown certificate is refused, not retried', async () => {
    const tls = await startWebhookReceiver({ secret: KEY, tls: true });
    const caFile = write('receiver-ca.pem', tls.caPem!);
    const pinned = notifierFor(`  ops: { type: webhook, url: ${tls.url}, secretFile: ${keyFile}, tlsPinSha256: "${tls.pin}" }`);
    const byCa = notifierFor(`  ops: { type: webhook, url: ${tls.url}, secretFile: ${keyFile}, caFile: ${caFile} }`);
    const untrusted = notifierFor(`  ops: { type: webhook, url: ${tls.url}, secretFile: ${keyFile} }`);
    notifiers.push(pinned, byCa, untrusted);
    await expect(pinned.channel('ops')!.send(pinned.prepare(event()))).resolves.toMatchObject({ outcome: 'sent' });
    await expect(byCa.channel('ops')!.send(byCa.prepare(event()))).resolves.toMatchObject({ outcome: 'sent' });
    const err = await failureOf(untrusted.channel('ops')!.send(untrusted.prepare(event())));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`tlsPinSha256=${tls.pin}`);
    expect(err.message).not.toContain('CCS_');
    expect(tls.events()).toHaveLength(2);
    await tls.close();
  });
});

describe('slack and teams channels', () => {
  it('POST Block Kit and an Adaptive Card to the URL read from the file', async () => {
    const receiver = await startJsonReceiver();
    const slackFile = write('slack-url', `${receiver.url}/services/T0/B0/SECRET\n`);
    const teamsFile = write('teams-url', `${receiver.url}/workflows/abc?sig=SECRET2\n`);
    const n = notifierFor(
      `  chat: { type: slack, urlFile: ${slackFile}, allowPlaintext: true }\n  room: { type: teams, urlFile: ${teamsFile}, allowPlaintext: true }`,
    );
    try {
      await expect(n.channel('chat')!.send(n.prepare(event()))).resolves.toMatchObject({ outcome: 'sent', status: 200 });
      await expect(n.channel('room')!.send(n.prepare(event()))).resolves.toMatchObject({ outcome: 'sent', status: 200 });
      const [slack, teams] = receiver.bodies as { path: string; type: string; body: Record<string, unknown> }[];
      expect(slack!.path).toBe('/services/T0/B0/SECRET');
      expect((slack!.body.blocks as { type: string }[]).map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context']);
      expect(teams!.path).toBe('/workflows/abc?sig=SECRET2');
      expect(teams!.body).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
      // The URL is the credential: it never shows in an error.
      await receiver.close();
      const err = await failureOf(n.channel('chat')!.send(n.prepare(event())));
      expect(err.message).not.toContain('SECRET');
    } finally {
      await n.close();
      await receiver.close();
    }
  });
});

describe('pagerduty channel', () => {
  let pd: PagerDutyReceiver;
  beforeAll(async () => {
    pd = await startPagerDutyReceiver({ routingKey: ROUTING_KEY });
  });
  afterAll(() => pd.close());

  it('triggers once per dedup key, resolves it, and skips events that open no incident', async () => {
    const n = notifierFor(`  pager: { type: pagerduty, url: ${pd.enqueueUrl}, routingKeyFile: ${pdKeyFile}, allowPlaintext: true }`);
    try {
      const send = (e: NotificationEvent) => n.channel('pager')!.send(n.prepare(e));
      const trigger = event({ incident: { action: 'trigger', key: 'ccs-job/pd' } });
      await expect(send(trigger)).resolves.toMatchObject({ outcome: 'sent', status: 202 });
      await expect(send(trigger)).resolves.toMatchObject({ outcome: 'sent' });
      await expect(send(event({ type: 'run.completed', incident: { action: 'none', key: 'ccs-job/pd' } }))).resolves.toEqual({
        outcome: 'skipped',
        detail: 'the event opens or closes no incident',
      });
      await send(event({ type: 'run.attention_cleared', severity: 'info', incident: { action: 'resolve', key: 'ccs-job/pd' } }));
      expect(pd.incidents()).toEqual([expect.objectContaining({ dedupKey: 'ccs-job/pd', status: 'resolved', triggers: 2, resolves: 1 })]);
      expect(pd.deduplicated).toBe(1);
      expect(pd.invalid).toBe(0);
      expect(JSON.stringify(pd.events())).not.toContain(PASSWORD);
    } finally {
      await n.close();
    }
  });

  it('`notify test` opens an incident and resolves it at once, so the routing key is proven and nothing stays open', async () => {
    const file = write(
      'pd-notify.yaml',
      `channels:\n  pager: { type: pagerduty, url: ${pd.enqueueUrl}, routingKeyFile: ${pdKeyFile}, allowPlaintext: true }\nrules: []\n`,
    );
    let printed = '';
    const code = await notifyTest('pager', true, { write: (t) => void (printed += t), isTTY: false }, { NOTIFICATIONS_FILE: file });
    const report = JSON.parse(printed) as { ok: boolean; eventId: string };
    expect({ code, ok: report.ok }).toEqual({ code: 0, ok: true });
    expect(pd.incidents().find((i) => i.dedupKey === report.eventId)).toMatchObject({ status: 'resolved', triggers: 1, resolves: 1 });
  });

  it('a wrong routing key is refused (400), not retried', async () => {
    const wrong = write('pd-wrong', 'another-routing-key-000000000000');
    const n = notifierFor(`  pager: { type: pagerduty, url: ${pd.enqueueUrl}, routingKeyFile: ${wrong}, allowPlaintext: true }`);
    try {
      const err = await failureOf(n.channel('pager')!.send(n.prepare(event())));
      expect({ retryable: err.retryable, status: err.status }).toEqual({ retryable: false, status: 400 });
      expect(err.message).not.toContain('another-routing-key');
    } finally {
      await n.close();
    }
  });
});

describe('the notification activities', () => {
  const env = () => new MockActivityEnvironment({ attempt: 3, taskQueue: 'tq' }, { logger: new DefaultLogger('ERROR') });

  it('sendNotification: 429 with Retry-After is a retryable NotificationDeliveryFailed whose next retry waits; 400 is NotificationRefused', async () => {
    const receiver = await startJsonReceiver();
    await receiver.close();
    const retryAfter = createServer((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'));
    await new Promise<void>((r) => retryAfter.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(retryAfter.address() as AddressInfo).port}`;
    const n = notifierFor(
      `  slow: { type: webhook, url: ${url}, secretFile: ${keyFile}, allowPlaintext: true }`,
      'rules: [{ events: [run.failed], channels: [slow] }]',
    );
    const counted: string[] = [];
    const acts = createNotificationActivities({ notifier: n, metrics: { sent: (c, t) => counted.push(`${c}:${t}`) } });
    try {
      const err = (await env()
        .run((i: SendNotificationInput) => acts.sendNotification(i), { event: event(), channel: 'slow' })
        .catch((e: unknown) => e)) as ApplicationFailure;
      expect({ type: err.type, nonRetryable: err.nonRetryable, nextRetryDelay: err.nextRetryDelay, details: err.details }).toEqual({
        type: 'NotificationDeliveryFailed',
        nonRetryable: false,
        nextRetryDelay: 7000,
        details: [{ attempt: 3, status: 429 }],
      });
      const missing = (await env()
        .run((i: SendNotificationInput) => acts.sendNotification(i), { event: event(), channel: 'nope' })
        .catch((e: unknown) => e)) as ApplicationFailure;
      expect({ type: missing.type, nonRetryable: missing.nonRetryable }).toEqual({ type: 'NotificationRefused', nonRetryable: true });
      expect(counted).toEqual([]);
    } finally {
      await n.close();
      await new Promise<void>((r) => {
        retryAfter.close(() => r());
        retryAfter.closeAllConnections();
      });
    }
  });

  it('recordNotificationGivenUp: counted once, one evidence record naming the run, scrubbed, kept once across retries', async () => {
    const sink = new JsonlEvidenceSink<EvidenceContent>(tempDir('ccs-notify-evidence-'));
    const failed: string[] = [];
    const n = notifierFor(`  ops: { type: webhook, url: http://127.0.0.1:9/x, secretFile: ${keyFile}, allowPlaintext: true }`);
    const acts = createNotificationActivities({
      notifier: n,
      evidence: sink,
      metrics: { failed: (c) => failed.push(c) },
      workerVersion: 't',
    });
    const e = event();
    const input: NotificationGivenUpInput = { event: e, channel: 'ops', attempts: 42, lastError: `answered 400: bad password ${PASSWORD}` };
    const run = (attempt: number) =>
      new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run(
        (i: NotificationGivenUpInput) => acts.recordNotificationGivenUp(i),
        input,
      );
    try {
      await expect(run(1)).resolves.toEqual({ recorded: true });
      await expect(run(2)).resolves.toEqual({ recorded: true });
      expect(failed).toEqual(['ops']);
      const records: EvidenceContent[] = [];
      for await (const r of sink.records()) if (r) records.push(r);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        key: `notification-given-up/${e.id}/ops`,
        kind: 'notification',
        workflowId: e.workflowId,
        runId: e.runId,
        notification: { eventId: e.id, eventType: 'run.failed', channel: 'ops', attempts: 42 },
      });
      expect(JSON.stringify(records[0])).not.toContain(PASSWORD);
    } finally {
      await n.close();
    }
  });

  it('announceNotification queues one delivery workflow per matching channel, exactly once across retries', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection });
    const taskQueue = `notify-announce-${Math.random().toString(36).slice(2)}`;
    const n = notifierFor(
      `  a: { type: webhook, url: http://127.0.0.1:9/x, secretFile: ${keyFile}, allowPlaintext: true }\n  b: { type: webhook, url: http://127.0.0.1:9/y, secretFile: ${keyFile}, allowPlaintext: true }`,
      'rules: [{ events: [run.failed], channels: [a, b] }, { events: [run.late], channels: [b] }]',
    );
    const acts = createNotificationActivities({ notifier: n });
    const e = event();
    const mock = () => new MockActivityEnvironment({ taskQueue }, { logger: new DefaultLogger('ERROR'), client });
    try {
      await expect(mock().run((i: AnnounceNotificationInput) => acts.announceNotification(i), { event: e })).resolves.toEqual({
        channels: ['a', 'b'],
      });
      // A retried announce (the first attempt's answer lost) queues nothing new.
      await expect(mock().run((i: AnnounceNotificationInput) => acts.announceNotification(i), { event: e })).resolves.toEqual({
        channels: ['a', 'b'],
      });
      for (const channel of ['a', 'b']) {
        const handle = client.workflow.getHandle(deliveryWorkflowId(e.id, channel));
        const described = await handle.describe();
        expect({ type: described.type, taskQueue: described.taskQueue }).toEqual({ type: 'deliverCcsNotification', taskQueue });
        const history = await handle.fetchHistory();
        const input = client.options.loadedDataConverter.payloadConverter.fromPayload<DeliverNotificationInput>(
          history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
        );
        expect(input).toMatchObject({ channel, giveUpAfterMs: 86_400_000, maxRetryIntervalMs: 20_000 });
        expect(input.event.id).toBe(e.id);
        // Scrubbed before it entered the history.
        expect(JSON.stringify(input)).not.toContain(PASSWORD);
        const runs = await client.workflow.count(`WorkflowId = '${deliveryWorkflowId(e.id, channel)}'`);
        expect(runs.count).toBe(1);
        await handle.terminate('test done');
      }
      await expect(
        mock().run((i: AnnounceNotificationInput) => acts.announceNotification(i), { event: event({ type: 'run.completed' }) }),
      ).resolves.toEqual({ channels: [] });
      // A Completed run of a watched schedule is told to its watchdog (no worker polls this queue: the signal stays in its history).
      const schedule = `nightly-${Math.random().toString(36).slice(2)}`;
      const watchdog = await client.workflow.start('ccsScanWatch', { workflowId: scanWatchWorkflowId(schedule), taskQueue, args: [] });
      const seen: [string, number][] = [];
      const watched = createNotificationActivities({ notifier: n, metrics: { scanSucceeded: (s, at) => seen.push([s, at]) } });
      const done = event({ type: 'run.completed', schedule, incident: { action: 'none', key: 'k' } });
      await mock().run((i: AnnounceNotificationInput) => watched.announceNotification(i), { event: done });
      const signalled = (await watchdog.fetchHistory()).events!.find((h) => h.workflowExecutionSignaledEventAttributes);
      expect(signalled?.workflowExecutionSignaledEventAttributes?.signalName).toBe('scanSucceeded');
      expect(seen).toEqual([[schedule, Date.parse(done.time) / 1000]]);
      await watchdog.terminate('test done');
      // A schedule without a watchdog is not an error.
      await expect(
        mock().run((i: AnnounceNotificationInput) => watched.announceNotification(i), { event: { ...done, schedule: 'unwatched' } }),
      ).resolves.toEqual({ channels: [] });
      const off = createNotificationActivities({});
      await expect(mock().run((i: AnnounceNotificationInput) => off.announceNotification(i), { event: e })).resolves.toEqual({
        channels: [],
      });
    } finally {
      await n.close();
      await connection.close();
    }
  });
});
