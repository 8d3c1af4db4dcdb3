/**
 * The simulated CCS's OAuth token endpoint and bearer checks: password and refresh grants (refresh
 * tokens are good once), token lifetimes, revocation (an application-server restart), and roles.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { HttpError, type Reply } from './wire';

/**
 * What a user may do. operator: everything; viewer: read only (403 on job operations);
 * operator-no-results: everything but the "View evaluation results" task (403 on POST /Results and
 * GET /Reports; execute, abort, jobs, runs and asset groups work); none: 403 everywhere.
 *
 * The reference §3 lists "View evaluation results" among Job Operation's tasks too, so a real CCS
 * may refuse such a user's execute as well; the role models a custom role whose results are
 * withheld, for the worker's "findings forbidden" handling.
 */
export const ROLES = ['operator', 'viewer', 'operator-no-results', 'none'] as const;
export type SimRole = (typeof ROLES)[number];

export interface SimUser {
  password: string;
  role: SimRole;
}

/** A CCS task beyond reading jobs and runs that a request needs (the reference §1.3). */
export type SimTask = 'results';

const OPERATES = new Set<SimRole>(['operator', 'operator-no-results']);
const SEES_RESULTS = new Set<SimRole>(['operator', 'viewer']);

export const DEFAULT_USERS: Record<string, SimUser> = { 'sim-user': { password: 'sim-password', role: 'operator' } };

const FORBIDDEN = 'You are not authorized to perform this task. Access is denied.';

interface Grant {
  user: string;
  expiresAt: number;
}

export class TokenAuthority {
  private readonly access = new Map<string, Grant>();
  private readonly refresh = new Map<string, Grant>();
  private readonly everIssued: string[] = [];

  constructor(
    private readonly users: Record<string, SimUser>,
    private readonly tokenTtlMs: number,
    private readonly refreshTtlMs: number,
    /** How the password arrives: Base64 (the vendor's current page, default) or as typed (older samples). */
    private readonly passwordEncoding: 'base64' | 'plain' = 'base64',
  ) {}

  /** The password as the user typed it, or null when a Base64 field is not Base64. */
  private typedPassword(sent: string): string | null {
    if (this.passwordEncoding === 'plain') return sent;
    const decoded = Buffer.from(sent, 'base64');
    return decoded.toString('base64').replace(/=+$/, '') === sent.replace(/=+$/, '') ? decoded.toString('utf8') : null;
  }

  /** Every access and refresh token issued so far, for tests that scan for leaked secrets. */
  issued(): string[] {
    return [...this.everIssued];
  }

  /** Forgets every token: what an application-server restart does. */
  revoke(): void {
    this.access.clear();
    this.refresh.clear();
  }

  private issue(user: string): Record<string, unknown> {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(16).toString('hex');
    this.access.set(access, { user, expiresAt: Date.now() + this.tokenTtlMs });
    this.refresh.set(refresh, { user, expiresAt: Date.now() + this.refreshTtlMs });
    this.everIssued.push(access, refresh);
    return { access_token: access, token_type: 'bearer', expires_in: Math.round(this.tokenTtlMs / 1000), refresh_token: refresh };
  }

  /** Sets (or rotates) a user's password; tokens already issued stay valid, as with AD and CCS. */
  setUser(name: string, user: SimUser): void {
    this.users[name] = user;
  }

  /**
   * POST /oauth/tokens. `onUser` learns whom the request was for, for the request log. Hostile
   * options: refuse every grant (rotation, lockout), answer form-encoded instead of JSON.
   */
  tokenEndpoint(
    raw: string,
    onUser: (user: string) => void,
    hostile: { refuseGrants?: boolean | undefined; tokenForm?: boolean | undefined } = {},
  ): Reply {
    const reply = this.grant(raw, onUser, hostile.refuseGrants === true);
    if (!hostile.tokenForm || reply.status !== 200) return reply;
    const fields = Object.fromEntries(Object.entries(reply.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    return { status: 200, body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }

  private grant(raw: string, onUser: (user: string) => void, refuse: boolean): Reply {
    // Vendor samples send a form body labelled application/json: read it as a form whatever the label.
    const form = new URLSearchParams(raw.trim());
    const grant = form.get('grant_type');
    if (refuse) {
      const name = form.get('username');
      if (name) onUser(name);
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The user name or password is incorrect.' } };
    }
    if (grant === 'password') {
      const name = form.get('username') ?? '';
      onUser(name);
      const user = this.users[name];
      if (!user || user.password !== this.typedPassword(form.get('password') ?? '')) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'The user name or password is incorrect.' } };
      }
      return { status: 200, body: this.issue(name) };
    }
    if (grant === 'refresh_token') {
      const token = form.get('refresh_token') ?? '';
      const entry = this.refresh.get(token);
      this.refresh.delete(token); // rotation: a refresh token is good once
      if (entry) onUser(entry.user);
      if (!entry || entry.expiresAt <= Date.now())
        return { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' } };
      return { status: 200, body: this.issue(entry.user) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  }

  /**
   * Checks the bearer token and the user's role, for a job operation (`write`) or a read, and for
   * the task a read needs beyond the job and run reads (`task`); throws 401 or 403 as CCS does.
   */
  authorize(req: http.IncomingMessage, write: boolean, onUser: (user: string) => void, task?: SimTask): void {
    const header = req.headers.authorization ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header);
    const entry = match ? this.access.get(match[1] ?? '') : undefined;
    if (entry) onUser(entry.user);
    if (!entry || entry.expiresAt <= Date.now()) throw new HttpError(401, 'Authorization has been denied for this request.');
    const role = this.users[entry.user]?.role ?? 'none';
    if (role === 'none' || (write && !OPERATES.has(role)) || (task === 'results' && !SEES_RESULTS.has(role)))
      throw new HttpError(403, FORBIDDEN);
  }
}
