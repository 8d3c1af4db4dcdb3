/**
 * The HTTP layer of the CCS client: one keep-alive undici pool per base URL, explicit timeouts,
 * and the one place where HTTP outcomes become {@link CcsError} types.
 */
import { Pool, errors as undiciErrors } from 'undici';
import { CcsError, ErrorType, JOB_OPERATION_PERMISSIONS } from '../domain/errors';
import { SecretSet } from './scrub';
import { TlsTrustError, trustingConnector, untrustedMessage } from './tls';

/** Defaults of the bounds every request has; each is configurable per server. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;

export interface TransportOptions {
  /** `https://host:port/ccs/api/v1` */
  baseUrl: string;
  /** PEM of extra trusted CAs (CCS usually has an internal or self-signed certificate). */
  ca?: string | Buffer | undefined;
  /** Skip certificate verification. Only by explicit opt-in. */
  insecure?: boolean | undefined;
  /** Check this name in the certificate instead of the URL's host (CCS's certificate is named Symantec_Components). */
  servername?: string | undefined;
  /** Accept exactly the certificates with these SHA-256 fingerprints (`AB:CD:…`), self-signed included. */
  pinSha256?: readonly string[] | undefined;
  connectTimeoutMs?: number | undefined;
  headersTimeoutMs?: number | undefined;
  bodyTimeoutMs?: number | undefined;
  /** The whole request, connect to last body byte; a drip-fed answer cannot outlast it. Default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** Answers are read up to this many bytes; more is `CcsResponseTooLarge`. Default 8 MiB. */
  maxResponseBytes?: number | undefined;
  /** A `Retry-After` longer than this is cut to it. Default 5 min. */
  maxRetryAfterMs?: number | undefined;
  /** Secrets to scrub from every text taken from an answer (the client's password and tokens). */
  secrets?: SecretSet | undefined;
  /** Sockets kept open to CCS at most. */
  connections?: number | undefined;
  /** At most this many requests per second to this server (the CCS team's budget); unset: unlimited. */
  requestsPerSecond?: number | undefined;
  /** The budget to take slots from instead of one made from `requestsPerSecond`: its owner changes its rate live. */
  budget?: RequestBudget | undefined;
  /** Told about every request once it has an answer (or failed), for metrics. */
  observer?: RequestObserver | undefined;
}

/** Requests the circuit breaker pauses together. */
type PauseGroup = 'read' | 'job operation' | 'token';
const PAUSE_GROUPS: Record<Operation, PauseGroup> = { jobruns: 'read', job: 'read', jobsearch: 'read', execute: 'job operation', abort: 'job operation', token: 'token' };

/** What a request was for: the metrics label, never a path with IDs in it. */
export type Operation = 'token' | 'execute' | 'abort' | 'jobruns' | 'job' | 'jobsearch';

export interface RequestObservation {
  operation: Operation;
  /** HTTP status, or the failure type when there was no (complete) answer. */
  outcome: number | 'network' | 'tls' | 'aborted' | 'too_large' | 'paused';
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
/**
 * The longest one string of a JSON answer is kept (and scrubbed): far above every RUN_LIMITS text, so
 * it bounds the scrubbing of a huge text without shortening what a run keeps.
 */
export const MAX_ANSWER_TEXT_CHARS = 64 * 1024;
/** Where an error body says what went wrong: CCS's own, OAuth's, ASP.NET Core ProblemDetails'. */
const MESSAGE_KEYS = ['message', 'error_description', 'detail', 'title', 'error'];

/** Sends requests to one CCS server. Never logs or echoes request bodies (they may hold passwords). */
export class Transport {
  readonly baseUrl: string;
  readonly secrets: SecretSet;
  readonly maxRetryAfterMs: number;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly budget: RequestBudget | undefined;
  private readonly observer: RequestObserver | undefined;
  /** The longest this client waits for one answer: after it, a request it gave up on may still be processed by CCS. */
  readonly requestTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly origin: string;
  /** Until when (epoch ms) no request of a group is sent, after a 429 or 503 with Retry-After. */
  private readonly paused = new Map<PauseGroup, { until: number; status: number }>();
  /** Circuit-breaker counts: pauses begun, requests refused while paused. */
  readonly pauseStats = { pauses: 0, refused: 0 };

  constructor(options: TransportOptions) {
    this.budget = options.budget ?? (options.requestsPerSecond ? new RequestBudget(options.requestsPerSecond) : undefined);
    this.observer = options.observer;
    this.secrets = options.secrets ?? new SecretSet();
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    const url = new URL(options.baseUrl);
    this.origin = url.origin;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 16,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      bodyTimeout: options.bodyTimeoutMs ?? 30_000,
      connect: trustingConnector(
        { ca: options.ca, insecure: options.insecure, servername: options.servername, pinSha256: options.pinSha256 },
        options.connectTimeoutMs ?? 10_000,
      ),
    });
  }

  /**
   * Sends one request and reads its whole answer, bounded in time (`requestTimeoutMs`, headers and
   * body together) and size (`maxResponseBytes`). Throws `CcsNetworkError`, `CcsTlsError`,
   * `CcsResponseTooLarge`, or the caller's signal's reason when the caller aborted.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const where = `${req.method} ${this.basePath}${req.path.split('?')[0]}`;
    const started = performance.now();
    const observe = (outcome: RequestObservation['outcome']): void => this.observer?.({ operation: req.operation, outcome, durationMs: performance.now() - started });
    const group = PAUSE_GROUPS[req.operation];
    const pause = this.paused.get(group);
    const pausedFor = pause ? pause.until - Date.now() : 0;
    if (pause && pausedFor > 0) {
      // The circuit is open: CCS asked this worker to come back later; nothing of the kind is sent until then.
      this.pauseStats.refused++;
      observe('paused');
      throw new CcsError(ErrorType.RateLimited, `${where} not sent: ${group} requests to ${this.origin} are paused until ${new Date(pause.until).toISOString()} (CCS answered ${pause.status} with Retry-After)`, {
        retryAfterMs: pausedFor,
        mayHaveReachedServer: false,
      });
    }
    await this.budget?.take(req.signal);
    const deadline = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    try {
      const res = await this.pool.request({
        method: req.method,
        path: this.basePath + req.path,
        headers: req.headers,
        body: req.body,
        signal,
      });
      const text = await this.readLimited(res, where);
      observe(res.statusCode);
      if (res.statusCode === 429 || res.statusCode === 503) this.pauseIfAsked(group, res.statusCode, res.headers['retry-after']);
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      if (req.signal?.aborted) {
        observe('aborted');
        throw req.signal.reason;
      }
      if (err instanceof CcsError) {
        observe(err.type === ErrorType.ResponseTooLarge ? 'too_large' : 'network');
        throw err;
      }
      if (deadline.aborted) {
        observe('network');
        throw new CcsError(ErrorType.NetworkError, `${where} failed: no complete answer within ${this.requestTimeoutMs} ms (CCS may have received it)`, { cause: err, mayHaveReachedServer: true });
      }
      const failure = networkError(err, where, this.baseUrl);
      observe(failure.type === ErrorType.TlsError ? 'tls' : 'network');
      throw failure;
    }
  }

  /**
   * The circuit breaker: a 429 or 503 that says when to come back pauses every request of its group
   * (reads, job operations, tokens) that this worker sends to this server until then (at most
   * `maxRetryAfterMs`), not only the run that got it. By group, so that throttled reads never hold
   * back an abort, and a throttled execute never holds back the look that tells whether it ran.
   */
  private pauseIfAsked(group: PauseGroup, status: number, retryAfter: string | string[] | undefined): void {
    const ms = retryAfterMs(retryAfter, Date.now(), this.maxRetryAfterMs);
    if (ms === undefined || ms <= 0) return;
    const until = Date.now() + ms;
    const current = this.paused.get(group);
    if (current && until <= current.until) return;
    if (!current || current.until < Date.now()) this.pauseStats.pauses++;
    this.paused.set(group, { until, status });
  }

  /** The body as text, refusing (and not reading) more than `maxResponseBytes`. */
  private async readLimited(res: Awaited<ReturnType<Pool['request']>>, where: string): Promise<string> {
    const limit = this.maxResponseBytes;
    const tooLarge = (seen: string): CcsError => {
      res.body.destroy();
      return new CcsError(ErrorType.ResponseTooLarge, `${where} answered ${res.statusCode} with ${seen}, over the limit of ${limit} bytes (CCS_MAX_RESPONSE_BYTES); the answer was not read`, {
        status: res.statusCode,
      });
    };
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(`${declared} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) throw tooLarge(`more than ${limit} bytes`);
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * Spaces requests evenly at `perSecond` (a small burst allowed after a quiet spell): callers wait in
 * line for their turn, so a thousand runs polling at once queue here instead of overrunning the CCS
 * server. A turn is spaced from when the one before it was actually given, so a process that was
 * busy or descheduled does not send the turns it missed all at once when it wakes.
 */
export class RequestBudget {
  private nextSlot = 0;
  private gapMs = 0;
  private burstMs = 0;
  private readonly line: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(perSecond: number, private readonly burst?: number) {
    this.setRate(perSecond);
  }

  /**
   * Spaces the turns given from now on at `perSecond`: a worker's share of a deployment-wide budget
   * changes as workers come and go.
   */
  setRate(perSecond: number): void {
    this.gapMs = 1000 / perSecond;
    this.burstMs = this.gapMs * (this.burst ?? Math.max(1, Math.ceil(perSecond / 10)));
  }

  /** Resolves at this caller's turn; rejects with the signal's reason (leaving the line) when it is aborted first. */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const now = performance.now();
    const slot = Math.max(this.nextSlot, now - this.burstMs + this.gapMs);
    if (this.line.length === 0 && slot <= now) {
      this.nextSlot = slot + this.gapMs;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.line.splice(this.line.indexOf(turn), 1);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(turn);
      this.wake();
    });
  }

  /** One timer for the whole line: it gives the first caller its turn and sets itself for the next. */
  private wake(): void {
    if (this.timer || this.line.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const turn = this.line.shift();
      if (turn) {
        this.nextSlot = Math.max(this.nextSlot, performance.now()) + this.gapMs;
        turn();
      }
      this.wake();
    }, Math.max(0, this.nextSlot - performance.now()));
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
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

/** The {@link TlsTrustError} behind `err`, if a certificate was refused. */
function untrusted(err: unknown): TlsTrustError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof TlsTrustError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(err: unknown, where: string, baseUrl: string): CcsError {
  const refused = untrusted(err);
  if (refused) return new CcsError(ErrorType.TlsError, untrustedMessage(new URL(baseUrl).origin, refused), { cause: err, mayHaveReachedServer: false });
  const code = errorCode(err);
  if (TLS_CODE.test(code)) {
    return new CcsError(
      ErrorType.TlsError,
      `TLS handshake with ${baseUrl} failed (${code}): the server may not speak TLS on this port, or refused this client's TLS versions`,
      { cause: err, mayHaveReachedServer: false },
    );
  }
  const notSent = NOT_SENT_CODES.has(code) || err instanceof undiciErrors.ConnectTimeoutError;
  return new CcsError(ErrorType.NetworkError, `${where} failed: ${code} (${notSent ? 'not sent' : 'CCS may have received it'})`, {
    cause: err,
    mayHaveReachedServer: !notSent,
  });
}

/** Text of an error body for messages: tags stripped, whitespace folded, secrets scrubbed, length capped. */
export function serverText(text: string, secrets: SecretSet = new SecretSet()): string {
  let plain = text;
  try {
    const json = JSON.parse(text) as unknown;
    const said = new Map(typeof json === 'object' && json !== null ? Object.entries(json as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value]) : []);
    const msg = MESSAGE_KEYS.map((name) => said.get(name)).find((v) => typeof v === 'string');
    if (typeof msg === 'string') plain = msg;
  } catch {
    plain = text.replace(/<[^>]*>/g, ' ');
  }
  plain = plain.replace(/\s+/g, ' ').trim();
  // Only what is shown is scrubbed: the cost of a huge error page is its first few hundred characters.
  return plain.length > MAX_SERVER_TEXT ? `${secrets.scrubPrefix(plain, MAX_SERVER_TEXT)}…` : secrets.scrub(plain);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds, at most `maxMs`. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now(), maxMs = DEFAULT_MAX_RETRY_AFTER_MS): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text.trim())) ms = Math.round(Number(text) * 1000);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, maxMs);
}

/** How answers are turned into errors: which secrets to scrub, how long a `Retry-After` may be. */
export interface AnswerReading {
  secrets?: SecretSet | undefined;
  maxRetryAfterMs?: number | undefined;
}

/** Turns a non-2xx answer into its error type. The one place where status codes are interpreted. */
export function errorForStatus(res: HttpResponse, where: string, reading: AnswerReading = {}): CcsError {
  const text = serverText(res.text, reading.secrets);
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
    const after = retryAfterMs(res.headers['retry-after'], Date.now(), reading.maxRetryAfterMs);
    return new CcsError(ErrorType.RateLimited, `${where} was rate limited (429)${after === undefined ? '' : `; retry after ${after} ms`}`, {
      status,
      retryAfterMs: after,
    });
  }
  if (status >= 500) return new CcsError(ErrorType.ServerError, `${where} failed on the CCS server (${status})${said}`, { status });
  return new CcsError(ErrorType.BadRequest, `${where} was rejected (${status})${said}`, { status });
}

/**
 * What a token request's outcome says of a server's readiness: an error type, or undefined when it
 * granted one. Beside {@link errorForStatus} so that answers are mapped to types in one place.
 */
export function tokenOutcomeType(outcome: RequestObservation['outcome'], before: string | undefined): string | undefined {
  if (outcome === 200) return undefined;
  if (outcome === 400 || outcome === 401) return ErrorType.AuthenticationFailed;
  if (outcome === 403) return ErrorType.Forbidden;
  if (outcome === 'tls') return ErrorType.TlsError;
  if (outcome === 'too_large') return ErrorType.ResponseTooLarge;
  if (outcome === 'aborted') return before; // this process gave up waiting: says nothing of CCS
  if (outcome === 'network') return ErrorType.NetworkError;
  if (outcome === 'paused') return ErrorType.RateLimited;
  return outcome === 429 ? ErrorType.RateLimited : outcome >= 500 ? ErrorType.ServerError : ErrorType.ProtocolError;
}

/**
 * Parses a JSON success body; an HTML page or truncated JSON is a `CcsProtocolError`. Every string in
 * it is scrubbed as it is read: run exceptions and messages are CCS's free text, and a CCS or gateway
 * that echoes a request puts credentials there, from where they would reach results and history.
 */
export function jsonBody(res: HttpResponse, where: string, secrets?: SecretSet): unknown {
  const type = String(res.headers['content-type'] ?? '');
  try {
    // The token answer is read without `secrets`: its tokens are the secrets.
    if (!secrets) return JSON.parse(res.text) as unknown;
    return secrets.scrubStrings(JSON.parse(res.text) as unknown, MAX_ANSWER_TEXT_CHARS);
  } catch {
    const kind = type ? `${type.split(';')[0]} ` : '';
    throw new CcsError(
      ErrorType.ProtocolError,
      `${where} answered ${res.status} with an unreadable ${kind}body (${res.text.length} bytes): ${JSON.stringify(serverText(res.text, secrets).slice(0, 80))}`,
      { status: res.status },
    );
  }
}
