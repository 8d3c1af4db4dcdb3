/** The PagerDuty Events API v2 receiver: incidents by dedup_key (trigger opens, resolve closes, a repeated trigger deduplicates). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { flatHeaders, listen, pinOf, readBody, reply, Waiters, type ReceivedRequest, type Script, type ScriptInput } from './common';

/** One `POST /v2/enqueue` body as PagerDuty reads it. */
export interface PagerDutyEvent {
  routing_key?: string;
  event_action?: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key?: string;
  payload?: { summary?: string; source?: string; severity?: string; custom_details?: unknown; [k: string]: unknown };
  links?: unknown[];
  [k: string]: unknown;
}

export interface PagerDutyIncident {
  dedupKey: string;
  status: 'triggered' | 'resolved';
  /** Triggers received for this incident (more than one: repeats deduplicated into it). */
  triggers: number;
  resolves: number;
  /** The first trigger's summary. */
  summary?: string;
  openedAt: number;
  resolvedAt?: number;
}

export interface PagerDutyReceiverOptions {
  /** When set, events with another routing key are refused (400), as PagerDuty does with an unknown key. */
  routingKey?: string;
  /** Status per well-formed event; default 202. */
  script?: Script;
  /**
   * True: the event is applied and then answered 500, an answer lost after PagerDuty acted, so the
   * sender repeats an event PagerDuty already has (what dedup_key exists for).
   */
  loseAnswer?: (event: PagerDutyEvent, n: ScriptInput) => boolean;
  tls?: boolean;
}

export interface PagerDutyReceiver {
  /** Base URL; the Events API path is `/v2/enqueue`. */
  url: string;
  /** `url` + `/v2/enqueue`. */
  enqueueUrl: string;
  caPem?: string;
  pin?: string;
  requests(): ReceivedRequest[];
  /** Events accepted (202), in order. */
  events(): PagerDutyEvent[];
  /** Every incident ever opened, in order; a trigger after a resolve of the same key opens a new one. */
  incidents(): PagerDutyIncident[];
  /** Triggers folded into an incident already open with the same dedup_key. */
  readonly deduplicated: number;
  /** Requests refused as invalid (400: bad JSON, missing routing key or action, wrong routing key). */
  readonly invalid: number;
  /** Events applied whose answer was replaced by a 500 (`loseAnswer`). */
  readonly lostAnswers: number;
  waitFor(predicate: (r: PagerDutyReceiver) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** An Events API v2 endpoint that keeps incidents by dedup_key: trigger opens, resolve closes, a repeated trigger deduplicates. */
export async function startPagerDutyReceiver(options: PagerDutyReceiverOptions = {}): Promise<PagerDutyReceiver> {
  const started = Date.now();
  const script = options.script ?? (() => 202);
  const requests: ReceivedRequest[] = [];
  const events: PagerDutyEvent[] = [];
  const incidents: PagerDutyIncident[] = [];
  const open = new Map<string, PagerDutyIncident>();
  let deduplicated = 0;
  let invalid = 0;
  let lostAnswers = 0;
  let count = 0;

  const handle = (body: string | undefined, path: string): { status: number; answer: unknown } => {
    if (body === undefined) return { status: 413, answer: { status: 'invalid event', message: 'too large' } };
    if (path !== '/v2/enqueue') return { status: 404, answer: { status: 'not found' } };
    let event: PagerDutyEvent;
    try {
      event = JSON.parse(body) as PagerDutyEvent;
    } catch {
      invalid++;
      return { status: 400, answer: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad JSON'] } };
    }
    const errors: string[] = [];
    if (!event.routing_key) errors.push("'routing_key' is missing.");
    else if (options.routingKey !== undefined && event.routing_key !== options.routingKey) errors.push("'routing_key' is invalid.");
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(event.event_action))) errors.push("'event_action' is invalid.");
    if (event.event_action === 'trigger' && (!event.payload?.summary || !event.payload.source || !event.payload.severity))
      errors.push("'payload' needs summary, source and severity.");
    if (event.event_action !== 'trigger' && !event.dedup_key) errors.push("'dedup_key' is missing.");
    if (errors.length) {
      invalid++;
      return { status: 400, answer: { status: 'invalid event', message: 'Event object is invalid', errors } };
    }
    const n = { count: ++count, elapsedMs: Date.now() - started };
    const status = script(n);
    if (status !== 202) return { status, answer: { status: 'error', message: `scripted ${status}` } };
    // PagerDuty makes up a key for a trigger without one; a test reads it from the answer.
    const dedupKey = event.dedup_key ?? `pd-${count}`;
    events.push(event);
    const current = open.get(dedupKey);
    if (event.event_action === 'trigger') {
      if (current) {
        current.triggers++;
        deduplicated++;
      } else {
        const incident: PagerDutyIncident = {
          dedupKey,
          status: 'triggered',
          triggers: 1,
          resolves: 0,
          summary: event.payload?.summary,
          openedAt: Date.now(),
        };
        incidents.push(incident);
        open.set(dedupKey, incident);
      }
    } else if (event.event_action === 'resolve' && current) {
      current.status = 'resolved';
      current.resolves++;
      current.resolvedAt = Date.now();
      open.delete(dedupKey);
    } else if (event.event_action === 'resolve') {
      // A resolve with nothing open is accepted and changes nothing, as PagerDuty does; counted on the last incident of the key.
      const last = [...incidents].reverse().find((i) => i.dedupKey === dedupKey);
      if (last) last.resolves++;
    }
    if (options.loseAnswer?.(event, n)) {
      lostAnswers++;
      return { status: 500, answer: { status: 'error', message: 'answer lost (scripted)' } };
    }
    return { status: 202, answer: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const body = await readBody(req);
      const { status, answer } = handle(body, (req.url ?? '').split('?')[0] ?? '');
      requests.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: flatHeaders(req), body: body ?? '', status });
      reply(res, status, answer);
      waiters.notify();
    })().catch(() => {
      if (!res.headersSent) reply(res, 500, { status: 'error' });
    });
  };

  const server = await listen(handler, options.tls === true);
  const receiver: PagerDutyReceiver = {
    url: server.url,
    enqueueUrl: `${server.url}/v2/enqueue`,
    caPem: server.tls?.caPem,
    pin: server.tls ? pinOf(server.tls.certPem) : undefined,
    requests: () => [...requests],
    events: () => [...events],
    incidents: () => incidents.map((i) => ({ ...i })),
    get deduplicated() {
      return deduplicated;
    },
    get invalid() {
      return invalid;
    },
    get lostAnswers() {
      return lostAnswers;
    },
    waitFor: (predicate, timeoutMs) =>
      waiters.waitFor(
        predicate,
        timeoutMs,
        () =>
          `${requests.length} requests, ${events.length} accepted, ${incidents.length} incidents (${open.size} open), ${invalid} invalid`,
      ),
    close: async () => {
      waiters.closeAll();
      await server.close();
    },
  };
  const waiters = new Waiters<PagerDutyReceiver>(() => receiver);
  return receiver;
}
