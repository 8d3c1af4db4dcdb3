/**
 * `type: slack`: a Slack incoming webhook with a Block Kit message (a header, a section of fields,
 * the exception and messages, links, and a context line with the event id). The URL is the secret.
 */
import type { NotificationEvent } from '../domain/notifications';
import { readPassword } from '../hosting/config/values';
import type { ChannelSender, SendResult } from './channel';
import type { ChatChannelConfig } from './config';
import { eventDetailText, eventFacts } from './format';
import { HttpPoster } from './http';

/** Slack caps a header at 150 characters, a field at 2000 and a section text at 3000. */
const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** mrkdwn needs &, < and > escaped. */
const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackMessage(event: NotificationEvent): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(event.summary, 150), emoji: false } },
    {
      type: 'section',
      // Slack shows at most 10 fields.
      fields: eventFacts(event)
        .slice(0, 10)
        .map(([label, value]) => ({ type: 'mrkdwn', text: cut(`*${label}*\n${esc(value)}`, 2000) })),
    },
  ];
  const detail = eventDetailText(event);
  if (detail) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(`\`\`\`${esc(detail)}\`\`\``, 3000) } });
  const links = [
    ...(event.links?.temporalUi ? [`<${event.links.temporalUi}|Temporal UI>`] : []),
    ...(event.links?.evidence ? [`<${event.links.evidence}|Evidence>`] : []),
  ];
  if (links.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: links.join(' · ') } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `event ${event.id}` }] });
  return { text: cut(event.summary, 300), blocks };
}

export function createSlackChannel(name: string, config: ChatChannelConfig, maxRetryAfterMs: number): ChannelSender {
  return chatChannel(name, 'slack', config, maxRetryAfterMs, slackMessage);
}

/** Slack and Teams both POST JSON to a secret URL re-read from its file on each send. */
export function chatChannel(
  name: string,
  type: 'slack' | 'teams',
  config: ChatChannelConfig,
  maxRetryAfterMs: number,
  render: (event: NotificationEvent) => unknown,
): ChannelSender {
  const poster = new HttpPoster(name, config.tls, maxRetryAfterMs);
  let url = config.url;
  return {
    name,
    type,
    async send(event: NotificationEvent, signal?: AbortSignal): Promise<SendResult> {
      const fresh = readPassword('urlFile', config.urlFile, [])?.trim();
      if (fresh && /^https:\/\//.test(fresh)) url = fresh;
      return poster.post({
        url,
        body: JSON.stringify(render(event)),
        headers: { 'content-type': 'application/json', 'user-agent': 'ccs-job-orchestrator' },
        signal,
      });
    },
    close: () => poster.close(),
  };
}
