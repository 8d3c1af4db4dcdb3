/**
 * What the test receivers share: scripts (fail for a time or a count), arrival-driven waits, and a
 * loopback http(s) listener with a certificate from a private CA.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateTlsMaterial, type TlsMaterial } from '../../src/sim/cert';

/** The largest request or message a receiver reads; larger ones are refused (413 / 552) and counted. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What a script sees for each request or message: its number (1-based) and how long after start it came. */
export interface ScriptInput {
  count: number;
  elapsedMs: number;
}

/** Decides the status of one request (HTTP) or the reply code of one message (SMTP, 250 = accepted). */
export type Script = (n: ScriptInput) => number;

/** Answers `status` while the receiver is younger than `ms`, then `ok`. */
export function failFor(ms: number, status: number, ok = 200): Script {
  return (n) => (n.elapsedMs < ms ? status : ok);
}

/** Answers `status` to the first `count` requests, then `ok`. */
export function failFirst(count: number, status: number, ok = 200): Script {
  return (n) => (n.count <= count ? status : ok);
}

/** The certificate's SHA-256 as `tlsPinSha256` takes it (`AB:CD:…`). */
export function pinOf(certPem: string): string {
  const der = new X509Certificate(certPem).raw;
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/**
 * Promises resolved by arrivals: each `waitFor` checks its predicate now and after every recorded
 * request, and fails after `timeoutMs` saying what it saw, so a missing delivery is a clear failure.
 */
export class Waiters<R> {
  private readonly pending = new Set<{ check: () => boolean; fail: (e: Error) => void }>();

  constructor(private readonly self: () => R) {}

  waitFor(predicate: (receiver: R) => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (predicate(this.self())) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        check: () => {
          if (!predicate(this.self())) return false;
          clearTimeout(timer);
          resolve();
          return true;
        },
        fail: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.pending.delete(entry);
        reject(new Error(`receiver: condition not met within ${timeoutMs} ms (${describe()})`));
      }, timeoutMs);
      this.pending.add(entry);
    });
  }

  notify(): void {
    for (const entry of [...this.pending]) if (entry.check()) this.pending.delete(entry);
  }

  closeAll(): void {
    for (const entry of this.pending) entry.fail(new Error('receiver closed'));
    this.pending.clear();
  }
}

/** One HTTP request as the receiver got it. */
export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
  /** Webhook only: whether `X-Ccs-Signature` matched the HMAC of the raw body. */
  signatureOk?: boolean;
}

export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Reads a body up to MAX_BODY_BYTES; undefined when it was larger. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8');
}

export interface HttpListener {
  url: string;
  tls?: TlsMaterial;
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, tls: boolean): Promise<HttpListener> {
  const material = tls ? generateTlsMaterial(['127.0.0.1', 'localhost']) : undefined;
  const server: HttpServer = material
    ? createHttpsServer({ key: material.keyPem, cert: material.certPem }, handler)
    : createHttpServer(handler);
  // Idle keep-alive sockets must not hold close() open.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${material ? 'https' : 'http'}://127.0.0.1:${port}`,
    tls: material,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
