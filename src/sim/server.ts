/**
 * The CCS simulator: an HTTP(S) server that speaks the CCS token and Job service wire format, with
 * state, fault injection and a control API under `/__sim`. It is an independent implementation:
 * it shares no parsing or serialisation code with the client in `src/ccs`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateTlsMaterial, loadOrCreateTlsMaterial, type TlsMaterial } from './cert';
import { isTerminal, SimState, type SimJob, type SimRun } from './state';

export type Endpoint = 'token' | 'execute' | 'abort' | 'jobruns' | 'job' | 'other';

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

export interface SimUser {
  password: string;
  /** operator: everything; viewer: read only (403 on job operations); none: 403 everywhere. */
  role: 'operator' | 'viewer' | 'none';
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  tls?: boolean;
  /** Reuse (or create) ca.pem, cert.pem and key.pem here, so a restarted simulator keeps its CA. */
  tlsDir?: string;
  /** Extra host names the certificate is valid for (e.g. a container's service name). */
  tlsNames?: string[];
  jobs?: SimJob[];
  stateFile?: string;
  tokenTtlSeconds?: number;
  refreshTtlSeconds?: number;
  users?: Record<string, SimUser>;
  /** Execute answers `{"JobStatusInfo": {...}}` (wrapped, default) or the fields at top level (flat). */
  responseShape?: 'wrapped' | 'flat';
  /** `Status` as the documented integer (default) or as its name. */
  statusFormat?: 'number' | 'name';
  /** Called after each CCS request is answered (the benchmark's request log). */
  onRequest?: (event: SimRequestEvent) => void;
}

export interface SimRequestEvent {
  endpoint: Endpoint;
  /** HTTP status, or 'reset' for a dropped connection. */
  status: number | 'reset';
  /** Lower-case JobID (or JobRunID for abort/execute paths) from the path, when it has one. */
  id: string | undefined;
  /** The user the token belongs to (or the token request names), when known. */
  user: string | undefined;
  at: number;
}

export interface Simulator {
  /** `https://127.0.0.1:<port>/ccs/api/v1` */
  baseUrl: string;
  port: number;
  /** PEM of the CA that signed the server certificate (undefined without TLS). */
  caPem: string | undefined;
  state: SimState;
  stats: () => Record<string, Record<string, number>>;
  setFaults: (faults: SimFaults) => void;
  revokeTokens: () => void;
  /** Every access and refresh token issued so far, for tests that scan for leaked secrets. */
  issuedTokens: () => string[];
  close: () => Promise<void>;
}

const API = '/ccs/api/v1';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUS_CODES: Record<string, number> = { none: 0, pending: 1, executing: 2, idle: 3, completed: 4, faulted: 5, custom: 6, aborted: 7 };
const STATUS_NAMES = ['None', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'];
const NOT_ENDED = '0001-01-01T00:00:00';
const FORBIDDEN = 'You are not authorized to perform this task. Access is denied.';
const MAX_BODY = 1 << 20;

export const DEFAULT_USERS: Record<string, SimUser> = { 'sim-user': { password: 'sim-password', role: 'operator' } };

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** .NET round-trip format with 7 fraction digits and Z, as in the vendor's sample. */
function ccsDate(ms: number | null): string {
  return ms === null ? NOT_ENDED : new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new HttpError(413, 'The request body is too large.'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new SimState(options.jobs ?? [], options.stateFile);
  const users = options.users ?? DEFAULT_USERS;
  const tokenTtl = (options.tokenTtlSeconds ?? 3600) * 1000;
  const refreshTtl = (options.refreshTtlSeconds ?? 5400) * 1000;
  const accessTokens = new Map<string, { user: string; expiresAt: number }>();
  const issued: string[] = [];
  const refreshTokens = new Map<string, { user: string; expiresAt: number }>();
  const counts: Record<string, Record<string, number>> = {};
  let faults: SimFaults = {};
  const useTls = options.tls !== false;
  const host = options.host ?? '127.0.0.1';

  const userOf = new WeakMap<http.IncomingMessage, string>();
  const count = (endpoint: Endpoint, outcome: number | 'reset', req?: http.IncomingMessage, id?: string): void => {
    const row = (counts[endpoint] ??= {});
    row[String(outcome)] = (row[String(outcome)] ?? 0) + 1;
    if (options.onRequest && req) options.onRequest({ endpoint, status: outcome, id, user: userOf.get(req), at: Date.now() });
  };

  const statusValue = (status: string | number): string | number => {
    const code = typeof status === 'number' ? status : STATUS_CODES[status.toLowerCase()];
    if (options.statusFormat === 'name') return typeof status === 'number' ? (STATUS_NAMES[status] ?? status) : status;
    return code ?? status;
  };

  const runInfo = (run: SimRun, withMessages: boolean): Record<string, unknown> => {
    const view = state.view(run);
    const statusText = String(view.status).toLowerCase();
    const info: Record<string, unknown> = {
      JobRunID: run.JobRunID,
      JobID: run.JobID,
      CustomStatusText: run.plan.customStatusText ?? '',
      Exception: statusText === 'faulted' || statusText === '5' ? (run.plan.exception ?? 'The job failed.') : null,
      JobStartTime: ccsDate(run.startedAt),
      JobEndTime: ccsDate(view.endedAt),
      JobSummary: view.endedAt === null ? null : (run.plan.summary ?? null),
      Status: statusValue(view.status),
      ActivityStatusList: [],
    };
    if (withMessages) {
      const messages = run.plan.messages ?? [];
      info.ErrorCount = messages.length;
      info.Messages = messages.map((m) => ({ Time: m.Time ?? ccsDate(run.startedAt), Message: m.Message }));
    }
    return info;
  };

  const issueTokens = (user: string): Record<string, unknown> => {
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(16).toString('hex');
    accessTokens.set(access, { user, expiresAt: Date.now() + tokenTtl });
    issued.push(access, refresh);
    refreshTokens.set(refresh, { user, expiresAt: Date.now() + refreshTtl });
    return { access_token: access, token_type: 'bearer', expires_in: Math.round(tokenTtl / 1000), refresh_token: refresh };
  };

  const tokenEndpoint = (req: http.IncomingMessage, raw: string): Reply => {
    // Vendor samples send a form body labelled application/json: read it as a form whatever the label.
    const form = new URLSearchParams(raw.trim());
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const name = form.get('username') ?? '';
      userOf.set(req, name);
      const user = users[name];
      if (!user || user.password !== form.get('password')) {
        return { status: 400, body: { error: 'invalid_grant', error_description: 'The user name or password is incorrect.' } };
      }
      return { status: 200, body: issueTokens(name) };
    }
    if (grant === 'refresh_token') {
      const token = form.get('refresh_token') ?? '';
      const entry = refreshTokens.get(token);
      refreshTokens.delete(token); // rotation: a refresh token is good once
      if (entry) userOf.set(req, entry.user);
      if (!entry || entry.expiresAt <= Date.now()) return { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' } };
      return { status: 200, body: issueTokens(entry.user) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  };

  const authorize = (req: http.IncomingMessage, write: boolean): void => {
    const header = req.headers.authorization ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header);
    const entry = match ? accessTokens.get(match[1] ?? '') : undefined;
    if (entry) userOf.set(req, entry.user);
    if (!entry || entry.expiresAt <= Date.now()) throw new HttpError(401, 'Authorization has been denied for this request.');
    const role = users[entry.user]?.role ?? 'none';
    if (role === 'none' || (write && role !== 'operator')) throw new HttpError(403, FORBIDDEN);
  };

  /** Reads `Operation` from a job-operation body, any key case; null when the body is not JSON. */
  const operationOf = (raw: string): string | null => {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return null;
    }
    const key = body && typeof body === 'object' ? Object.keys(body).find((k) => k.toLowerCase() === 'operation') : undefined;
    return key ? String((body as Record<string, unknown>)[key]).toLowerCase() : '';
  };

  const execute = (id: string): Reply => {
    const job = state.jobs.get(id);
    if (!job) throw new HttpError(400, `Job ${id} does not exist.`);
    const latest = state.runsOf(id)[0];
    if (latest && job.rejectExecuteWhileRunning !== false && !isTerminal(state.view(latest).status)) {
      throw new HttpError(400, `Job ${id} is already running.`);
    }
    const info = runInfo(state.startRun(job), false);
    return { status: 200, body: options.responseShape === 'flat' ? info : { JobStatusInfo: info } };
  };

  const abort = (id: string): Reply => {
    const run = state.runs.get(id);
    if (!run) throw new HttpError(400, `Job run ${id} does not exist.`);
    if (isTerminal(state.view(run).status)) throw new HttpError(400, `Job run ${id} is not running.`);
    state.requestAbort(run);
    return { status: 204 };
  };

  /** Decides what a CCS request is and how to answer it, without answering yet. */
  const route = (req: http.IncomingMessage, path: string, query: Map<string, string>, raw: string): { endpoint: Endpoint; id?: string; reply: () => Reply } => {
    const method = req.method ?? 'GET';
    const lower = path.toLowerCase().replace(/\/+$/, '');
    if (lower === `${API}/oauth/tokens` && method === 'POST') return { endpoint: 'token', reply: () => tokenEndpoint(req, raw) };
    const m = /^\/ccs\/api\/v1\/jobs\/([^/]+)(\/jobruns)?$/.exec(lower);
    if (!m) return { endpoint: 'other', reply: () => ({ status: 404, body: { Message: 'No HTTP resource was found that matches the request URI.' } }) };
    const id = decodeURIComponent(m[1] ?? '');
    const check = (write: boolean): void => {
      authorize(req, write);
      if (!GUID.test(id)) throw new HttpError(400, `The ID ${JSON.stringify(id.slice(0, 50))} is not a valid GUID.`);
    };
    if (m[2] && method === 'GET') {
      return {
        endpoint: 'jobruns',
        id,
        reply: () => {
          check(false);
          if (!state.jobs.has(id)) throw new HttpError(400, `Job ${id} does not exist.`);
          const countText = query.get('count') ?? '1';
          if (!/^\d+$/.test(countText)) throw new HttpError(400, 'The count parameter must be a non-negative integer.');
          const n = Number(countText);
          const runs = state.runsOf(id);
          const withMessages = (query.get('showmessages') ?? '').toLowerCase() === 'true';
          return { status: 200, body: (n === 0 ? runs : runs.slice(0, n)).map((r) => runInfo(r, withMessages)) };
        },
      };
    }
    if (!m[2] && method === 'GET') {
      return {
        endpoint: 'job',
        id,
        reply: () => {
          check(false);
          const job = state.jobs.get(id);
          if (!job) throw new HttpError(400, `Job ${id} does not exist.`);
          const latest = state.runsOf(id)[0];
          const view = latest ? state.view(latest) : undefined;
          return {
            status: 200,
            body: {
              JobID: job.JobID,
              JobName: job.JobName,
              JobType: job.JobType ?? 'CollectionEvaluationJob',
              JobCategory: 'User',
              LastRunStatus: view ? statusValue(view.status) : 0,
              LastRunDate: ccsDate(latest ? latest.startedAt : null),
            },
          };
        },
      };
    }
    if (!m[2] && method === 'POST') {
      const operation = operationOf(raw);
      return {
        endpoint: operation === 'abort' ? 'abort' : 'execute',
        id,
        reply: () => {
          // Authorise before judging the body: an unauthenticated caller learns nothing about operations.
          check(true);
          if (operation === null) throw new HttpError(400, 'The request body is invalid.');
          if (operation === 'execute') return execute(id);
          if (operation === 'abort') return abort(id);
          throw new HttpError(400, `The operation ${JSON.stringify(operation)} is not supported; use execute or abort.`);
        },
      };
    }
    return { endpoint: 'other', reply: () => ({ status: 405, body: { Message: `The requested resource does not support http method '${method}'.` } }) };
  };

  const control = (req: http.IncomingMessage, path: string, query: Map<string, string>, raw: string): Reply => {
    const body = raw.trim() ? (JSON.parse(raw) as unknown) : {};
    const method = req.method ?? 'GET';
    switch (`${method} ${path.toLowerCase().replace(/\/+$/, '')}`) {
      case 'POST /__sim/jobs': {
        let job: SimJob;
        try {
          job = state.addJob(validateJob(body));
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
        return { status: 201, body: { JobID: job.JobID } };
      }
      case 'GET /__sim/jobs':
        return { status: 200, body: [...state.jobs.values()] };
      case 'GET /__sim/runs': {
        const jobId = query.get('jobid')?.toLowerCase();
        const runs = [...state.runs.values()].filter((r) => !jobId || r.JobID === jobId);
        return {
          status: 200,
          body: runs.map((r) => {
            const view = state.view(r);
            return {
              JobRunID: r.JobRunID,
              JobID: r.JobID,
              Status: STATUS_NAMES[Number(statusValue(view.status))] ?? view.status,
              StartTime: new Date(r.startedAt).toISOString(),
              EndTime: view.endedAt === null ? null : new Date(view.endedAt).toISOString(),
              ExecuteRequests: r.executeRequests,
              AbortRequests: r.abortRequests,
            };
          }),
        };
      }
      case 'GET /__sim/stats':
        return { status: 200, body: counts };
      case 'POST /__sim/faults':
        faults = validateFaults(body);
        return { status: 200, body: faults };
      case 'POST /__sim/revoke-tokens':
        accessTokens.clear();
        refreshTokens.clear();
        return { status: 204 };
      case 'POST /__sim/reset':
        state.reset();
        faults = {};
        for (const key of Object.keys(counts)) delete counts[key];
        return { status: 204 };
      default:
        return { status: 404, body: { Message: `No control endpoint ${method} ${path}` } };
    }
  };

  /** Rolls the dice for one request; returns the fault to inject, if any. */
  const pickFault = (endpoint: Endpoint, phase: 'before' | 'after'): 'reset' | 'error' | 'ratelimit' | 'corrupt' | null => {
    const f = faults;
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
      if (f.limit <= 0) faults = {};
    }
    return pick;
  };

  const faultReply = (kind: 'error' | 'ratelimit' | 'corrupt', f: SimFaults, real?: Reply): Reply => {
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
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const query = new Map<string, string>();
    for (const [k, v] of url.searchParams) query.set(k.toLowerCase(), v);
    const send = (reply: Reply): void => {
      const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const type = typeof reply.body === 'string' ? 'text/html' : 'application/json; charset=utf-8';
      res.writeHead(reply.status, { ...(text ? { 'content-type': type } : {}), ...reply.headers });
      res.end(text);
    };
    const isControl = url.pathname.toLowerCase().startsWith('/__sim/');
    let endpoint: Endpoint = 'other';
    let id: string | undefined;
    try {
      const raw = await readBody(req);
      if (isControl) return send(control(req, url.pathname, query, raw));
      const active = faults;
      const routed = route(req, url.pathname, query, raw);
      endpoint = routed.endpoint;
      id = routed.id;
      if (active.latencyMs && (!active.endpoints || active.endpoints.includes(endpoint)) && Math.random() < (active.slowRate ?? 1)) {
        await new Promise((r) => setTimeout(r, active.latencyMs));
      }
      const before = pickFault(endpoint, 'before');
      if (before === 'reset') {
        count(endpoint, 'reset', req, id);
        req.socket.destroy();
        return;
      }
      if (before) {
        const reply = faultReply(before, active, { status: 200, body: {} });
        count(endpoint, reply.status, req, id);
        return send(reply);
      }
      let reply: Reply;
      try {
        reply = routed.reply();
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        reply = { status: err.status, body: { Message: err.message } };
      }
      const after = reply.status < 300 ? pickFault(endpoint, 'after') : null;
      if (after === 'reset') {
        count(endpoint, 'reset', req, id);
        req.socket.destroy();
        return;
      }
      if (after) reply = faultReply(after, active, reply);
      count(endpoint, reply.status, req, id);
      send(reply);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof SyntaxError ? 400 : 500;
      if (!isControl) count(endpoint, status, req, id);
      if (!res.headersSent) send({ status, body: { Message: err instanceof Error ? err.message : String(err) } });
    }
  };

  let tlsMaterial: TlsMaterial | undefined;
  const names = [...new Set(['localhost', host, '127.0.0.1', '::1', ...(options.tlsNames ?? [])])];
  if (useTls) tlsMaterial = options.tlsDir ? loadOrCreateTlsMaterial(options.tlsDir, names) : generateTlsMaterial(names);
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => void handle(req, res);
  const server = tlsMaterial ? https.createServer({ key: tlsMaterial.keyPem, cert: tlsMaterial.certPem }, listener) : http.createServer(listener);
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 12431, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    baseUrl: `${useTls ? 'https' : 'http'}://${urlHost}:${port}${API}`,
    port,
    caPem: tlsMaterial?.caPem,
    state,
    stats: () => structuredClone(counts),
    setFaults: (f) => {
      faults = validateFaults(f);
    },
    revokeTokens: () => {
      accessTokens.clear();
      refreshTokens.clear();
    },
    issuedTokens: () => [...issued],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Checks a scenario job; throws a one-line error naming the field. */
export function validateJob(input: unknown, where = 'job'): SimJob {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${where} must be an object`);
  const job = input as Partial<SimJob>;
  if (job.JobID !== undefined && !GUID.test(String(job.JobID))) throw new Error(`${where}.JobID must be a GUID; got ${JSON.stringify(job.JobID)}`);
  const checkSteps = (steps: unknown, at: string): void => {
    if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${at} must be a non-empty list of [status, seconds]`);
    steps.forEach((step, i) => {
      if (!Array.isArray(step) || step.length !== 2 || !['string', 'number'].includes(typeof step[0]) || typeof step[1] !== 'number' || step[1] < 0) {
        throw new Error(`${at}[${i}] must be [status, seconds ≥ 0]; got ${JSON.stringify(step)}`);
      }
    });
  };
  checkSteps(job.steps, `${where}.steps`);
  job.runs?.forEach((plan, i) => plan.steps !== undefined && checkSteps(plan.steps, `${where}.runs[${i}].steps`));
  return { JobName: `Simulated job`, ...job, JobID: job.JobID ?? randomUUID() } as SimJob;
}

function validateFaults(input: unknown): SimFaults {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new HttpError(400, 'faults must be an object');
  const f = input as SimFaults;
  for (const key of ['errorRate', 'resetRate', 'rateLimitRate', 'corruptRate', 'slowRate'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) throw new HttpError(400, `${key} must be a number from 0 to 1`);
  }
  return { ...f };
}
