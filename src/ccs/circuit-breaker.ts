/**
 * The circuit breaker of one CCS server: a 429 or 503 that says when to come back (`Retry-After`)
 * pauses every request of its group that this worker sends to the server until then, not only the
 * run that got it. By group (reads, job operations, tokens), so that throttled reads never hold back
 * an abort, and a throttled execute never holds back the look that tells whether it ran.
 */
import { CcsError, ErrorType } from '../domain/errors';
import { retryAfterMs } from './answer-errors';
import type { Operation } from './requests';

/** Requests the circuit breaker pauses together. */
type PauseGroup = 'read' | 'job operation' | 'token';
const PAUSE_GROUPS: Record<Operation, PauseGroup> = {
  jobruns: 'read',
  job: 'read',
  jobsearch: 'read',
  // Findings are reads too: a throttled Results never holds back an abort.
  assetgroup: 'read',
  results: 'read',
  execute: 'job operation',
  abort: 'job operation',
  token: 'token',
};

/** Circuit-breaker counts: pauses begun, requests refused while paused, requests that waited a short pause out. */
export interface PauseStats {
  pauses: number;
  refused: number;
  waited: number;
}

/** One server's breaker: opened by answers (`answered`), consulted before each request (`refusal`). */
export class CircuitBreaker {
  readonly stats: PauseStats = { pauses: 0, refused: 0, waited: 0 };
  /** Until when (epoch ms) no request of a group is sent, and the status that asked for it. */
  private readonly paused = new Map<PauseGroup, { until: number; status: number }>();

  /** `origin` names the server in messages; a `Retry-After` longer than `maxRetryAfterMs` is cut to it. */
  constructor(
    private readonly origin: string,
    private readonly maxRetryAfterMs: number,
  ) {}

  /** How long requests of `operation`'s group stay paused from now, in ms (0: they may go). */
  pausedFor(operation: Operation): number {
    const pause = this.paused.get(PAUSE_GROUPS[operation]);
    return pause ? Math.max(0, pause.until - Date.now()) : 0;
  }

  /**
   * The `CcsRateLimited` refusal (never sent, with the time left as `retryAfterMs`) of a request of
   * `operation` (`where`: its method and path) while its group is paused; undefined when it may go.
   */
  refusal(operation: Operation, where: string): CcsError | undefined {
    const group = PAUSE_GROUPS[operation];
    const pause = this.paused.get(group);
    const pausedFor = pause ? pause.until - Date.now() : 0;
    if (!pause || pausedFor <= 0) return undefined;
    this.stats.refused++;
    return new CcsError(
      ErrorType.RateLimited,
      `${where} not sent: ${group} requests to ${this.origin} are paused until ${new Date(pause.until).toISOString()} (CCS answered ${pause.status} with Retry-After)`,
      {
        retryAfterMs: pausedFor,
        mayHaveReachedServer: false,
      },
    );
  }

  /** Notes an answer to a request of `operation`: a 429 or 503 with a `Retry-After` pauses its group. */
  answered(operation: Operation, status: number, retryAfter: string | string[] | undefined): void {
    if (status !== 429 && status !== 503) return;
    const ms = retryAfterMs(retryAfter, Date.now(), this.maxRetryAfterMs);
    if (ms === undefined || ms <= 0) return;
    const group = PAUSE_GROUPS[operation];
    const until = Date.now() + ms;
    const current = this.paused.get(group);
    if (current && until <= current.until) return;
    if (!current || current.until < Date.now()) this.stats.pauses++;
    this.paused.set(group, { until, status });
  }
}
