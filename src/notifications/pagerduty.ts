/**
 * `type: pagerduty`: PagerDuty Events API v2. `dedup_key` is the event's incident key, so a trigger
 * and its resolve (`run.attention` → `run.attention_cleared`, `scan.missed` → `scan.recovered`) are
 * one incident and a repeated trigger is one alert. Events that open no incident are not sent.
 */
import type { NotificationEvent } from '../domain/notifications';
import { readPassword } from '../hosting/config/values';
import type { ChannelSender, SendResult } from './channel';
import type { PagerDutyChannelConfig } from './config';
import { eventFacts } from './format';
import { HttpPoster } from './http';

/** The Events API v2 body for `event`, or undefined when its incident action is `none`. */
export function pagerDutyEvent(event: NotificationEvent, routingKey: string): Record<string, unknown> | undefined {
  const action = event.incident.action;
  if (action === 'none') return undefined;
  const body: Record<string, unknown> = { routing_key: routingKey, event_action: action, dedup_key: event.incident.key };
  // A resolve needs only the key; a trigger says what happened.
  if (action === 'trigger') {
    body.payload = {
      summary: event.summary.slice(0, 1024),
      source: event.ccs ? `ccs:${event.ccs}` : 'ccs-job-orchestrator',
      severity: event.severity === 'info' ? 'info' : event.severity,
      timestamp: event.time,
      component: event.job?.name ?? event.pipeline ?? event.schedule ?? event.workflowType,
      group: event.pipeline ?? event.schedule,
      class: event.type,
      custom_details: {
        ...Object.fromEntries(eventFacts(event)),
        eventId: event.id,
        ...(event.exception ? { exception: event.exception } : {}),
        ...(event.messages?.length ? { messages: event.messages } : {}),
        ...(event.details ? { details: event.details } : {}),
      },
    };
    const links = [
      ...(event.links?.temporalUi ? [{ href: event.links.temporalUi, text: 'Temporal UI' }] : []),
      ...(event.links?.evidence ? [{ href: event.links.evidence, text: 'Evidence' }] : []),
    ];
    if (links.length > 0) body.links = links;
    body.client = 'ccs-job-orchestrator';
  }
  return body;
}

export function createPagerDutyChannel(name: string, config: PagerDutyChannelConfig, maxRetryAfterMs: number): ChannelSender {
  const poster = new HttpPoster(name, config.tls, maxRetryAfterMs);
  let key = config.routingKey;
  return {
    name,
    type: 'pagerduty',
    async send(event: NotificationEvent, signal?: AbortSignal): Promise<SendResult> {
      const body = pagerDutyEvent(event, key);
      if (!body) return { outcome: 'skipped', detail: 'the event opens or closes no incident' };
      key = readPassword('routingKeyFile', config.routingKeyFile, [])?.trim() || key;
      body.routing_key = key;
      return poster.post({
        url: config.url,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'user-agent': 'ccs-job-orchestrator' },
        signal,
      });
    },
    close: () => poster.close(),
  };
}
