/**
 * The email channel's pure parts: the message built from an event (escaping, stable ids and bytes)
 * and how an SMTP failure is classified and scrubbed. The conversation itself is tested against a
 * real SMTP server in test/integration/notification-email.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { NotificationEvent } from '../../src/domain/notifications';
import { emailContent, escapeHtml, messageIdFor } from '../../src/notifications/email-message';
import { scrubSmtpText, smtpDeliveryError } from '../../src/notifications/email';
import { testEvent, TEST_EVENT_SUMMARY } from '../../src/cli/notify';

const base: NotificationEvent = {
  id: 'ev-1',
  type: 'run.late',
  time: '2026-12-01T02:00:00.000Z',
  summary: 'Late: job <b>Nightly</b>\r\nBcc: victim@example.test',
  severity: 'warning',
  incident: { action: 'none', key: 'ev-1' },
  workflowId: 'wf',
  runId: 'r1',
  workflowType: 'runCcsJob',
  details: { expected: '1h', elapsedMs: 7_200_000, overdue: true, note: null },
  links: { temporalUi: 'javascript:alert(1)', evidence: 'https://evidence.example.test/wf/r1?a=1&b="2"' },
};

describe('the email built from an event', () => {
  it('keeps the subject on one line (no header injection) and escapes every field in the HTML', () => {
    const c = emailContent(base, '[CCS]');
    expect(c.subject).toBe('[CCS] Late: job <b>Nightly</b> Bcc: victim@example.test');
    expect(c.html).not.toContain('<b>Nightly');
    expect(c.html).toContain('&lt;b&gt;Nightly&lt;/b&gt;');
    expect(c.html).toContain('href="https://evidence.example.test/wf/r1?a=1&amp;b=&quot;2&quot;"');
    expect(c.html + c.text).not.toContain('javascript:');
    expect(c.text).toContain('elapsedMs:');
    expect(c.text).toContain('7200000');
    expect(c.text).toContain('note:');
    expect(c.headers).toEqual({ 'X-Ccs-Event-Id': 'ev-1', 'X-Ccs-Event-Type': 'run.late' });
  });

  it('is the same for the same event (Date from the event, boundary from its id) and differs between events', () => {
    expect(emailContent(base, '[CCS]')).toEqual(emailContent({ ...base }, '[CCS]'));
    expect(emailContent(base, '[CCS]').date.toISOString()).toBe(base.time);
    expect(emailContent({ ...base, id: 'ev-2' }, '[CCS]').baseBoundary).not.toBe(emailContent(base, '[CCS]').baseBoundary);
    expect(emailContent({ ...base, time: 'not a time' }, '[CCS]').date.getTime()).toBe(0);
  });

  it('gives a Message-ID per event id that is valid and never the same for two ids', () => {
    expect(messageIdFor('ccs-notify/abc')).toBe('<ccs-notify/abc@ccs-job-orchestrator>');
    const ids = ['a.b', 'a%2Eb', 'a b', 'a<b>', '.lead', 'a..b', 'é', 'a@b', 'a:b'];
    const messageIds = ids.map(messageIdFor);
    expect(new Set(messageIds).size).toBe(ids.length);
    for (const m of messageIds) expect(m).toMatch(/^<[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+@ccs-job-orchestrator>$/);
  });

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('the notify test event: type test, fresh id, no workflow, no incident', () => {
    const a = testEvent('ops');
    const b = testEvent('ops');
    expect(a).toMatchObject({
      type: 'test',
      summary: TEST_EVENT_SUMMARY,
      incident: { action: 'none' },
      workflowId: '',
      details: { channel: 'ops' },
    });
    expect(a.id).not.toBe(b.id);
    expect(emailContent(a, '[CCS]').text).not.toContain('Workflow:');
  });
});

describe('SMTP failures', () => {
  const origin = 'smtp://mail.example.test:587';
  const smtp = (fields: Record<string, unknown>): Error =>
    Object.assign(new Error(typeof fields.message === 'string' ? fields.message : 'failed'), fields);

  it.each([
    [{ code: 'EENVELOPE', responseCode: 451, response: '451 4.3.0 try later' }, true, 451],
    [{ code: 'EMESSAGE', responseCode: 452, response: '452 insufficient storage' }, true, 452],
    [{ code: 'EAUTH', responseCode: 454, response: '454 temporary auth failure' }, true, 454],
    [{ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 bad credentials' }, false, 535],
    [{ code: 'EENVELOPE', responseCode: 550, response: '550 mailbox unavailable' }, false, 550],
    [{ code: 'EMESSAGE', responseCode: 552, response: '552 too big' }, false, 552],
    [{ code: 'ETLS', responseCode: 502, response: '502 command not implemented', command: 'STARTTLS' }, false, 502],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED' }, true, undefined],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, true, undefined],
    [{ code: 'ESOCKET', message: 'read ECONNRESET' }, true, undefined],
    [{ code: 'EDNS', message: 'getaddrinfo EAI_AGAIN' }, true, undefined],
    [{ code: 'EAUTH', message: 'Missing credentials for "PLAIN"' }, false, undefined],
    [{ code: 'EENVELOPE', message: 'No recipients defined' }, false, undefined],
  ])('%o → retryable %s, status %s', (fields, retryable, status) => {
    const err = smtpDeliveryError(origin, smtp(fields), []);
    expect(err.name).toBe('NotificationDeliveryError');
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.message.startsWith(`email via ${origin}: `)).toBe(true);
    expect(err.cause).toBeUndefined();
  });

  it('names the fix when the server does not offer STARTTLS', () => {
    const err = smtpDeliveryError(
      origin,
      smtp({ code: 'ETLS', responseCode: 500, response: '500 unknown command', command: 'STARTTLS' }),
      [],
    );
    expect(err.message).toContain('allowPlaintext: true');
  });

  it('cuts every wire form of the password out of a server answer, bounded and on one line', () => {
    const pass = 'hunter2-secret';
    const forms = [pass, Buffer.from(pass).toString('base64'), Buffer.from(`\0user\0${pass}`).toString('base64')];
    const err = smtpDeliveryError(
      origin,
      smtp({ code: 'EAUTH', responseCode: 535, response: `535 no: ${forms.join(' ')}\r\nmore` }),
      forms,
    );
    for (const f of forms) expect(err.message).not.toContain(f);
    expect(err.message).not.toMatch(/[\r\n]/);
    expect(scrubSmtpText('x'.repeat(1000), [])).toHaveLength(300);
  });
});
