/** What chat and paging channels show of an event: a few labelled facts, the same everywhere. */
import type { NotificationEvent } from '../domain/notifications';

/** Label and value pairs, in the order a person reads them; absent facts are left out. */
export function eventFacts(event: NotificationEvent): [string, string][] {
  const facts: [string, string | undefined][] = [
    ['Event', event.type],
    ['Severity', event.severity],
    ['Job', event.job ? (event.job.name ? `${event.job.name} (${event.job.id})` : event.job.id) : undefined],
    ['Pipeline', event.pipeline],
    ['Schedule', event.schedule],
    ['CCS server', event.ccs],
    ['Status', event.status],
    ['Outcome', event.outcome],
    ['Error type', event.errorType],
    ['JobRunID', event.jobRunId],
    ['Started by', event.startedBy],
    ['Workflow', event.workflowId],
    ['Time', event.time],
  ];
  return facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** The exception and newest messages as one short text block, or undefined when there are none. */
export function eventDetailText(event: NotificationEvent): string | undefined {
  const parts = [...(event.exception ? [`Exception: ${event.exception}`] : []), ...(event.messages ?? []).map((m) => `• ${m}`)];
  return parts.length > 0 ? parts.join('\n') : undefined;
}
