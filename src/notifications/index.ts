/**
 * The notifications a worker delivers: NOTIFICATIONS_FILE's channels built once, its rules, and the
 * scrubbing and links every event gets before it leaves. Without NOTIFICATIONS_FILE there is no
 * notifier and announcing costs nothing.
 */
import type { NotificationEvent } from '../domain/notifications';
import type { ChannelSender } from './channel';
import { channelSecrets, type NotificationsConfig } from './config';
import { createEmailChannel } from './email';
import { eventScrubber, prepareEvent, type EventLinks } from './events';
import { createPagerDutyChannel } from './pagerduty';
import { routeEvent } from './rules';
import { createSlackChannel } from './slack';
import { createTeamsChannel } from './teams';
import { createWebhookChannel } from './webhook';

export type { ChannelSender, ChannelType, SendResult } from './channel';
export { CHANNEL_LIMITS, CHANNEL_TYPES, NotificationDeliveryError } from './channel';
export { notificationsFromFile, type ChannelConfig, type NotificationRule, type NotificationsConfig } from './config';
export { prepareEvent, temporalUiLink } from './events';
export { routeEvent } from './rules';

export interface Notifier {
  readonly config: NotificationsConfig;
  /** Channel names whose rules take `event`. */
  route(event: NotificationEvent): string[];
  channel(name: string): ChannelSender | undefined;
  /** `event` scrubbed, bounded and linked. */
  prepare(event: NotificationEvent): NotificationEvent;
  /** Any text scrubbed of the same secrets (error messages before they are logged or recorded). */
  scrub(text: string): string;
  close(): Promise<void>;
}

export interface NotifierOptions {
  config: NotificationsConfig;
  /** Secrets the worker holds besides the channels' own: CCS passwords, codec keys, API keys. */
  secrets?: Iterable<string>;
  links: EventLinks;
  /** Tests: senders instead of the configured ones, by channel name. */
  senders?: Readonly<Record<string, ChannelSender>>;
}

/** Builds every channel of `config`. Throws nothing: the config was validated when it was loaded. */
export function createNotifier(options: NotifierOptions): Notifier {
  const { config } = options;
  const retryCap = config.delivery.maxRetryIntervalMs;
  const senders: Record<string, ChannelSender> = {};
  for (const [name, c] of Object.entries(config.channels)) {
    const given = options.senders?.[name];
    if (given) senders[name] = given;
    else if (c.type === 'webhook') senders[name] = createWebhookChannel(name, c, retryCap);
    else if (c.type === 'pagerduty') senders[name] = createPagerDutyChannel(name, c, retryCap);
    else if (c.type === 'email') senders[name] = createEmailChannel(name, c);
    else senders[name] = c.type === 'slack' ? createSlackChannel(name, c, retryCap) : createTeamsChannel(name, c, retryCap);
  }
  const scrubber = eventScrubber([...(options.secrets ?? []), ...channelSecrets(config)]);
  return {
    config,
    route: (event) => routeEvent(config.rules, event),
    channel: (name) => senders[name],
    prepare: (event) => prepareEvent(event, scrubber, options.links),
    scrub: (text) => scrubber.scrub(text),
    close: async () => {
      await Promise.all(Object.values(senders).map((s) => s.close?.() ?? Promise.resolve()));
    },
  };
}
