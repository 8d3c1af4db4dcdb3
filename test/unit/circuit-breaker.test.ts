/**
 * The circuit breaker on its own (the clock faked; the socket-level test is in ccs-client.test.ts):
 * which answers open it, for how long, which requests it holds back, and what it counts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../src/ccs/circuit-breaker';
import { ErrorType } from '../../src/domain/errors';

const ORIGIN = 'https://ccs-app01.corp.example:12431';
const MAX_RETRY_AFTER_MS = 60_000;

describe('the circuit breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T12:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a 429 or 503 with Retry-After holds back its group until then, and only its group', () => {
    const breaker = new CircuitBreaker(ORIGIN, MAX_RETRY_AFTER_MS);
    breaker.answered('jobruns', 429, '2');
    const refused = breaker.refusal('job', 'GET /ccs/api/v1/jobs/x');
    expect(refused).toMatchObject({ type: ErrorType.RateLimited, retryAfterMs: 2_000, mayHaveReachedServer: false });
    expect(refused?.message).toBe(
      `GET /ccs/api/v1/jobs/x not sent: read requests to ${ORIGIN} are paused until 2026-12-01T12:00:02.000Z (CCS answered 429 with Retry-After)`,
    );
    // Job operations and tokens are other groups: an abort is never held back by throttled reads.
    expect(breaker.refusal('abort', 'POST /x')).toBeUndefined();
    expect(breaker.refusal('token', 'POST /x')).toBeUndefined();
    breaker.answered('execute', 503, '1');
    expect(breaker.refusal('abort', 'POST /x')?.message).toContain('job operation requests');
    vi.advanceTimersByTime(2_000);
    expect(breaker.refusal('jobruns', 'GET /x')).toBeUndefined();
    expect(breaker.stats).toEqual({ pauses: 2, refused: 2, waited: 0 });
  });

  it('stays shut for other statuses, a missing or unreadable Retry-After, and caps a long one', () => {
    const breaker = new CircuitBreaker(ORIGIN, MAX_RETRY_AFTER_MS);
    breaker.answered('jobruns', 500, '30');
    breaker.answered('jobruns', 429, undefined);
    breaker.answered('jobruns', 503, 'soon');
    expect(breaker.refusal('jobruns', 'GET /x')).toBeUndefined();
    breaker.answered('jobruns', 429, '86400');
    expect(breaker.refusal('jobruns', 'GET /x')?.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
    expect(breaker.stats).toEqual({ pauses: 1, refused: 1, waited: 0 });
  });

  it('a shorter Retry-After while paused neither shortens the pause nor counts as a new one', () => {
    const breaker = new CircuitBreaker(ORIGIN, MAX_RETRY_AFTER_MS);
    breaker.answered('jobruns', 429, '10');
    breaker.answered('jobsearch', 429, '1');
    vi.advanceTimersByTime(5_000);
    expect(breaker.refusal('jobruns', 'GET /x')?.retryAfterMs).toBe(5_000);
    // pausedFor reads the time left without counting a refusal.
    expect(breaker.pausedFor('job')).toBe(5_000);
    expect(breaker.pausedFor('abort')).toBe(0);
    breaker.answered('jobruns', 429, '20');
    expect(breaker.refusal('jobruns', 'GET /x')?.retryAfterMs).toBe(20_000);
    expect(breaker.stats.pauses).toBe(1);
  });
});
