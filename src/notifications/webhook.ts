/**
 * `type: webhook`: the event as JSON, signed. The body is the event's canonical JSON (keys sorted,
 * no undefined), so every retry of an event sends the same bytes and the same signature: a receiver
 * can verify it and deduplicate by `X-Ccs-Event-Id`.
 */
import { createHmac } from 'node:crypto';
import type { NotificationEvent } from '../domain/notifications';
import { canonicalJson } from '../evidence/chain';
import { readPassword } from '../hosting/config/values';
import type { ChannelSender, SendResult } from './channel';
import type { WebhookChannelConfig } from './config';
import { HttpPoster } from './http';

/** The body a webhook receives for `event`: byte-identical for the same event. */
export function webhookBody(event: NotificationEvent): string {
  return canonicalJson(event);
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as sent in `X-Ccs-Signature`. */
export function webhookSignature(body: string, key: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}

export function createWebhookChannel(name: string, config: WebhookChannelConfig, maxRetryAfterMs: number): ChannelSender {
  const poster = new HttpPoster(name, config.tls, maxRetryAfterMs);
  let key = config.secret;
  return {
    name,
    type: 'webhook',
    async send(event: NotificationEvent, signal?: AbortSignal): Promise<SendResult> {
      // A rotated key applies from the next attempt; an unreadable file keeps the last one.
      if (config.secretFile) key = readPassword('secretFile', config.secretFile, [])?.trim() || key;
      const body = webhookBody(event);
      return poster.post({
        url: config.url,
        body,
        headers: {
          'content-type': 'application/json',
          'x-ccs-event-id': event.id,
          'x-ccs-event-type': event.type,
          'x-ccs-signature': webhookSignature(body, key),
          'user-agent': 'ccs-job-orchestrator',
        },
        signal,
      });
    },
    close: () => poster.close(),
  };
}
