/**
 * The CCS simulator: an HTTP(S) server that speaks the CCS token and Job service wire format (and
 * the asset-group, Results and Reports endpoints a run's findings are read with, findings.ts), with
 * state, fault injection and a control API under `/__sim`. It is an independent implementation:
 * it shares no parsing or serialisation code with the client in `src/ccs`. This module assembles
 * the parts (wire.ts, auth.ts, job-service.ts, faults.ts, control.ts) and listens.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { DEFAULT_USERS, TokenAuthority } from './auth';
import { generateSelfSignedMaterial, generateTlsMaterial, loadOrCreateTlsMaterial, type TlsMaterial } from './cert';
import { ControlApi, RequestRate, type RequestCounts } from './control';
import { FaultInjector, type SimFaults } from './faults';
import { JobService, type JobServiceOptions } from './job-service';
import { SimState, type SimJob } from './state';
import { API, HttpError, readBody, type Endpoint, type Reply } from './wire';

export { DEFAULT_USERS, ROLES, type SimRole, type SimUser } from './auth';
export { RESULTS_SHAPES, type ResultsShape } from './findings';
import type { SimUser } from './auth';
export type { SimFaults } from './faults';
export { validateJob } from './scenario';
export type { Endpoint } from './wire';

export interface SimulatorOptions extends JobServiceOptions {
  port?: number;
  host?: string;
  tls?: boolean;
  /** Reuse (or create) ca.pem, cert.pem and key.pem here, so a restarted simulator keeps its CA. */
  tlsDir?: string;
  /** Extra host names the certificate is valid for (e.g. a container's service name). */
  tlsNames?: string[];
  /**
   * The certificate's only name, as CCS's (`Symantec_Components`), instead of the host's names: a client
   * must check that name (CCS_TLS_SERVERNAME) or pin the certificate. Default: the host's names.
   */
  certName?: string;
  /** A self-signed certificate, as CCS binds by default (with `certName`; else named after the host). */
  selfSigned?: boolean;
  jobs?: SimJob[];
  stateFile?: string;
  tokenTtlSeconds?: number;
  refreshTtlSeconds?: number;
  users?: Record<string, SimUser>;
  /** How the password arrives in a grant: base64 (default, the vendor's current page) or plain. */
  passwordEncoding?: 'base64' | 'plain';
  /** Called after each CCS request is answered (the benchmark's request log). */
  onRequest?: (event: SimRequestEvent) => void;
}

export interface SimRequestEvent {
  endpoint: Endpoint;
  /** HTTP status, or 'reset' for a dropped connection. */
  status: number | 'reset';
  /**
   * Lower-case JobID (or JobRunID for abort/execute paths) from the path, when it has one; the
   * group's id for assetgroup; the JobRunID a Results body or a Reports query names, if any.
   */
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
  /** CCS requests answered in each of the latest whole seconds (the control API's GET /__sim/request-rate). */
  requestRate: () => { second: string; requests: number }[];
  setFaults: (faults: SimFaults) => void;
  revokeTokens: () => void;
  /** Sets or rotates a user's password (the control API's POST /__sim/users). */
  setUser: (name: string, user: SimUser) => void;
  /** Every access and refresh token issued so far, for tests that scan for leaked secrets. */
  issuedTokens: () => string[];
  close: () => Promise<void>;
}

/** An error answer that quotes the request back, as IIS error pages and some gateways do. */
function echoed(reply: Reply, req: http.IncomingMessage, raw: string): Reply {
  const quoted = `Request: ${req.method ?? ''} ${req.url ?? ''} Authorization: ${req.headers.authorization ?? '(none)'}; body: ${raw}`;
  if (typeof reply.body === 'string') return { ...reply, body: `${reply.body}<pre>${quoted}</pre>` };
  const body = (reply.body ?? {}) as Record<string, unknown>;
  const said = [body.Message, body.error_description].find((v): v is string => typeof v === 'string') ?? 'Error';
  return { ...reply, body: { ...body, Message: `${said} ${quoted}` } };
}

/** Writes `body` a few bytes at a time, `perSecond` bytes a second, until done or the client goes away. */
function drip(res: http.ServerResponse, body: Buffer, perSecond: number): void {
  const chunk = Math.max(1, Math.round(perSecond / 10));
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed || at >= body.length) {
      clearInterval(timer);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(body.subarray(at, at + chunk));
    at += chunk;
  }, 100);
  res.once('close', () => clearInterval(timer));
}

/** Starts a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const state = new SimState(options.jobs ?? [], options.stateFile);
  const tokens = new TokenAuthority(
    { ...(options.users ?? DEFAULT_USERS) },
    (options.tokenTtlSeconds ?? 3600) * 1000,
    (options.refreshTtlSeconds ?? 5400) * 1000,
    options.passwordEncoding,
  );
  const counts: RequestCounts = {};
  const rate = new RequestRate();
  const faults = new FaultInjector();
  const jobs = new JobService(state, tokens, options, () => faults.current);
  const control = new ControlApi(state, counts, faults, tokens, rate);
  const useTls = options.tls !== false;
  const host = options.host ?? '127.0.0.1';

  const userOf = new WeakMap<http.IncomingMessage, string>();
  const count = (endpoint: Endpoint, outcome: number | 'reset', req?: http.IncomingMessage, id?: string): void => {
    const row = (counts[endpoint] ??= {});
    row[String(outcome)] = (row[String(outcome)] ?? 0) + 1;
    rate.add();
    if (options.onRequest && req) options.onRequest({ endpoint, status: outcome, id, user: userOf.get(req), at: Date.now() });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const query = new Map<string, string>();
    for (const [k, v] of url.searchParams) query.set(k.toLowerCase(), v);
    const send = (reply: Reply, hostile: SimFaults = {}): void => {
      // Bytes (a report file) go as they are, with the reply's own content type.
      if (Buffer.isBuffer(reply.body)) {
        res.writeHead(reply.status, { 'content-type': 'application/octet-stream', ...reply.headers });
        if (hostile.dripBytesPerSecond && reply.body.length) return drip(res, reply.body, hostile.dripBytesPerSecond);
        res.end(reply.body);
        return;
      }
      let text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const type = typeof reply.body === 'string' ? 'text/html' : 'application/json; charset=utf-8';
      if (hostile.oversizeBytes && reply.status < 300 && text.length < hostile.oversizeBytes)
        text += ' '.repeat(hostile.oversizeBytes - text.length);
      res.writeHead(reply.status, { ...(text ? { 'content-type': type } : {}), ...reply.headers });
      if (hostile.dripBytesPerSecond && text) return drip(res, Buffer.from(text), hostile.dripBytesPerSecond);
      res.end(text);
    };
    const isControl = url.pathname.toLowerCase().startsWith('/__sim/');
    let endpoint: Endpoint = 'other';
    let id: string | undefined;
    try {
      const raw = await readBody(req);
      if (isControl) return send(control.handle(req, url.pathname, query, raw));
      const active = faults.current;
      const routed = jobs.route(req, url.pathname, query, raw, (user) => userOf.set(req, user));
      endpoint = routed.endpoint;
      id = routed.id;
      await faults.delay(endpoint, active);
      const before = faults.pick(endpoint, 'before');
      if (before === 'reset') {
        count(endpoint, 'reset', req, id);
        req.socket.destroy();
        return;
      }
      if (before) {
        let reply = faults.reply(before, active, { status: 200, body: {} });
        if (active.echoRequest && reply.status >= 400) reply = echoed(reply, req, raw);
        count(endpoint, reply.status, req, id);
        return send(reply);
      }
      let reply: Reply;
      try {
        reply = routed.reply();
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        // A bearer-protected resource names its scheme on 401 (RFC 6750), as ASP.NET Web API does.
        reply = {
          status: err.status,
          body: { Message: err.message },
          ...(err.status === 401 ? { headers: { 'www-authenticate': 'Bearer' } } : {}),
        };
      }
      const after = reply.status < 300 ? faults.pick(endpoint, 'after') : null;
      if (after === 'reset') {
        count(endpoint, 'reset', req, id);
        req.socket.destroy();
        return;
      }
      if (after) reply = faults.reply(after, active, reply);
      const hostile = faults.applies(endpoint, active) ? active : {};
      if (hostile.echoRequest && reply.status >= 400) reply = echoed(reply, req, raw);
      count(endpoint, reply.status, req, id);
      send(reply, hostile);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : err instanceof SyntaxError ? 400 : 500;
      if (!isControl) count(endpoint, status, req, id);
      if (!res.headersSent) send({ status, body: { Message: err instanceof Error ? err.message : String(err) } });
    }
  };

  let tlsMaterial: TlsMaterial | undefined;
  const names = [...new Set(['localhost', host, '127.0.0.1', '::1', ...(options.tlsNames ?? [])])];
  if (useTls) {
    const certNames = options.certName ? [options.certName] : names;
    if (options.selfSigned) tlsMaterial = generateSelfSignedMaterial(certNames[0]!);
    else tlsMaterial = options.tlsDir ? loadOrCreateTlsMaterial(options.tlsDir, certNames) : generateTlsMaterial(certNames);
  }
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => void handle(req, res);
  const server = tlsMaterial
    ? https.createServer({ key: tlsMaterial.keyPem, cert: tlsMaterial.certPem }, listener)
    : http.createServer(listener);
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
    requestRate: () => rate.perSecond(),
    setFaults: (f) => void faults.set(f),
    revokeTokens: () => tokens.revoke(),
    setUser: (name, user) => tokens.setUser(name, user),
    issuedTokens: () => tokens.issued(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
