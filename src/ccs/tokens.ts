/**
 * CCS access tokens: one cached token per client shared by every concurrent caller, obtained once
 * (single flight), renewed ahead of expiry, by refresh grant first and password grant as fallback.
 * A refused password is not tried again before a back-off window passes (1 min, doubling to 15 min)
 * unless the password changed: each refused grant counts toward the service account's lockout.
 *
 * A lifetime CCS announces is believed between {@link MIN_TOKEN_LIFETIME_MS} and
 * {@link MAX_TOKEN_LIFETIME_MS}: an `expires_in` of 1 (or 0, negative, absurd) must not make every
 * call a grant. A token CCS refuses sooner is renewed on the 401 and the call replayed once.
 */
import { CcsError, ErrorType } from '../domain/errors';
import { errorForStatus, jsonBody, serverText } from './answer-errors';
import type { HttpResponse } from './requests';
import type { Transport } from './transport';

const TOKEN_PATH = '/oauth/tokens';
const DEFAULT_ACCESS_TTL_MS = 60 * 60_000; // documented: 60 minutes
const DEFAULT_REFRESH_TTL_MS = 90 * 60_000; // documented: 90 minutes
export const DEFAULT_REFUSAL_BACKOFF_MS = 60_000;
export const MAX_REFUSAL_BACKOFF_MS = 15 * 60_000;
/**
 * The shortest lifetime believed: a token is used at least about this long (less the renewal lead,
 * at most a fifth of it), so one client makes at most about two grants a minute however short the
 * lifetime CCS announces.
 */
export const MIN_TOKEN_LIFETIME_MS = 30_000;
/** The longest lifetime believed; a token CCS refuses sooner is renewed on the 401 anyway. */
export const MAX_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;

/**
 * How the password travels in the grant. The vendor's current Job Operation page annotates it
 * `<Base64 encoded>`; older public samples send it as typed. Never both: each refused grant counts
 * toward the account's lockout.
 */
export type PasswordEncoding = 'base64' | 'plain';
export const DEFAULT_PASSWORD_ENCODING: PasswordEncoding = 'base64';

export interface TokenOptions {
  username: string;
  /** Default base64, as the vendor's current page says (CCS_PASSWORD_ENCODING). */
  passwordEncoding?: PasswordEncoding | undefined;
  /** The password, or how to read it now (a password file is read again after a refusal: rotation). */
  password: string | (() => string);
  /** Renew this long before expiry (capped at a fifth of the lifetime). Default 60 s. */
  refreshLeadMs?: number | undefined;
  /** Announced lifetimes below this are raised to it. Default {@link MIN_TOKEN_LIFETIME_MS}. */
  minTokenLifetimeMs?: number | undefined;
  /** CCS does not send the refresh token's lifetime; the documented default is 90 minutes. */
  refreshTtlMs?: number | undefined;
  /** First wait after CCS refused the password; doubles per refusal up to 15 min. Default 1 min. */
  refusalBackoffMs?: number | undefined;
  now?: (() => number) | undefined;
}

interface TokenState {
  access: string;
  refresh: string | null;
  renewAt: number;
  refreshExpiresAt: number;
}

/** A refused password: not sent again before `until` (unless it changed). */
interface Refusal {
  password: string;
  until: number;
  backoffMs: number;
  message: string;
}

/** Counts for tests, benchmarks and metrics. */
export interface TokenStats {
  passwordGrants: number;
  refreshGrants: number;
  /** Password grants not sent because the same password was refused within the back-off window. */
  grantsHeldBack: number;
}

export class TokenManager {
  readonly stats: TokenStats = { passwordGrants: 0, refreshGrants: 0, grantsHeldBack: 0 };
  private state: TokenState | null = null;
  private pending: Promise<string> | null = null;
  private refusal: Refusal | null = null;
  private readonly now: () => number;

  constructor(
    private readonly transport: Transport,
    private readonly options: TokenOptions,
  ) {
    this.now = options.now ?? Date.now;
    if (typeof options.password === 'string') transport.secrets.addPassword(options.password);
  }

  /** A valid access token, fetched at most once however many callers ask at the same time. */
  async get(signal?: AbortSignal): Promise<string> {
    const state = this.state;
    if (state && this.now() < state.renewAt) return state.access;
    // The request behind it has a deadline, so a failed or hung grant always releases the flight.
    this.pending ??= this.renew().finally(() => {
      this.pending = null;
    });
    return signal ? raceAbort(this.pending, signal) : this.pending;
  }

  /** Forgets `token` after CCS refused it (401), so the next {@link get} renews it. */
  invalidate(token: string): void {
    if (this.state?.access === token) this.state = { ...this.state, renewAt: 0 };
    this.transport.secrets.retire(token);
  }

  private currentPassword(): string {
    const { password } = this.options;
    const value = typeof password === 'string' ? password : password();
    this.transport.secrets.addPassword(value);
    return value;
  }

  private async renew(): Promise<string> {
    const previous = this.state;
    if (previous?.refresh && this.now() < previous.refreshExpiresAt) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: previous.refresh });
      } catch (err) {
        // An expired or rotated refresh token: forget it (it will not work again) and fall back to
        // the password grant. Outages propagate.
        if (!(err instanceof CcsError) || err.type !== ErrorType.AuthenticationFailed) throw err;
        this.state = { ...previous, refresh: null };
      }
    }
    const password = this.currentPassword();
    const refusal = this.refusal;
    if (refusal && refusal.password === password && this.now() < refusal.until) {
      this.stats.grantsHeldBack++;
      throw new CcsError(
        ErrorType.AuthenticationFailed,
        `${refusal.message}; the same password is not sent again before ${new Date(refusal.until).toISOString()} (account lockout protection), unless the password file changes`,
      );
    }
    const encoding = this.options.passwordEncoding ?? DEFAULT_PASSWORD_ENCODING;
    const sent = encoding === 'base64' ? Buffer.from(password, 'utf8').toString('base64') : password;
    this.transport.secrets.addPassword(sent);
    try {
      const token = await this.grant({ grant_type: 'password', username: this.options.username, password: sent });
      this.refusal = null;
      return token;
    } catch (err) {
      if (err instanceof CcsError && err.type === ErrorType.AuthenticationFailed) {
        const backoffMs =
          refusal?.password === password
            ? Math.min(refusal.backoffMs * 2, MAX_REFUSAL_BACKOFF_MS)
            : (this.options.refusalBackoffMs ?? DEFAULT_REFUSAL_BACKOFF_MS);
        this.refusal = { password, until: this.now() + backoffMs, backoffMs, message: err.message };
      }
      throw err;
    }
  }

  /** `expires_in` as milliseconds, within the believed bounds; absent or unreadable: the documented 60 minutes. */
  private believedLifetimeMs(expiresIn: unknown): number {
    const seconds = Number(expiresIn);
    if (!Number.isFinite(seconds) || seconds <= 0) return DEFAULT_ACCESS_TTL_MS;
    return Math.min(Math.max(seconds * 1000, this.options.minTokenLifetimeMs ?? MIN_TOKEN_LIFETIME_MS), MAX_TOKEN_LIFETIME_MS);
  }

  private async grant(fields: Record<string, string>): Promise<string> {
    const isRefresh = fields.grant_type === 'refresh_token';
    if (isRefresh) this.stats.refreshGrants++;
    else this.stats.passwordGrants++;
    const where = `POST ${TOKEN_PATH} (${fields.grant_type} grant)`;
    const secrets = this.transport.secrets;
    const res = await this.transport.send({
      operation: 'token',
      method: 'POST',
      path: TOKEN_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
    });
    if (res.status === 400 || res.status === 401) {
      const who = isRefresh ? 'the refresh token' : `the credentials of user ${JSON.stringify(this.options.username)}`;
      const encoding = this.options.passwordEncoding ?? DEFAULT_PASSWORD_ENCODING;
      const hint = isRefresh
        ? ''
        : encoding === 'base64'
          ? "; the password was sent Base64-encoded (CCS_PASSWORD_ENCODING=base64, as the vendor's current page says): if this CCS expects it as typed, set CCS_PASSWORD_ENCODING=plain"
          : '; the password was sent as typed (CCS_PASSWORD_ENCODING=plain): if this CCS expects it Base64-encoded, set CCS_PASSWORD_ENCODING=base64';
      throw new CcsError(
        ErrorType.AuthenticationFailed,
        `CCS refused ${who} (${res.status}: ${serverText(res.text, secrets) || 'no reason given'}); check CCS_USERNAME and CCS_PASSWORD and that the REST API is enabled${hint}`,
        { status: res.status },
      );
    }
    if (res.status !== 200) throw errorForStatus(res, where, { secrets, maxRetryAfterMs: this.transport.maxRetryAfterMs });
    const body = tokenFields(res, where);
    const access = body.access_token;
    if (typeof access !== 'string' || access === '') {
      throw new CcsError(ErrorType.ProtocolError, `${where} answered 200 without an access_token`);
    }
    const issuedAt = this.now();
    const ttl = this.believedLifetimeMs(body.expires_in);
    const lead = Math.min(this.options.refreshLeadMs ?? 60_000, ttl / 5);
    const refresh = typeof body.refresh_token === 'string' ? body.refresh_token : null;
    const refreshTtl = this.options.refreshTtlMs ?? DEFAULT_REFRESH_TTL_MS;
    // Searched for in answers until they expire (plus a grace); the ones they replace from now.
    secrets.add(access, issuedAt + ttl);
    secrets.add(refresh, issuedAt + refreshTtl);
    const previous = this.state;
    if (previous?.access !== access) secrets.retire(previous?.access);
    if (previous?.refresh !== refresh) secrets.retire(previous?.refresh);
    this.state = { access, refresh, renewAt: issuedAt + ttl - lead, refreshExpiresAt: issuedAt + refreshTtl - lead };
    return access;
  }
}

/**
 * The token answer's fields: JSON as documented, or a form-encoded body as some OAuth servers and
 * gateways send. Never quoted in an error: it holds the tokens.
 */
function tokenFields(res: HttpResponse, where: string): Record<string, unknown> {
  const type = String(res.headers['content-type'] ?? '');
  const text = res.text.trim();
  if (type.includes('application/x-www-form-urlencoded') || (!text.startsWith('{') && /(^|&)access_token=/.test(text))) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const body = jsonBody({ ...res, text: text }, where);
    if (typeof body === 'object' && body !== null) return body as Record<string, unknown>;
  } catch {
    // reported below, without the body
  }
  throw new CcsError(
    ErrorType.ProtocolError,
    `${where} answered 200 with a body that is neither JSON nor a form (${res.text.length} bytes, ${type.split(';')[0] || 'no content type'}); not quoted: it may hold tokens`,
  );
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
