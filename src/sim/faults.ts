/**
 * Fault injection: what a failing CCS, proxy or network does to a request, by probability, before
 * or after CCS acted on it. Set through the control API (`POST /__sim/faults`) or `setFaults`.
 */
import type { Endpoint, Reply } from './wire';
import { HttpError } from './wire';

/** Fault injection settings; `{}` clears them. Rates are probabilities per matching request. */
export interface SimFaults {
  errorRate?: number;
  errorStatus?: number[];
  resetRate?: number;
  latencyMs?: number;
  rateLimitRate?: number;
  retryAfterSeconds?: number;
  /** Answer 200 with a cut-off body (a proxy or a crash mid-write). */
  corruptRate?: number;
  /** Only these endpoints are affected (default: all CCS endpoints). */
  endpoints?: Endpoint[];
  /** With latencyMs: the share of requests delayed (default 1, all). */
  slowRate?: number;
  /** Fault after CCS processed the request (the run exists, the answer is lost). Default false. */
  afterProcessing?: boolean;
  /** Inject at most this many faults, then clear. */
  limit?: number;
}

export type FaultKind = 'reset' | 'error' | 'ratelimit' | 'corrupt';

/** Checks fault settings from the control API; a bad value is a 400 naming it. */
export function validateFaults(input: unknown): SimFaults {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new HttpError(400, 'faults must be an object');
  const f = input as SimFaults;
  for (const key of ['errorRate', 'resetRate', 'rateLimitRate', 'corruptRate', 'slowRate'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) throw new HttpError(400, `${key} must be a number from 0 to 1`);
  }
  return { ...f };
}

export class FaultInjector {
  private faults: SimFaults = {};

  get current(): SimFaults {
    return this.faults;
  }

  set(input: unknown): SimFaults {
    this.faults = validateFaults(input);
    return this.faults;
  }

  /** Waits the configured latency when it applies to this request. */
  async delay(endpoint: Endpoint, f: SimFaults = this.faults): Promise<void> {
    if (f.latencyMs && (!f.endpoints || f.endpoints.includes(endpoint)) && Math.random() < (f.slowRate ?? 1)) {
      await new Promise((r) => setTimeout(r, f.latencyMs));
    }
  }

  /** Rolls the dice for one request; returns the fault to inject, if any. */
  pick(endpoint: Endpoint, phase: 'before' | 'after'): FaultKind | null {
    const f = this.faults;
    if ((f.afterProcessing ? 'after' : 'before') !== phase) return null;
    if (f.endpoints && !f.endpoints.includes(endpoint)) return null;
    const roll = Math.random();
    const reset = f.resetRate ?? 0;
    const error = f.errorRate ?? 0;
    const limited = f.rateLimitRate ?? 0;
    const corrupt = f.corruptRate ?? 0;
    const pick =
      roll < reset ? 'reset'
      : roll < reset + error ? 'error'
      : roll < reset + error + limited ? 'ratelimit'
      : roll < reset + error + limited + corrupt ? 'corrupt'
      : null;
    if (pick && f.limit !== undefined) {
      f.limit -= 1;
      if (f.limit <= 0) this.faults = {};
    }
    return pick;
  }

  /** The answer a fault gives instead of (or made from) the real one. */
  reply(kind: Exclude<FaultKind, 'reset'>, f: SimFaults, real?: Reply): Reply {
    if (kind === 'corrupt') {
      const text = real?.body === undefined ? '{"JobRunID":' : JSON.stringify(real.body);
      return { status: 200, body: text.slice(0, Math.max(1, Math.floor(text.length / 2))), headers: { 'content-type': 'application/json' } };
    }
    if (kind === 'ratelimit') {
      return { status: 429, headers: { 'retry-after': String(f.retryAfterSeconds ?? 1) }, body: { Message: 'Too many requests.' } };
    }
    const statuses = f.errorStatus?.length ? f.errorStatus : [500];
    const status = statuses[Math.floor(Math.random() * statuses.length)] ?? 500;
    return { status, body: status === 502 || status === 503 ? '<html><body><h1>Service Unavailable</h1></body></html>' : { Message: 'An error has occurred.' } };
  }
}
