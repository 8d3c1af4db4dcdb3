/** The webhook receiver: checks `X-Ccs-Signature`, answers per its script, records every request. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NotificationEvent } from '../../src/domain/notifications';
import { flatHeaders, listen, pinOf, readBody, reply, Waiters, type ReceivedRequest, type Script } from './common';

export interface WebhookReceiverOptions {
  /** The HMAC key the channel's `secretFile` holds. */
  secret: string;
  /** Status per request; default 200 always. A bad signature is answered 401 whatever the script says. */
  script?: Script;
  /** Serve https with a certificate from a private CA (`caPem`, `pin`). */
  tls?: boolean;
}

export interface WebhookReceiver {
  /** Base URL (`http://127.0.0.1:PORT`); the receiver accepts any path. */
  url: string;
  /** With `tls`: the CA that signed the server certificate (for `caFile`). */
  caPem?: string;
  /** With `tls`: the server certificate's SHA-256 (for `tlsPinSha256`). */
  pin?: string;
  /** Every request, in order of arrival, whatever was answered. */
  requests(): ReceivedRequest[];
  /** Events accepted (answered 2xx with a good signature), first body of each id, in order of first acceptance. */
  events(): NotificationEvent[];
  /** Every request carrying event `id` (by body `id` or `X-Ccs-Event-Id`), accepted or not. */
  deliveries(id: string): ReceivedRequest[];
  /** Distinct raw bodies seen for each event id: more than one means an event changed between retries. */
  bodiesById(): Map<string, Set<string>>;
  /** Requests whose signature was missing or wrong. */
  readonly badSignatures: number;
  /** Requests whose body was not a JSON event with an id, or whose header id differed from the body's. */
  readonly malformed: number;
  waitFor(predicate: (r: WebhookReceiver) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The signature the webhook channel must send for `body`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureMatches(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(webhookSignature(secret, body));
  const got = Buffer.from(header.trim());
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function eventIdOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/** A webhook endpoint that verifies `X-Ccs-Signature`, answers per `script` and records every request. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const started = Date.now();
  const script = options.script ?? (() => 200);
  const requests: ReceivedRequest[] = [];
  const accepted = new Map<string, NotificationEvent>();
  const bodies = new Map<string, Set<string>>();
  let badSignatures = 0;
  let malformed = 0;
  let count = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const body = await readBody(req);
      const headers = flatHeaders(req);
      const record: ReceivedRequest = {
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body: body ?? '',
        status: 0,
      };
      if (body === undefined) {
        record.status = 413;
      } else {
        record.signatureOk = signatureMatches(options.secret, body, headers['x-ccs-signature']);
        if (!record.signatureOk) badSignatures++;
        const id = eventIdOf(body);
        if (id === undefined || (headers['x-ccs-event-id'] !== undefined && headers['x-ccs-event-id'] !== id)) malformed++;
        if (id !== undefined) {
          const seen = bodies.get(id) ?? new Set<string>();
          seen.add(body);
          bodies.set(id, seen);
        }
        record.status = record.signatureOk ? script({ count: ++count, elapsedMs: Date.now() - started }) : 401;
        if (record.status >= 200 && record.status < 300 && id !== undefined && !accepted.has(id)) {
          accepted.set(id, JSON.parse(body) as NotificationEvent);
        }
      }
      requests.push(record);
      reply(res, record.status, record.status < 300 ? { ok: true } : { error: `scripted ${record.status}` });
      waiters.notify();
    })().catch(() => {
      if (!res.headersSent) reply(res, 500, { error: 'receiver error' });
    });
  };

  const server = await listen(handler, options.tls === true);
  const receiver: WebhookReceiver = {
    url: server.url,
    caPem: server.tls?.caPem,
    pin: server.tls ? pinOf(server.tls.certPem) : undefined,
    requests: () => [...requests],
    events: () => [...accepted.values()],
    deliveries: (id) => requests.filter((r) => r.headers['x-ccs-event-id'] === id || eventIdOf(r.body) === id),
    bodiesById: () => new Map([...bodies].map(([k, v]) => [k, new Set(v)])),
    get badSignatures() {
      return badSignatures;
    },
    get malformed() {
      return malformed;
    },
    waitFor: (predicate, timeoutMs) =>
      waiters.waitFor(
        predicate,
        timeoutMs,
        () => `${requests.length} requests, ${accepted.size} events accepted, ${badSignatures} bad signatures`,
      ),
    close: async () => {
      waiters.closeAll();
      await server.close();
    },
  };
  const waiters = new Waiters<WebhookReceiver>(() => receiver);
  return receiver;
}
