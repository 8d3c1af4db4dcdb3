/**
 * What is done to an event before any channel or log sees it: every string field scrubbed of the
 * secrets the worker holds and of anything shaped like a credential (whatever CCS echoed into an
 * exception or a message), bounded by NOTIFICATION_LIMITS, and given its links. Deterministic: the
 * same event and configuration give the same result, so a retried webhook body is byte-identical.
 */
import { SecretSet } from '../ccs/scrub';
import { boundText, NOTIFICATION_LIMITS, type NotificationEvent } from '../domain/notifications';

export interface EventLinks {
  /** TEMPORAL_UI_URL, e.g. https://temporal.corp.example (no trailing slash needed). */
  temporalUiUrl?: string | undefined;
  /** The namespace the workflows run in, for the Temporal UI link. */
  namespace: string;
  /** EVIDENCE_URL: the base under which an evidence record is served by `<workflowId>/<runId>`. */
  evidenceUrl?: string | undefined;
}

/** Fields that identify, never free text: left as they are so links and deduplication hold. */
const IDENTITY_FIELDS = new Set(['id', 'type', 'time', 'workflowId', 'runId', 'severity', 'links']);

/** Builds the scrubber over the worker's secrets (CCS passwords, its own keys, the channels' secrets). */
export function eventScrubber(secrets: Iterable<string>): SecretSet {
  const set = new SecretSet();
  for (const secret of secrets) if (secret) set.addPassword(secret);
  return set;
}

function scrubValue(value: unknown, secrets: SecretSet, max: number): unknown {
  if (typeof value === 'string') return boundText(secrets.scrubPrefix(value, max + 1), max);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets, max));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrubValue(v, secrets, max)]));
  return value;
}

/** The Temporal UI page of a workflow run's history. */
export function temporalUiLink(base: string, namespace: string, workflowId: string, runId: string): string {
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

/** Where the run's evidence record is served: `<EVIDENCE_URL>/<workflowId>/<runId>`. */
export function evidenceLink(base: string, workflowId: string, runId: string): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}`;
}

/** `event` scrubbed, bounded and linked: what every channel sends and every log line may show. */
export function prepareEvent(event: NotificationEvent, secrets: SecretSet, links: EventLinks): NotificationEvent {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) continue;
    if (IDENTITY_FIELDS.has(key)) out[key] = value;
    else if (key === 'summary') out[key] = scrubValue(value, secrets, NOTIFICATION_LIMITS.summary);
    else if (key === 'messages')
      out[key] = scrubValue((value as string[]).slice(-NOTIFICATION_LIMITS.messages), secrets, NOTIFICATION_LIMITS.text);
    else out[key] = scrubValue(value, secrets, NOTIFICATION_LIMITS.text);
  }
  const linked: NonNullable<NotificationEvent['links']> = {};
  if (links.temporalUiUrl && event.workflowId && event.runId)
    linked.temporalUi = temporalUiLink(links.temporalUiUrl, links.namespace, event.workflowId, event.runId);
  if (links.evidenceUrl && event.workflowId && event.runId)
    linked.evidence = evidenceLink(links.evidenceUrl, event.workflowId, event.runId);
  if (linked.temporalUi || linked.evidence) out.links = linked;
  else delete out.links;
  return out as unknown as NotificationEvent;
}
