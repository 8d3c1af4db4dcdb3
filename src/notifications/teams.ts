/**
 * `type: teams`: a Teams incoming webhook or Workflows ("Post to a channel when a webhook request
 * is received") with an Adaptive Card in the `attachments` envelope both accept.
 */
import type { NotificationEvent } from '../domain/notifications';
import type { ChannelSender } from './channel';
import type { ChatChannelConfig } from './config';
import { eventDetailText, eventFacts } from './format';
import { chatChannel } from './slack';

export function teamsMessage(event: NotificationEvent): Record<string, unknown> {
  const detail = eventDetailText(event);
  const actions = [
    ...(event.links?.temporalUi ? [{ type: 'Action.OpenUrl', title: 'Temporal UI', url: event.links.temporalUi }] : []),
    ...(event.links?.evidence ? [{ type: 'Action.OpenUrl', title: 'Evidence', url: event.links.evidence }] : []),
  ];
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body: [
      {
        type: 'TextBlock',
        text: event.summary,
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
        color: event.severity === 'critical' ? 'Attention' : event.severity === 'warning' ? 'Warning' : 'Default',
      },
      { type: 'FactSet', facts: eventFacts(event).map(([title, value]) => ({ title, value })) },
      ...(detail ? [{ type: 'TextBlock', text: detail, wrap: true, fontType: 'Monospace', size: 'Small' }] : []),
      { type: 'TextBlock', text: `event ${event.id}`, isSubtle: true, size: 'Small', wrap: true },
    ],
    ...(actions.length > 0 ? { actions } : {}),
  };
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

export function createTeamsChannel(name: string, config: ChatChannelConfig, maxRetryAfterMs: number): ChannelSender {
  return chatChannel(name, 'teams', config, maxRetryAfterMs, teamsMessage);
}
