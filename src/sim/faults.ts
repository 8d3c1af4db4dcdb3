/**
 * Fault injection: what a failing CCS, proxy or network does to a request, by probability, before
 * or after CCS acted on it. Set through the control API (`POST /__sim/faults`) or `setFaults`.
 */
import type { Endpoint, Reply } from './wire';
import { ENDPOINTS, HttpError } from './wire';

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
  /**
   * Only these endpoints are affected (default: all CCS endpoints): token, execute, abort, jobruns,
   * job (Search Job by ID), jobsearch, assetgroup, results, reports, other.
   */
  endpoints?: Endpoint[];
  /** With latencyMs: the share of requests delayed (default 1, all). */
  slowRate?: number;
  /** Fault after CCS processed the request (the run exists, the answer is lost). Default false. */
  afterProcessing?: boolean;
  /** Inject at most this many faults, then clear. */
  limit?: number;
  /** The faults take effect this many seconds after they are set (default at once). */
  startInSeconds?: number;
  /** ...and clear themselves this many seconds after taking effect (default: until changed). */
  activeForSeconds?: number;
  /** Hostile: every error answer quotes the request's Authorization header and body (IIS error pages, gateways). */
  echoRequest?: boolean;
  /** Hostile: successful answers padded with whitespace to this many bytes (still valid JSON; a report file is left as it is). */
  oversizeBytes?: number;
  /** Hostile: each run carries an ActivityStatusList of about this many bytes (entries of ~1 KiB). */
  activityStatusBytes?: number;
  /** Hostile: answer bodies are sent this many bytes a second (a slow drip; headers at once). */
  dripBytesPerSecond?: number;
  /** Hostile: run dates that are not dates ("2024-13-45T99:99:99"). */
  malformedDates?: boolean;
  /** Dialect seen in the field: an execute answered 200 whose body names no JobRunID (the run is started). */
  executeWithoutRunId?: boolean;
  /** Hostile: a 200 token answer form-encoded (`access_token=…&…`) instead of JSON. */
  tokenForm?: boolean;
  /** Hostile: the token endpoint refuses every grant, password and refresh alike (400 invalid_grant): a rotated or locked account. */
  refuseGrants?: boolean;
  /**
   * Every jobruns read (the only way to read a run) leaves out runs started less than this many seconds
   * ago, whatever `endpoints` says: a listing served by a replica, a cache or a job service that
   * registers runs asynchronously. Execute (refusing while such a run goes), abort and the job read
   * see every run at once. Runs already listed show their current status.
   */
  listingLagSeconds?: number;
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
  for (const key of [
    'startInSeconds',
    'activeForSeconds',
    'oversizeBytes',
    'activityStatusBytes',
    'dripBytesPerSecond',
    'latencyMs',
    'retryAfterSeconds',
    'listingLagSeconds',
  ] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new HttpError(400, `${key} must be a number ≥ 0`);
  }
  if (f.endpoints !== undefined && (!Array.isArray(f.endpoints) || f.endpoints.some((e) => !ENDPOINTS.includes(e))))
    throw new HttpError(400, `endpoints must be a list of ${ENDPOINTS.join(', ')}; got ${JSON.stringify(f.endpoints)}`);
  if ((f.oversizeBytes ?? 0) > 1024 ** 3) throw new HttpError(400, 'oversizeBytes must be at most 1 GiB');
  if ((f.listingLagSeconds ?? 0) > 3600) throw new HttpError(400, 'listingLagSeconds must be at most 3600 (an hour)');
  return { ...f };
}

export class FaultInjector {
  private faults: SimFaults = {};
  private setAt = 0;

  /** The faults in effect now: `{}` before `startInSeconds` and after `activeForSeconds`. */
  get current(): SimFaults {
    const f = this.faults;
    const from = this.setAt + (f.startInSeconds ?? 0) * 1000;
    const now = Date.now();
    if (now < from) return {};
    if (f.activeForSeconds !== undefined && now >= from + f.activeForSeconds * 1000) return {};
    return f;
  }

  set(input: unknown): SimFaults {
    this.faults = validateFaults(input);
    this.setAt = Date.now();
    return this.faults;
  }

  /** Whether a fault that is not drawn by rate applies to this endpoint now. */
  applies(endpoint: Endpoint, f: SimFaults = this.current): boolean {
    return !f.endpoints || f.endpoints.includes(endpoint);
  }

  /** Waits the configured latency when it applies to this request. */
  async delay(endpoint: Endpoint, f: SimFaults = this.faults): Promise<void> {
    if (f.latencyMs && (!f.endpoints || f.endpoints.includes(endpoint)) && Math.random() < (f.slowRate ?? 1)) {
      await new Promise((r) => setTimeout(r, f.latencyMs));
    }
  }

  /** Rolls the dice for one request; returns the fault to inject, if any. */
  pick(endpoint: Endpoint, phase: 'before' | 'after'): FaultKind | null {
    const f = this.current;
    if ((f.afterProcessing ? 'after' : 'before') !== phase) return null;
    if (f.endpoints && !f.endpoints.includes(endpoint)) return null;
    const roll = Math.random();
    const reset = f.resetRate ?? 0;
    const error = f.errorRate ?? 0;
    const limited = f.rateLimitRate ?? 0;
    const corrupt = f.corruptRate ?? 0;
    const pick =
      roll < reset
        ? 'reset'
        : roll < reset + error
          ? 'error'
          : roll < reset + error + limited
            ? 'ratelimit'
            : roll < reset + error + limited + corrupt
              ? 'corrupt'
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
      // A file (a report) cut off mid-way keeps its headers, as a dropped proxy stream does.
      if (Buffer.isBuffer(real?.body))
        return { status: 200, body: real.body.subarray(0, Math.max(1, Math.floor(real.body.length / 2))), headers: real.headers ?? {} };
      const text = real?.body === undefined ? '{"JobRunID":' : JSON.stringify(real.body);
      return {
        status: 200,
        body: text.slice(0, Math.max(1, Math.floor(text.length / 2))),
        headers: { 'content-type': 'application/json' },
      };
    }
    if (kind === 'ratelimit') {
      return { status: 429, headers: { 'retry-after': String(f.retryAfterSeconds ?? 1) }, body: { Message: 'Too many requests.' } };
    }
    const statuses = f.errorStatus?.length ? f.errorStatus : [500];
    const status = statuses[Math.floor(Math.random() * statuses.length)] ?? 500;
    return {
      status,
      body:
        status === 502 || status === 503 ? '<html><body><h1>Service Unavailable</h1></body></html>' : { Message: 'An error has occurred.' },
    };
  }
}
