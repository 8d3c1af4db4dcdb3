/**
 * The test receivers themselves (test/notification-receivers.ts): a receiver that accepted a bad
 * signature or lost a message would make every notification test pass for the wrong reason.
 */
import { Agent, request } from 'undici';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import {
  failFirst,
  startPagerDutyReceiver,
  startSmtpReceiver,
  startWebhookReceiver,
  webhookSignature,
  type PagerDutyReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../notification-receivers';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function track<T extends { close(): Promise<void> }>(r: T): T {
  open.push(r);
  return r;
}

async function post(url: string, body: string, headers: Record<string, string>, ca?: string): Promise<number> {
  const dispatcher = ca ? new Agent({ connect: { ca } }) : undefined;
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, dispatcher });
  await res.body.text();
  await dispatcher?.close();
  return res.statusCode;
}

describe('webhook receiver', () => {
  it('verifies signatures, follows its script and deduplicates by id', async () => {
    const r: WebhookReceiver = track(await startWebhookReceiver({ secret: 'k', script: failFirst(1, 503) }));
    const body = JSON.stringify({ id: 'e1', type: 'run.completed' });
    const signed = { 'x-ccs-signature': webhookSignature('k', body), 'x-ccs-event-id': 'e1' };
    expect(await post(`${r.url}/hook`, body, signed)).toBe(503);
    expect(await post(`${r.url}/hook`, body, signed)).toBe(200);
    expect(await post(`${r.url}/hook`, body, signed)).toBe(200);
    expect(await post(`${r.url}/hook`, body, { 'x-ccs-signature': webhookSignature('other', body) })).toBe(401);
    const changed = JSON.stringify({ id: 'e1', type: 'run.failed' });
    expect(await post(`${r.url}/hook`, changed, { 'x-ccs-signature': webhookSignature('k', changed) })).toBe(200);
    await r.waitFor((x) => x.requests().length === 5, 1000);
    expect(r.events()).toEqual([{ id: 'e1', type: 'run.completed' }]);
    expect(r.deliveries('e1')).toHaveLength(5);
    expect(r.badSignatures).toBe(1);
    expect(r.bodiesById().get('e1')?.size).toBe(2);
    await expect(r.waitFor((x) => x.events().length > 1, 50)).rejects.toThrow(/not met within 50 ms/);
  });

  it('serves https with a private CA', async () => {
    const r = track(await startWebhookReceiver({ secret: 'k', tls: true }));
    expect(r.url).toMatch(/^https:/);
    expect(r.pin).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const body = JSON.stringify({ id: 'e2' });
    expect(await post(r.url, body, { 'x-ccs-signature': webhookSignature('k', body) }, r.caPem)).toBe(200);
    await expect(post(r.url, body, {})).rejects.toThrow();
  });
});

describe('PagerDuty receiver', () => {
  it('opens on trigger, deduplicates repeats, closes on resolve', async () => {
    const r: PagerDutyReceiver = track(await startPagerDutyReceiver({ routingKey: 'rk' }));
    const trigger = JSON.stringify({
      routing_key: 'rk',
      event_action: 'trigger',
      dedup_key: 'run-1',
      payload: { summary: 's', source: 'x', severity: 'warning' },
    });
    expect(await post(r.enqueueUrl, trigger, {})).toBe(202);
    expect(await post(r.enqueueUrl, trigger, {})).toBe(202);
    expect(await post(r.enqueueUrl, JSON.stringify({ routing_key: 'wrong', event_action: 'trigger', dedup_key: 'x' }), {})).toBe(400);
    await r.waitFor((x) => x.incidents().length === 1 && x.deduplicated === 1, 1000);
    expect(await post(r.enqueueUrl, JSON.stringify({ routing_key: 'rk', event_action: 'resolve', dedup_key: 'run-1' }), {})).toBe(202);
    await r.waitFor((x) => x.incidents()[0]?.status === 'resolved', 1000);
    expect(r.incidents()).toMatchObject([{ dedupKey: 'run-1', triggers: 2, resolves: 1, status: 'resolved' }]);
    expect(r.invalid).toBe(1);
  });

  it('applies an event whose answer it loses, so the repeat is deduplicated', async () => {
    const r = track(await startPagerDutyReceiver({ loseAnswer: (_e, n) => n.count === 1 }));
    const trigger = JSON.stringify({
      routing_key: 'k',
      event_action: 'trigger',
      dedup_key: 'd',
      payload: { summary: 's', source: 'x', severity: 'info' },
    });
    expect(await post(r.enqueueUrl, trigger, {})).toBe(500);
    expect(await post(r.enqueueUrl, trigger, {})).toBe(202);
    expect(r.incidents()).toMatchObject([{ dedupKey: 'd', triggers: 2, status: 'triggered' }]);
    expect([r.lostAnswers, r.deduplicated]).toEqual([1, 1]);
  });
});

describe('SMTP receiver', () => {
  it('requires STARTTLS and AUTH, follows its script and parses what nodemailer sends', async () => {
    const r: SmtpReceiver = track(await startSmtpReceiver({ user: 'u', password: 'p', script: failFirst(1, 451, 250) }));
    const transport = (password: string) =>
      nodemailer.createTransport({
        host: r.host,
        port: r.port,
        secure: false,
        requireTLS: true,
        auth: { user: 'u', pass: password },
        tls: { ca: r.caPem, servername: 'localhost' },
      });
    const mail = {
      from: 'ccs@example.test',
      to: 'ops@example.test',
      subject: 'Faulted: job “Nightly”',
      text: 'line one\nline two é',
      headers: { 'X-Ccs-Event-Id': 'ev-1' },
      messageId: '<ev-1@ccs>',
    };
    const good = transport('p');
    await expect(good.sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
    await good.sendMail(mail);
    await expect(transport('bad').sendMail(mail)).rejects.toMatchObject({ responseCode: 535 });
    good.close();
    await r.waitFor((x) => x.messages().length === 1 && x.badAuth === 1, 2000);
    expect(r.attempts()).toHaveLength(2);
    const [m] = r.messages();
    expect(m).toMatchObject({ eventId: 'ev-1', messageId: '<ev-1@ccs>', subject: mail.subject, user: 'u', secure: true });
    expect(m?.text.trim()).toBe(mail.text);
    expect(m?.envelope).toEqual({ from: 'ccs@example.test', to: ['ops@example.test'] });
  });
});
