/**
 * The one HTTP POST every HTTP channel makes: an undici pool per channel, the receiver's certificate
 * trusted by the rules of CCS servers (src/ccs/tls.ts), each attempt bounded (10 s, answers read up
 * to 64 KiB), and the outcome classified for the retry policy: network failures, 408, 429 and 5xx
 * are worth another attempt, other 4xx are not.
 */
import { Pool } from 'undici';
import { TLS_SETTINGS, untrustedMessage, TlsTrustError, trustingConnector } from '../ccs/tls';
import { CHANNEL_LIMITS, NotificationDeliveryError, type ChannelTls, type SendResult } from './channel';

export interface HttpPost {
  /** The full URL; its path and query may be the credential (slack, teams), so it never appears in a message. */
  url: string;
  body: string;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** Answer statuses worth retrying besides 5xx. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

/** Retry-After (seconds or an HTTP date) in ms, capped at `maxMs`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, maxMs: number, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.round(ms)), maxMs);
}

/** Keep-alive pools by origin for one channel; closed with the channel. */
export class HttpPoster {
  private readonly pools = new Map<string, Pool>();

  constructor(
    /** The channel's name, for messages. */
    private readonly channel: string,
    private readonly tls: ChannelTls,
    /** Retry-After is honoured up to this (the delivery's maxRetryInterval). */
    private readonly maxRetryAfterMs: number,
  ) {}

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 4,
        keepAliveTimeout: 10_000,
        headersTimeout: CHANNEL_LIMITS.requestTimeoutMs,
        bodyTimeout: CHANNEL_LIMITS.requestTimeoutMs,
        connect: trustingConnector({ ca: this.tls.ca, pinSha256: this.tls.pinSha256 }, CHANNEL_LIMITS.requestTimeoutMs),
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * One POST. Resolves with the status when the receiver accepted it (2xx); throws
   * {@link NotificationDeliveryError} otherwise, `retryable` as the status or failure says. Messages
   * name the channel and the receiver's host, never the URL's path or query (a webhook token).
   */
  async post(req: HttpPost): Promise<SendResult> {
    const url = new URL(req.url);
    const where = `channel ${this.channel} (POST to ${url.host})`;
    const deadline = AbortSignal.timeout(CHANNEL_LIMITS.requestTimeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    let status: number;
    let answer: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await this.pool(url.origin).request({
        method: 'POST',
        path: `${url.pathname}${url.search}`,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
        body: req.body,
        signal,
      });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      answer = await readCapped(res.body);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (err instanceof TlsTrustError || (err as { cause?: unknown }).cause instanceof TlsTrustError) {
        const tlsErr = err instanceof TlsTrustError ? err : (err as { cause: TlsTrustError }).cause;
        // A certificate that is not trusted stays untrusted: retrying cannot help until someone fixes the trust.
        throw new NotificationDeliveryError(
          `channel ${this.channel}: ${channelTrustMessage(untrustedMessage(url.origin, tlsErr))}`,
          false,
          {
            cause: err,
          },
        );
      }
      const reason = deadline.aborted ? `no complete answer within ${CHANNEL_LIMITS.requestTimeoutMs} ms` : describeNetworkError(err);
      throw new NotificationDeliveryError(`${where} failed: ${reason}`, true, { cause: err });
    }
    if (status >= 200 && status < 300) return { outcome: 'sent', status, detail: `${status}` };
    const said = answer.replace(/\s+/g, ' ').trim().slice(0, 200);
    const message = `${where} answered ${status}${said ? `: ${said}` : ''}`;
    if (status >= 500 || RETRYABLE_STATUSES.has(status)) {
      const wait = retryAfterMs(retryAfter, this.maxRetryAfterMs);
      throw new NotificationDeliveryError(message, true, { status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) });
    }
    throw new NotificationDeliveryError(message, false, { status });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

/** The CCS wording of a refused certificate with the channel's settings named instead (channels have no insecure mode). */
function channelTrustMessage(text: string): string {
  return text
    .replaceAll(TLS_SETTINGS.pin, 'tlsPinSha256')
    .replaceAll(TLS_SETTINGS.ca, 'caFile')
    .replaceAll(`check the name it carries instead: ${TLS_SETTINGS.servername}=`, 'the name it carries: ')
    .replace(` ${TLS_SETTINGS.insecure} turns verification off (last resort)`, '');
}

/** The answer as text, at most 64 KiB of it; the rest is discarded unread (the socket is dropped). */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = CHANNEL_LIMITS.answerBytes - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= CHANNEL_LIMITS.answerBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  return code ? `${code}${e.message ? ` (${e.message.split('\n')[0]})` : ''}` : (e.message ?? String(err));
}
