/**
 * One notification event as one email: subject, a plain-text body, a small HTML body and the headers
 * receivers deduplicate by. Pure: the same event gives the same message bytes on every retry (the
 * Date is the event's time, the MIME boundary is derived from its id), so a receiver never sees one
 * event with two different bodies.
 */
import { createHash } from 'node:crypto';
import type { NotificationEvent } from '../domain/notifications';

/** The domain part of every Message-ID: fixed, so the id depends on the event alone. */
export const MESSAGE_ID_DOMAIN = 'ccs-job-orchestrator';

/** What MailComposer is given for one event (addresses come from the channel). */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  date: Date;
  headers: Record<string, string>;
  /** Shared part of the multipart boundary: fixed per event, so retries send identical bytes. */
  baseBoundary: string;
}

/** One header line's worth of text: control characters (CR/LF above all: header injection) become spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/**
 * `<id@ccs-job-orchestrator>`: the event id with every character outside RFC 5322's atext
 * percent-escaped (dots too, which may not lead, trail or repeat), so distinct ids stay distinct.
 */
export function messageIdFor(eventId: string): string {
  const local = eventId.replace(/[^A-Za-z0-9!#$&'*+\-/=?^_`{|}~]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  return `<${local}@${MESSAGE_ID_DOMAIN}>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** The event's facts as label → value, in the order a person reads them; absent ones left out. */
export function eventFields(event: NotificationEvent): [string, string][] {
  const fields: [string, string | undefined][] = [
    ['Event', event.type],
    ['Severity', event.severity],
    ['Time', event.time],
    ['Outcome', event.outcome],
    ['Status', event.status],
    ['Error type', event.errorType],
    ['Job', event.job ? (event.job.name ? `${event.job.name} (${event.job.id})` : event.job.id) : undefined],
    ['JobRunID', event.jobRunId],
    ['Pipeline', event.pipeline],
    ['Schedule', event.schedule],
    ['CCS server', event.ccs],
    ['Started by', event.startedBy],
    ['Workflow', event.workflowId ? `${event.workflowType} ${event.workflowId} (run ${event.runId})` : undefined],
    ['Incident', event.incident.action === 'none' ? undefined : `${event.incident.action} ${event.incident.key}`],
    ['Event id', event.id],
  ];
  for (const [key, value] of Object.entries(event.details ?? {})) fields.push([key, value === null ? 'null' : String(value)]);
  return fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** Only http(s) links are shown: anything else in a link field is not a link a person should click. */
function safeLinks(event: NotificationEvent): [string, string][] {
  const links: [string, string | undefined][] = [
    ['Temporal UI', event.links?.temporalUi],
    ['Evidence', event.links?.evidence],
  ];
  return links.filter((l): l is [string, string] => typeof l[1] === 'string' && /^https?:\/\//i.test(l[1]));
}

function textBody(event: NotificationEvent): string {
  const lines = [oneLine(event.summary), ''];
  const fields = eventFields(event);
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) lines.push(`${`${k}:`.padEnd(width + 2)}${oneLine(v)}`);
  if (event.exception) lines.push('', 'Exception:', event.exception);
  if (event.messages && event.messages.length > 0) lines.push('', 'Newest messages:', ...event.messages.map((m) => `- ${oneLine(m)}`));
  const links = safeLinks(event);
  if (links.length > 0) lines.push('', ...links.map(([k, v]) => `${k}: ${v}`));
  lines.push('', `Sent by ccs-job-orchestrator; event id ${oneLine(event.id)}.`);
  return `${lines.join('\n')}\n`;
}

function htmlBody(event: NotificationEvent): string {
  const rows = eventFields(event)
    .map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const parts = [`<p><strong>${escapeHtml(oneLine(event.summary))}</strong></p>`, `<table>\n${rows}\n</table>`];
  if (event.exception) parts.push(`<p>Exception:</p><pre>${escapeHtml(event.exception)}</pre>`);
  if (event.messages && event.messages.length > 0)
    parts.push(`<p>Newest messages:</p><ul>${event.messages.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>`);
  const links = safeLinks(event);
  if (links.length > 0) parts.push(`<p>${links.map(([k, v]) => `<a href="${escapeHtml(v)}">${escapeHtml(k)}</a>`).join(' · ')}</p>`);
  return `<!doctype html>\n<html><body>\n${parts.join('\n')}\n</body></html>\n`;
}

/** The email for `event`, with `subjectPrefix` ("[CCS]") before its summary. */
export function emailContent(event: NotificationEvent, subjectPrefix: string): EmailContent {
  const time = new Date(event.time);
  return {
    subject: oneLine(`${subjectPrefix} ${event.summary}`),
    text: textBody(event),
    html: htmlBody(event),
    messageId: messageIdFor(event.id),
    // An unreadable time must not make the message unsendable: the epoch marks it plainly.
    date: Number.isNaN(time.getTime()) ? new Date(0) : time,
    headers: { 'X-Ccs-Event-Id': oneLine(event.id), 'X-Ccs-Event-Type': event.type },
    baseBoundary: createHash('sha256').update(event.id).digest('hex').slice(0, 24),
  };
}
