/**
 * The HTTP transport of the CCS client: one keep-alive undici pool per base URL, certificates
 * trusted as configured, every request bounded in time and size, passed through the server's
 * circuit breaker and request budget. What an answer means is decided elsewhere (answer-errors.ts).
 */
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { Pool } from 'undici';
import { CcsError, ErrorType } from '../domain/errors';
import { DEFAULT_MAX_RETRY_AFTER_MS } from './answer-errors';
import { CircuitBreaker, type PauseStats } from './circuit-breaker';
import { networkError } from './network-errors';
import { RequestBudget } from './request-budget';
import type { HttpRequest, HttpResponse, RequestObservation, RequestObserver } from './requests';
import { SecretSet } from './scrub';
import { trustingConnector } from './tls';

/** Defaults of the bounds every request has; each is configurable per server. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const DEFAULT_BODY_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 16;
const KEEP_ALIVE_MS = 30_000;

/**
 * The longest a request waits out its group's pause (a 429 or 503 with `Retry-After`) before it is
 * refused instead. A short pause is waited for here, so every request held back goes out the moment
 * it ends: refused, each would come back at a retry time of its own, and while CCS keeps throttling
 * a busy worker that time falls inside the next pause more often than not (an abort's look at a run
 * just ended, retried that way, went unconfirmed for five minutes; chaos, 429 on 30% of requests). A
 * longer pause is refused at once, so the activity's retry, a server timer, waits it out.
 */
export const MAX_PAUSE_WAIT_MS = 5_000;

/** Where one CCS server is, how its certificate is trusted, and the bounds and budget of every request to it. */
export interface TransportOptions {
  /** `https://<host>:<port>/ccs/api/v1` */
  baseUrl: string;
  /** PEM of extra trusted CAs: the CA that signed CCS's certificate (CCS_CA_FILE). */
  ca?: string | Buffer | undefined;
  /** Skip certificate verification (CCS_TLS_INSECURE): only by explicit opt-in. */
  insecure?: boolean | undefined;
  /** Check this name in the certificate instead of the URL's host (CCS_TLS_SERVERNAME; CCS's certificate is named Symantec_Components). */
  servername?: string | undefined;
  /** Accept exactly the certificates with these SHA-256 fingerprints, `AB:CD:…`, self-signed included (CCS_TLS_PIN_SHA256). */
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
  /** The budget to take turns from instead of one made from `requestsPerSecond`: its owner changes its rate live (the worker's share). */
  budget?: RequestBudget | undefined;
  /** Told about every request once it has an answer (or failed), for metrics. */
  observer?: RequestObserver | undefined;
  /** The name runs give this server (`ccs`), recorded on each request's span; default: the URL's host. */
  serverName?: string | undefined;
}

/**
 * The tracer of CCS requests: OpenTelemetry's global one, a no-op unless tracing was started
 * (src/hosting/observability/tracing.ts), so a process without tracing makes no spans.
 */
const tracer = () => trace.getTracer('ccs-job-orchestrator/ccs');

/**
 * A request path with nothing in it that could identify or authorise anything: the query string
 * dropped (it holds job names and search terms), and every segment that is not a plain word (GUIDs,
 * ids) replaced by `{id}`. What a span's name and `url.template` show.
 */
export function pathTemplate(path: string): string {
  return (path.split('?')[0] ?? '')
    .split('/')
    .map((segment) => (segment === '' || /^[A-Za-z]{1,20}[0-9]{0,3}$/.test(segment) ? segment : '{id}'))
    .join('/');
}

/** Sends requests to one CCS server. Never logs or echoes request bodies (they may hold passwords). */
export class Transport {
  readonly baseUrl: string;
  readonly secrets: SecretSet;
  readonly maxRetryAfterMs: number;
  /** The longest this client waits for one answer: after it, a request it gave up on may still be processed by CCS. */
  readonly requestTimeoutMs: number;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly budget: RequestBudget | undefined;
  private readonly breaker: CircuitBreaker;
  private readonly observer: RequestObserver | undefined;
  private readonly maxResponseBytes: number;
  private readonly spanAttributes: Record<string, string | number>;

  constructor(options: TransportOptions) {
    this.budget = options.budget ?? (options.requestsPerSecond ? new RequestBudget(options.requestsPerSecond) : undefined);
    this.observer = options.observer;
    this.secrets = options.secrets ?? new SecretSet();
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    const url = new URL(options.baseUrl);
    this.breaker = new CircuitBreaker(url.origin, this.maxRetryAfterMs);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.spanAttributes = {
      'ccs.server': options.serverName ?? url.host,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    };
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: KEEP_ALIVE_MS,
      headersTimeout: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      bodyTimeout: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      connect: trustingConnector(
        { ca: options.ca, insecure: options.insecure, servername: options.servername, pinSha256: options.pinSha256 },
        options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ),
    });
  }

  /** The circuit breaker's counts: pauses begun after a 429/503 with Retry-After, requests refused meanwhile. */
  get pauseStats(): PauseStats {
    return this.breaker.stats;
  }

  /**
   * Sends one request and reads its whole answer, bounded in time (`requestTimeoutMs`, headers and
   * body together) and size (`maxResponseBytes`). Throws `CcsRateLimited` (not sent: the breaker is
   * open), `CcsNetworkError`, `CcsTlsError`, `CcsResponseTooLarge`, or the caller's signal's reason
   * when the caller aborted. Any answer, whatever its status, is returned.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const template = pathTemplate(this.basePath + req.path);
    // Only what identifies the kind of request: never a header, a body, a query string or an id.
    return tracer().startActiveSpan(
      `${req.method} ${template}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...this.spanAttributes,
          'http.request.method': req.method,
          'url.template': template,
          'ccs.operation': req.operation,
          'http.request.resend_count': Math.max(0, (req.attempt ?? 1) - 1),
        },
      },
      (span) => this.sendInSpan(req, span).finally(() => span.end()),
    );
  }

  private async sendInSpan(req: HttpRequest, span: Span): Promise<HttpResponse> {
    const where = `${req.method} ${this.basePath}${req.path.split('?')[0]}`;
    const started = performance.now();
    const observe = (outcome: RequestObservation['outcome']): void => {
      if (typeof outcome === 'number') {
        span.setAttribute('http.response.status_code', outcome);
        if (outcome >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        // The outcome's name only: an error's message may quote CCS.
        span.setAttribute('error.type', outcome);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      this.observer?.({ operation: req.operation, outcome, durationMs: performance.now() - started });
    };
    await this.waitOutPause(req, where, observe);
    await this.takeTurn(req, where);
    if (req.sendBy !== undefined && Date.now() > req.sendBy) throw notSentInTime(where);
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
      this.breaker.answered(req.operation, res.statusCode, res.headers['retry-after']);
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
        throw new CcsError(
          ErrorType.NetworkError,
          `${where} failed: no complete answer within ${this.requestTimeoutMs} ms (CCS may have received it)`,
          { cause: err, mayHaveReachedServer: true },
        );
      }
      const failure = networkError(err, where, this.baseUrl);
      observe(failure.type === ErrorType.TlsError ? 'tls' : 'network');
      throw failure;
    }
  }

  /**
   * Waits while the circuit is open (CCS asked this worker to come back later: nothing of the kind
   * is sent until then) when it closes within MAX_PAUSE_WAIT_MS of the request's start and before
   * its send-by time; otherwise throws the breaker's `CcsRateLimited` refusal at once.
   */
  private async waitOutPause(req: HttpRequest, where: string, observe: (outcome: 'paused') => void): Promise<void> {
    const latest = Math.min(Date.now() + MAX_PAUSE_WAIT_MS, req.sendBy ?? Infinity);
    let waited = false;
    for (let left = this.breaker.pausedFor(req.operation); left > 0; left = this.breaker.pausedFor(req.operation)) {
      if (Date.now() + left > latest) {
        const refused = this.breaker.refusal(req.operation, where);
        if (!refused) return; // it ended a moment ago
        observe('paused');
        throw refused;
      }
      if (!waited) this.breaker.stats.waited++;
      waited = true;
      await delay(left, req.signal);
    }
  }

  /** Waits for the request's turn in the budget; a request with `sendBy` leaves the line at that time, not sent. */
  private async takeTurn(req: HttpRequest, where: string): Promise<void> {
    if (!this.budget) return;
    if (req.sendBy === undefined) return this.budget.take(req.signal, req.urgent);
    const late = AbortSignal.timeout(Math.max(0, req.sendBy - Date.now()));
    try {
      await this.budget.take(req.signal ? AbortSignal.any([req.signal, late]) : late, req.urgent);
    } catch (err) {
      if (late.aborted && !req.signal?.aborted) throw notSentInTime(where);
      throw err;
    }
  }

  /** The body as text, refusing (and not reading) more than `maxResponseBytes`. */
  private async readLimited(res: Awaited<ReturnType<Pool['request']>>, where: string): Promise<string> {
    const limit = this.maxResponseBytes;
    const tooLarge = (seen: string): CcsError => {
      res.body.destroy();
      return new CcsError(
        ErrorType.ResponseTooLarge,
        `${where} answered ${res.statusCode} with ${seen}, over the limit of ${limit} bytes (CCS_MAX_RESPONSE_BYTES); the answer was not read`,
        {
          status: res.statusCode,
        },
      );
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

/** Resolves after `ms`, or rejects with the signal's reason once it is aborted. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
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

/** A request whose `sendBy` passed before it could go on the wire: nothing was sent. */
function notSentInTime(where: string): CcsError {
  return new CcsError(
    ErrorType.NetworkError,
    `${where} not sent: its send-by time passed while it waited (its activity attempt may have been given up; a later attempt decides afresh)`,
    { mayHaveReachedServer: false },
  );
}
