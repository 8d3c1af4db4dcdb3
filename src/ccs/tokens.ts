/**
 * CCS access tokens: one cached token per client shared by every concurrent caller, obtained once
 * (single flight), renewed ahead of expiry, by refresh grant first and password grant as fallback.
 */
import { CcsError, ErrorType } from '../domain/errors';
import { errorForStatus, jsonBody, serverText, type Transport } from './http';

const TOKEN_PATH = '/oauth/tokens';
const DEFAULT_ACCESS_TTL_MS = 60 * 60_000; // documented: 60 minutes
const DEFAULT_REFRESH_TTL_MS = 90 * 60_000; // documented: 90 minutes

export interface TokenOptions {
  username: string;
  password: string;
  /** Renew this long before expiry (capped at a fifth of the lifetime). Default 60 s. */
  refreshLeadMs?: number | undefined;
  /** CCS does not send the refresh token's lifetime; the documented default is 90 minutes. */
  refreshTtlMs?: number | undefined;
  now?: (() => number) | undefined;
}

interface TokenState {
  access: string;
  refresh: string | null;
  renewAt: number;
  refreshExpiresAt: number;
}

/** Counts for tests, benchmarks and metrics. */
export interface TokenStats {
  passwordGrants: number;
  refreshGrants: number;
}

export class TokenManager {
  readonly stats: TokenStats = { passwordGrants: 0, refreshGrants: 0 };
  private state: TokenState | null = null;
  private pending: Promise<string> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly transport: Transport,
    private readonly options: TokenOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A valid access token, fetched at most once however many callers ask at the same time. */
  async get(signal?: AbortSignal): Promise<string> {
    const state = this.state;
    if (state && this.now() < state.renewAt) return state.access;
    this.pending ??= this.renew().finally(() => {
      this.pending = null;
    });
    return signal ? raceAbort(this.pending, signal) : this.pending;
  }

  /** Forgets `token` after CCS refused it (401), so the next {@link get} renews it. */
  invalidate(token: string): void {
    if (this.state?.access === token) this.state = { ...this.state, renewAt: 0 };
  }

  private async renew(): Promise<string> {
    const previous = this.state;
    if (previous?.refresh && this.now() < previous.refreshExpiresAt) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: previous.refresh });
      } catch (err) {
        // An expired or rotated refresh token: fall back to the password grant. Outages propagate.
        if (!(err instanceof CcsError) || err.type !== ErrorType.AuthenticationFailed) throw err;
      }
    }
    return this.grant({ grant_type: 'password', username: this.options.username, password: this.options.password });
  }

  private async grant(fields: Record<string, string>): Promise<string> {
    const isRefresh = fields.grant_type === 'refresh_token';
    if (isRefresh) this.stats.refreshGrants++;
    else this.stats.passwordGrants++;
    const where = `POST ${TOKEN_PATH} (${fields.grant_type} grant)`;
    const res = await this.transport.send({
      operation: 'token',
      method: 'POST',
      path: TOKEN_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
    });
    if (res.status === 400 || res.status === 401) {
      const who = isRefresh ? 'the refresh token' : `the credentials of user ${JSON.stringify(this.options.username)}`;
      throw new CcsError(
        ErrorType.AuthenticationFailed,
        `CCS refused ${who} (${res.status}: ${serverText(res.text) || 'no reason given'}); check CCS_USERNAME and CCS_PASSWORD and that the REST API is enabled`,
        { status: res.status },
      );
    }
    if (res.status !== 200) throw errorForStatus(res, where);
    const body = jsonBody(res, where) as Record<string, unknown>;
    const access = body?.access_token;
    if (typeof access !== 'string' || access === '') {
      throw new CcsError(ErrorType.ProtocolError, `${where} answered 200 without an access_token`);
    }
    const issuedAt = this.now();
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : DEFAULT_ACCESS_TTL_MS;
    const lead = Math.min(this.options.refreshLeadMs ?? 60_000, ttl / 5);
    this.state = {
      access,
      refresh: typeof body.refresh_token === 'string' ? body.refresh_token : null,
      renewAt: issuedAt + ttl - lead,
      refreshExpiresAt: issuedAt + (this.options.refreshTtlMs ?? DEFAULT_REFRESH_TTL_MS) - lead,
    };
    return access;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
