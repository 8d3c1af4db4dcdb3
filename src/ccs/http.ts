/**
 * The HTTP layer of the CCS client: one keep-alive undici pool per base URL, explicit timeouts,
 * and the one place where HTTP outcomes become {@link CcsError} types.
 */
import { Pool, errors as undiciErrors } from 'undici';
import { CcsError, ErrorType, JOB_OPERATION_PERMISSIONS } from '../domain/errors';

export interface TransportOptions {
  /** `https://host:port/ccs/api/v1` */
  baseUrl: string;
  /** PEM of extra trusted CAs (CCS usually has an internal or self-signed certificate). */
  ca?: string | Buffer | undefined;
  /** Skip certificate verification. Only by explicit opt-in. */
  insecure?: boolean | undefined;
  connectTimeoutMs?: number | undefined;
  headersTimeoutMs?: number | undefined;
  bodyTimeoutMs?: number | undefined;
  /** Sockets kept open to CCS at most. */
  connections?: number | undefined;
  /** At most this many requests per second to this server (the CCS team's budget); unset: unlimited. */
  requestsPerSecond?: number | undefined;
  /** Told about every request once it has an answer (or failed), for metrics. */
  observer?: RequestObserver | undefined;
}

/** What a request was for: the metrics label, never a path with IDs in it. */
export type Operation = 'token' | 'execute' | 'abort' | 'jobruns' | 'job';

export interface RequestObservation {
  operation: Operation;
  /** HTTP status, or the failure type when there was no answer. */
  outcome: number | 'network' | 'tls' | 'aborted';
  durationMs: number;
}

export type RequestObserver = (observation: RequestObservation) => void;

export interface HttpRequest {
  operation: Operation;
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`, query included. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

// Connection failed before anything was sent: CCS cannot have acted on the request.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME/;
const MAX_SERVER_TEXT = 300;

/** Sends requests to one CCS server. Never logs or echoes request bodies (they may hold passwords). */
export class Transport {
  readonly baseUrl: string;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly budget: RequestBudget | undefined;
  private readonly observer: RequestObserver | undefined;

  constructor(options: TransportOptions) {
    this.budget = options.requestsPerSecond ? new RequestBudget(options.requestsPerSecond) : undefined;
    this.observer = options.observer;
    const url = new URL(options.baseUrl);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 16,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      bodyTimeout: options.bodyTimeoutMs ?? 30_000,
      connect: {
        timeout: options.connectTimeoutMs ?? 10_000,
        ...(options.ca ? { ca: options.ca } : {}),
        rejectUnauthorized: options.insecure !== true,
      },
    });
  }

  /** Sends one request. Throws `CcsNetworkError`, `CcsTlsError`, or the signal's reason when aborted. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const where = `${req.method} ${this.basePath}${req.path.split('?')[0]}`;
    await this.budget?.take(req.signal);
    const started = performance.now();
    const observe = (outcome: RequestObservation['outcome']): void => this.observer?.({ operation: req.operation, outcome, durationMs: performance.now() - started });
    try {
      const res = await this.pool.request({
        method: req.method,
        path: this.basePath + req.path,
        headers: req.headers,
        body: req.body,
        signal: req.signal,
      });
      const text = await res.body.text();
      observe(res.statusCode);
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      if (req.signal?.aborted) {
        observe('aborted');
        throw req.signal.reason;
      }
      const failure = networkError(err, where, this.baseUrl);
      observe(failure.type === ErrorType.TlsError ? 'tls' : 'network');
      throw failure;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * Spaces requests evenly at `perSecond` (a small burst allowed): callers wait for their slot, so a
 * thousand runs polling at once queue here instead of overrunning the CCS server.
 */
export class RequestBudget {
  private nextSlot = 0;
  private readonly gapMs: number;
  private readonly burstMs: number;

  constructor(perSecond: number, burst = Math.max(1, Math.ceil(perSecond / 10))) {
    this.gapMs = 1000 / perSecond;
    this.burstMs = this.gapMs * burst;
  }

  async take(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const slot = Math.max(this.nextSlot, now - this.burstMs + this.gapMs);
    this.nextSlot = slot + this.gapMs;
    const wait = slot - now;
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      }, { once: true });
    });
  }
}

function errorCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (err as { code?: string }).code ?? 'UNKNOWN';
}

function networkError(err: unknown, where: string, baseUrl: string): CcsError {
  const code = errorCode(err);
  if (TLS_CODE.test(code)) {
    return new CcsError(
      ErrorType.TlsError,
      `TLS handshake with ${baseUrl} failed (${code}): trust the server's CA with CCS_CA_FILE, or opt out of verification with CCS_TLS_INSECURE=true`,
      { cause: err, mayHaveReachedServer: false },
    );
  }
  const notSent = NOT_SENT_CODES.has(code) || err instanceof undiciErrors.ConnectTimeoutError;
  return new CcsError(ErrorType.NetworkError, `${where} failed: ${code} (${notSent ? 'not sent' : 'CCS may have received it'})`, {
    cause: err,
    mayHaveReachedServer: !notSent,
  });
}

/** Text of an error body for messages: tags stripped, whitespace folded, length capped. */
export function serverText(text: string): string {
  let plain = text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const msg = json.Message ?? json.message ?? json.error_description ?? json.error;
    if (typeof msg === 'string') plain = msg;
  } catch {
    plain = text.replace(/<[^>]*>/g, ' ');
  }
  plain = plain.replace(/\s+/g, ' ').trim();
  return plain.length > MAX_SERVER_TEXT ? `${plain.slice(0, MAX_SERVER_TEXT)}…` : plain;
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Turns a non-2xx answer into its error type. The one place where status codes are interpreted. */
export function errorForStatus(res: HttpResponse, where: string): CcsError {
  const text = serverText(res.text);
  const said = text ? `: ${text}` : '';
  const status = res.status;
  if (status === 401) {
    return new CcsError(ErrorType.AuthenticationFailed, `${where} was refused with 401 after a fresh token${said}`, { status });
  }
  if (status === 403) {
    return new CcsError(ErrorType.Forbidden, `${where} was forbidden (403)${said}. The CCS user needs ${JOB_OPERATION_PERMISSIONS}`, { status });
  }
  if (status === 404) return new CcsError(ErrorType.NotFound, `${where} found nothing (404)${said}`, { status });
  if (status === 429) {
    const after = retryAfterMs(res.headers['retry-after']);
    return new CcsError(ErrorType.RateLimited, `${where} was rate limited (429)${after === undefined ? '' : `; retry after ${after} ms`}`, {
      status,
      retryAfterMs: after,
    });
  }
  if (status >= 500) return new CcsError(ErrorType.ServerError, `${where} failed on the CCS server (${status})${said}`, { status });
  return new CcsError(ErrorType.BadRequest, `${where} was rejected (${status})${said}`, { status });
}

/** Parses a JSON success body; an HTML page or truncated JSON is a `CcsProtocolError`. */
export function jsonBody(res: HttpResponse, where: string): unknown {
  const type = String(res.headers['content-type'] ?? '');
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    const kind = type ? `${type.split(';')[0]} ` : '';
    throw new CcsError(
      ErrorType.ProtocolError,
      `${where} answered ${res.status} with an unreadable ${kind}body (${res.text.length} bytes): ${JSON.stringify(serverText(res.text).slice(0, 80))}`,
      { status: res.status },
    );
  }
}
