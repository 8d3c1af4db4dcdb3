import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NotificationEvent } from '../../src/domain/notifications';
import { eventScrubber, prepareEvent, temporalUiLink } from '../../src/notifications/events';
import { retryAfterMs } from '../../src/notifications/http';
import { pagerDutyEvent } from '../../src/notifications/pagerduty';
import { routeEvent } from '../../src/notifications/rules';
import { slackMessage } from '../../src/notifications/slack';
import { teamsMessage } from '../../src/notifications/teams';
import { webhookBody, webhookSignature } from '../../src/notifications/webhook';

const PASSWORD = 'Tr0ub4dor&3-ccs';

function faulted(overrides: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    id: 'run.failed:ccs-job/nightly/run-1',
    type: 'run.failed',
    time: '2026-12-01T02:00:00.000Z',
    summary: 'Faulted: job Nightly CER on emea',
    severity: 'critical',
    incident: { action: 'trigger', key: 'ccs-job/nightly' },
    workflowId: 'ccs-job/nightly cer',
    runId: 'run-1',
    workflowType: 'runCcsJob',
    ccs: 'emea',
    job: { id: '3f2b', name: 'Nightly CER' },
    jobRunId: '77',
    status: 'Faulted',
    outcome: 'Faulted',
    errorType: 'CcsJobFaulted',
    // CCS echoed the password it was sent, in two escapings, and a bearer token.
    exception: `Login failed for user svc with password ${PASSWORD} (Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def)`,
    messages: ['m1', 'm2', 'm3', 'm4', 'm5', `retrying with password=${encodeURIComponent(PASSWORD)}`],
    ...overrides,
  };
}

describe('webhook body and signature', () => {
  it('the same event gives the same bytes, whatever the key order, and an HMAC-SHA256 receivers can check', () => {
    const a = faulted();
    const b = Object.fromEntries(Object.entries(a).reverse()) as unknown as NotificationEvent;
    expect(webhookBody(b)).toBe(webhookBody(a));
    expect(JSON.parse(webhookBody(a))).toEqual(a);
    const expected = `sha256=${createHmac('sha256', 'the-key').update(webhookBody(a)).digest('hex')}`;
    expect(webhookSignature(webhookBody(a), 'the-key')).toBe(expected);
    expect(webhookSignature(webhookBody(a), 'other-key')).not.toBe(expected);
  });
});

describe('scrubbing and links', () => {
  const secrets = eventScrubber([PASSWORD, 'hook-secret-key']);
  const links = { temporalUiUrl: 'https://temporal.corp.example/', namespace: 'prod', evidenceUrl: 'https://ev.example/r' };

  it('removes a password CCS echoed in its exception and messages, bounds the messages, adds links', () => {
    const out = prepareEvent(faulted(), secrets, links);
    const text = JSON.stringify(out);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
    expect(text).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(out.exception).toContain('[redacted]');
    expect(out.messages).toHaveLength(5);
    expect(out.messages![0]).toBe('m2');
    expect(out.links).toEqual({
      temporalUi: 'https://temporal.corp.example/namespaces/prod/workflows/ccs-job%2Fnightly%20cer/run-1/history',
      evidence: 'https://ev.example/r/ccs-job%2Fnightly%20cer/run-1',
    });
    expect(out.id).toBe(faulted().id);
    // Deterministic and idempotent: preparing again (every send does) changes nothing.
    expect(prepareEvent(out, secrets, links)).toEqual(out);
    expect(webhookBody(prepareEvent(faulted(), secrets, links))).toBe(webhookBody(out));
  });

  it('bounds long texts and the summary', () => {
    const out = prepareEvent(faulted({ summary: 's'.repeat(1000), exception: 'e'.repeat(5000) }), secrets, { namespace: 'x' });
    expect(out.summary.length).toBe(300);
    expect(out.exception!.length).toBe(500);
    expect(out.links).toBeUndefined();
    expect(temporalUiLink('http://ui:8233', 'default', 'a/b', 'r')).toBe('http://ui:8233/namespaces/default/workflows/a%2Fb/r/history');
  });
});

describe('chat and paging payloads', () => {
  const event = prepareEvent(faulted(), eventScrubber([PASSWORD]), { temporalUiUrl: 'https://ui.example', namespace: 'default' });

  it('Slack: Block Kit with a header, a section of fields and a context with the event id', () => {
    const msg = slackMessage(event) as { text: string; blocks: { type: string; [k: string]: unknown }[] };
    expect(msg.text).toBe(event.summary);
    expect(msg.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: event.summary, emoji: false } });
    const fields = (msg.blocks[1] as unknown as { fields: { type: string; text: string }[] }).fields;
    expect(msg.blocks[1]!.type).toBe('section');
    expect(fields.length).toBeGreaterThan(3);
    expect(fields.length).toBeLessThanOrEqual(10);
    expect(fields[0]).toEqual({ type: 'mrkdwn', text: '*Event*\nrun.failed' });
    expect(msg.blocks.at(-1)).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `event ${event.id}` }] });
    expect(JSON.stringify(msg)).toContain('<https://ui.example/namespaces/default/workflows/');
    expect(JSON.stringify(msg)).not.toContain(PASSWORD);
  });

  it('Teams: an Adaptive Card in the attachments envelope', () => {
    const msg = teamsMessage(event) as { type: string; attachments: { contentType: string; content: Record<string, unknown> }[] };
    expect(msg.type).toBe('message');
    expect(msg.attachments).toHaveLength(1);
    const card = msg.attachments[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const body = card.content.body as { type: string; facts?: { title: string; value: string }[] }[];
    expect(body[0]).toMatchObject({ type: 'TextBlock', text: event.summary, color: 'Attention' });
    expect(body[1]!.facts).toContainEqual({ title: 'JobRunID', value: '77' });
    expect(card.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Temporal UI', url: event.links!.temporalUi }]);
  });

  it('PagerDuty: trigger with payload, resolve with the same dedup key, none not sent', () => {
    const trigger = pagerDutyEvent(event, 'RK')!;
    expect(trigger).toMatchObject({
      routing_key: 'RK',
      event_action: 'trigger',
      dedup_key: 'ccs-job/nightly',
      payload: { summary: event.summary, source: 'ccs:emea', severity: 'critical', timestamp: event.time, class: 'run.failed' },
    });
    expect((trigger.payload as { custom_details: Record<string, unknown> }).custom_details).toMatchObject({
      eventId: event.id,
      JobRunID: '77',
    });
    const resolve = pagerDutyEvent(
      { ...event, type: 'run.attention_cleared', incident: { action: 'resolve', key: 'ccs-job/nightly' } },
      'RK',
    );
    expect(resolve).toEqual({ routing_key: 'RK', event_action: 'resolve', dedup_key: 'ccs-job/nightly' });
    expect(pagerDutyEvent({ ...event, type: 'run.completed', incident: { action: 'none', key: 'x' } }, 'RK')).toBeUndefined();
    expect(pagerDutyEvent({ ...event, severity: 'warning' }, 'RK')!.payload).toMatchObject({ severity: 'warning' });
  });
});

describe('routing', () => {
  const rules = [
    { events: ['run.failed' as const], channels: ['ops', 'pager'] },
    { events: ['run.failed' as const, 'run.late' as const], pipelines: ['nightly scan'], channels: ['ops', 'chat'] },
    { events: ['run.failed' as const], jobs: ['Nightly CER'], ccs: ['apac'], channels: ['apac-team'] },
  ];
  it('adds each matching rule’s channels once, filters by pipeline, job name or id, and server', () => {
    expect(routeEvent(rules, faulted())).toEqual(['ops', 'pager']);
    expect(routeEvent(rules, faulted({ pipeline: 'nightly scan' }))).toEqual(['ops', 'pager', 'chat']);
    expect(routeEvent(rules, faulted({ ccs: 'apac' }))).toEqual(['ops', 'pager', 'apac-team']);
    expect(routeEvent(rules, faulted({ type: 'run.late' }))).toEqual([]);
    expect(routeEvent(rules, faulted({ type: 'test' }))).toEqual([]);
  });
});

describe('Retry-After', () => {
  it('reads seconds and dates, capped at the max retry interval', () => {
    expect(retryAfterMs('30', 600_000)).toBe(30_000);
    expect(retryAfterMs('99999', 600_000)).toBe(600_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 600_000, 0)).toBe(10_000);
    expect(retryAfterMs('soon', 600_000)).toBeUndefined();
    expect(retryAfterMs(undefined, 600_000)).toBeUndefined();
  });
});
