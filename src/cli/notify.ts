/**
 * `ccs-jobs notify test --channel NAME`: one `test` event sent straight to one channel of
 * NOTIFICATIONS_FILE from this process, through the same sender, scrubbing and links a worker uses,
 * so a wrong URL, key, password or certificate shows now rather than at the first failed scan. No
 * Temporal connection is needed, and nothing is retried: the one attempt's answer is the result.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { NotificationEventType, type NotificationEvent } from '../domain/notifications';
import { createNotifier, notificationsFromFile, NotificationDeliveryError, type SendResult } from '../notifications';
import { CliError, ExitCode } from './output';
import type { Out } from './progress';
import { printable } from './terminal-text';

export const TEST_EVENT_SUMMARY = 'Test notification from ccs-jobs';

/** The longest `notify test` waits, whatever the channel: above every channel's own bound, so theirs speaks first. */
const NOTIFY_TEST_TIMEOUT_MS = 30_000;

const STDOUT: Out = { write: (t) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) };

/** Who asked, as claimed: the local user and host (never verified, like `requestedBy`). */
function requester(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `ccs-jobs@${hostname()}`;
  }
}

/** A fresh `test` event for `channel`: never routed by rules, tied to no workflow; opens no incident (PagerDuty's test opens and resolves one). */
export function testEvent(channel: string, now = new Date()): NotificationEvent {
  const id = `test-${randomUUID()}`;
  return {
    id,
    type: NotificationEventType.Test,
    time: now.toISOString(),
    summary: TEST_EVENT_SUMMARY,
    severity: 'info',
    incident: { action: 'none', key: id },
    // No workflow: empty ids keep the worker from linking to one in the Temporal UI.
    workflowId: '',
    runId: '',
    workflowType: 'ccs-jobs notify test',
    startedBy: requester(),
    details: { channel },
  };
}

interface NotifyTestReport {
  ok: boolean;
  eventId: string;
  channel: string;
  channelType: string;
  elapsedMs: number;
  outcome?: SendResult['outcome'];
  status?: number;
  detail?: string;
  error?: string;
  retryable?: boolean;
}

function line(r: NotifyTestReport): string {
  const status = r.status === undefined ? '' : `${r.status} `;
  if (r.ok) return `sent test event ${r.eventId} to ${r.channel} (${r.channelType}, ${status}in ${r.elapsedMs} ms)`;
  if (r.outcome === 'skipped')
    return `test event ${r.eventId} to ${r.channel} (${r.channelType}) was not sent: the channel skipped it${r.detail ? ` (${r.detail})` : ''}`;
  const retry = r.retryable === undefined ? '' : r.retryable ? ', would be retried' : ', not retryable';
  return `test event ${r.eventId} to ${r.channel} failed (${r.channelType}${r.status === undefined ? '' : `, ${r.status}`}${retry}, in ${r.elapsedMs} ms): ${r.error ?? 'unknown error'}`;
}

/**
 * Sends one test event to `channel` and prints one line (or, with `json`, one object): exit 0 when the
 * receiver accepted it, 1 when it refused, failed or the channel sent nothing. A missing or invalid
 * NOTIFICATIONS_FILE, or an unknown channel, is a CliError (exit 1). Safe to repeat: each run is a new event.
 */
export async function notifyTest(
  channel: string,
  json: boolean,
  out: Out = STDOUT,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const file = env.NOTIFICATIONS_FILE;
  if (!file) throw new CliError('NOTIFICATIONS_FILE is not set: name the YAML or JSON file of channels and rules the workers use');
  const problems: string[] = [];
  const config = notificationsFromFile(file, env, problems);
  if (!config || problems.length > 0) throw new CliError(problems.join('\n') || `NOTIFICATIONS_FILE ${file}: cannot be read`);
  const settings = config.channels[channel];
  if (!settings) {
    const known = Object.keys(config.channels);
    throw new CliError(
      `no channel ${printable(JSON.stringify(channel))} in NOTIFICATIONS_FILE ${file}; its channels: ${known.join(', ') || 'none'}`,
    );
  }
  const notifier = createNotifier({
    config,
    links: { temporalUiUrl: env.TEMPORAL_UI_URL, namespace: env.TEMPORAL_NAMESPACE ?? 'default', evidenceUrl: env.EVIDENCE_URL },
  });
  const event = notifier.prepare(testEvent(channel));
  const report: NotifyTestReport = { ok: false, eventId: event.id, channel, channelType: settings.type, elapsedMs: 0 };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NOTIFY_TEST_TIMEOUT_MS);
  const started = performance.now();
  try {
    const sender = notifier.channel(channel);
    if (!sender) throw new Error(`channel ${channel} has no sender`);
    // PagerDuty sends only what opens or closes an incident: the test opens one and resolves it at once,
    // so the routing key is proven without leaving an incident for somebody to close by hand.
    const incidents = settings.type === 'pagerduty';
    const first = incidents ? { ...event, incident: { action: 'trigger' as const, key: event.id } } : event;
    let result = await sender.send(first, abort.signal);
    if (incidents && result.outcome === 'sent')
      result = await sender.send({ ...first, incident: { action: 'resolve', key: event.id } }, abort.signal);
    Object.assign(report, { ok: result.outcome === 'sent', outcome: result.outcome, status: result.status, detail: result.detail });
  } catch (err) {
    report.error = printable(notifier.scrub(err instanceof Error ? err.message : String(err)));
    if (err instanceof NotificationDeliveryError) Object.assign(report, { retryable: err.retryable, status: err.status });
  } finally {
    report.elapsedMs = Math.round(performance.now() - started);
    clearTimeout(timer);
    await notifier.close();
  }
  if (report.detail !== undefined) report.detail = printable(notifier.scrub(report.detail));
  out.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${line(report)}\n`);
  return report.ok ? ExitCode.ok : ExitCode.error;
}
