/** Which channels an event goes to: every rule that matches adds its channels, each once, in file order. */
import { NotificationEventType, type NotificationEvent } from '../domain/notifications';
import type { NotificationRule } from './config';

/** Whether `rule` takes `event`: its type is listed, and each filter present names the event's job, pipeline, schedule or server. */
export function ruleMatches(rule: NotificationRule, event: NotificationEvent): boolean {
  if (!rule.events.includes(event.type)) return false;
  const among = (list: readonly string[] | undefined, ...values: (string | undefined)[]): boolean =>
    list === undefined || values.some((v) => v !== undefined && list.includes(v));
  return (
    among(rule.jobs, event.job?.id, event.job?.name) &&
    among(rule.pipelines, event.pipeline) &&
    among(rule.schedules, event.schedule) &&
    among(rule.ccs, event.ccs)
  );
}

/** The channel names for `event`; a `test` event is never routed (it names its channel). */
export function routeEvent(rules: readonly NotificationRule[], event: NotificationEvent): string[] {
  if (event.type === NotificationEventType.Test) return [];
  const out = new Set<string>();
  for (const rule of rules) if (ruleMatches(rule, event)) for (const c of rule.channels) out.add(c);
  return [...out];
}
