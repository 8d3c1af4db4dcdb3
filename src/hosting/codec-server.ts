/**
 * The remote codec endpoint the Temporal UI (and `temporal --codec-endpoint`) call to show encrypted
 * payloads to people allowed to see them: POST /decode (and /encode only when enabled) with
 * `{"payloads": [...]}`. HTTPS (plain http only on loopback), every request authorised per
 * namespace (codec-auth.ts), CORS only for configured origins, each decode logged and counted,
 * bodies and payload counts bounded. GET /metrics serves the counters in Prometheus text format.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { AesGcmCodec } from './codec';
import type { CodecAuthorizer, CodecCaller } from './codec-auth';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PAYLOADS, isLoopback } from './codec-server-config';
import { reportStartupError } from './startup-error';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const toPayload = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** The default largest request body (CODEC_SERVER_MAX_BODY_BYTES): the Temporal UI sends a page of payloads. */
export const MAX_BODY_BYTES = DEFAULT_MAX_BODY_BYTES;
export const DECODE_METRIC = 'ccs_codec_decode_requests_total';
export const DECODED_PAYLOADS_METRIC = 'ccs_codec_decoded_payloads_total';

/** One record per decode or encode request: who, which namespace, how many payloads; never a payload. */
export interface CodecAuditEntry {
  msg: 'codec decode' | 'codec encode';
  outcome: 'ok' | 'refused' | 'error';
  status: number;
  subject: string | undefined;
  namespace: string | undefined;
  payloads: number;
  reason?: string;
}

export interface CodecServerOptions {
  codec: AesGcmCodec;
  authorize: CodecAuthorizer;
  /** Origins of the Temporal UI allowed to call from a browser (CORS); none: no CORS headers at all. */
  corsOrigins: readonly string[];
  /** Send Access-Control-Allow-Credentials (only when the UI's "include credentials" is on). */
  allowCredentials?: boolean;
  /** Serve /encode: off by default, since what it mints is ciphertext the workers accept. */
  enableEncode?: boolean;
  maxBodyBytes?: number;
  maxPayloads?: number;
  /** PEM certificate and key: HTTPS. Without them only a loopback host is accepted. */
  tls?: { certPem: string; keyPem: string } | undefined;
  port?: number;
  host?: string;
  audit?: (entry: CodecAuditEntry) => void;
}

// Labels come from authorised namespaces only, and at most this many: a caller cannot grow the metric set.
const MAX_LABELLED_NAMESPACES = 100;

function counters(): { add: (outcome: string, namespace: string | undefined, payloads: number) => void; text: () => string } {
  const requests = new Map<string, number>();
  const decoded = new Map<string, number>();
  const label = (ns: string | undefined): string =>
    ns === undefined ? '' : decoded.has(ns) || decoded.size < MAX_LABELLED_NAMESPACES ? ns : 'other';
  return {
    add: (outcome, namespace, payloads) => {
      const ns = outcome === 'ok' ? label(namespace) : '';
      const key = `outcome="${outcome}",namespace="${ns}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      if (outcome === 'ok') decoded.set(ns, (decoded.get(ns) ?? 0) + payloads);
    },
    text: () =>
      [
        `# HELP ${DECODE_METRIC} Decode requests by outcome (ok, refused, error) and namespace (authorised requests only)`,
        `# TYPE ${DECODE_METRIC} counter`,
        ...[...requests].map(([k, v]) => `${DECODE_METRIC}{${k}} ${v}`),
        `# HELP ${DECODED_PAYLOADS_METRIC} Payloads decoded for authorised callers, by namespace`,
        `# TYPE ${DECODED_PAYLOADS_METRIC} counter`,
        ...[...decoded].map(([ns, v]) => `${DECODED_PAYLOADS_METRIC}{namespace="${ns}"} ${v}`),
        '',
      ].join('\n'),
  };
}

/** Starts the endpoint; rejects for plain http on a non-loopback host, or when the port cannot be bound. */
export async function startCodecServer(options: CodecServerOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  if (!options.tls && !isLoopback(host))
    throw new Error(`the codec server serves plain http only on loopback; give it a TLS certificate and key to listen on ${host}`);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxPayloads = options.maxPayloads ?? DEFAULT_MAX_PAYLOADS;
  const metrics = counters();
  const audit = (entry: CodecAuditEntry): void => {
    if (entry.msg === 'codec decode') metrics.add(entry.outcome, entry.namespace, entry.payloads);
    options.audit?.(entry);
  };

  const handler: http.RequestListener = (req, res) => {
    const origin = req.headers.origin;
    // An origin not configured gets no CORS header at all, so the browser refuses to hand it the answer.
    if (origin && options.corsOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      if (options.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    const reply = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'OPTIONS') return reply(origin && options.corsOrigins.includes(origin) ? 204 : 403);
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return void res.end(metrics.text());
    }
    if (req.method !== 'POST' || (path !== '/decode' && path !== '/encode'))
      return reply(404, { message: options.enableEncode ? 'POST /decode or /encode' : 'POST /decode' });
    const msg = path === '/decode' ? 'codec decode' : 'codec encode';
    if (path === '/encode' && !options.enableEncode)
      return reply(404, { message: '/encode is off (CODEC_SERVER_ENABLE_ENCODE=true turns it on)' });
    const refuse = (status: number, message: string, caller?: CodecCaller): void => {
      audit({ msg, outcome: 'refused', status, subject: caller?.subject, namespace: caller?.namespace, payloads: 0, reason: message });
      res.setHeader('connection', 'close');
      reply(status, { message });
    };
    // Bounded: a body over the limit is refused (413) and the connection closed, not buffered.
    if (Number(req.headers['content-length']) > maxBody) return refuse(413, `the body is over ${maxBody} bytes`);
    void options.authorize(req.headers).then((auth) => {
      if (!auth.ok) return refuse(auth.status, auth.message);
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody && !refused) {
          refused = true;
          refuse(413, `the body is over ${maxBody} bytes`, auth.caller);
          req.destroy();
        } else if (!refused) chunks.push(c);
      });
      req.on('end', () => {
        if (refused) return;
        void (async () => {
          let count = 0;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
            if (!Array.isArray(body.payloads)) return refuse(400, 'body must be {"payloads": [...]}', auth.caller);
            count = body.payloads.length;
            if (count > maxPayloads) return refuse(413, `at most ${maxPayloads} payloads per request; got ${count}`, auth.caller);
            const payloads = body.payloads.map(toPayload);
            const out = path === '/decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
            audit({ msg, outcome: 'ok', status: 200, ...auth.caller, payloads: count });
            reply(200, { payloads: out.map(toJson) });
          } catch (err) {
            // CodecError and JSON messages name keys and positions, never payload content.
            const message = err instanceof SyntaxError ? 'the body is not JSON' : (err as Error).message;
            audit({ msg, outcome: 'error', status: 400, ...auth.caller, payloads: count, reason: message });
            reply(400, { message });
          }
        })();
      });
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem, minVersion: 'TLSv1.2' }, handler)
    : http.createServer(handler);
  // Bounded slow clients: a request must arrive whole within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8888, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const { loadCodecServerConfig } = await import('./codec-server-config');
  const { AesGcmCodec } = await import('./codec');
  const { oidcAuthorizer, proxyTokenAuthorizer } = await import('./codec-auth');
  const config = loadCodecServerConfig(process.env);
  const { auth } = config;
  const write = (entry: object): void => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  const server = await startCodecServer({
    // Never strict: the UI must also show payloads written before encryption was turned on.
    codec: new AesGcmCodec(config.codec.keys, config.codec.activeKeyId),
    authorize:
      auth.kind === 'oidc'
        ? oidcAuthorizer({ ...auth })
        : proxyTokenAuthorizer({ token: auth.token, header: auth.header, userHeader: auth.userHeader, namespaces: auth.namespaces }),
    corsOrigins: config.corsOrigins,
    allowCredentials: config.allowCredentials,
    enableEncode: config.enableEncode,
    maxBodyBytes: config.maxBodyBytes,
    maxPayloads: config.maxPayloads,
    tls: config.tls,
    port: config.port,
    host: config.host,
    audit: (entry) => write({ level: entry.outcome === 'ok' ? 'info' : 'warn', ...entry }),
  });
  write({
    level: 'info',
    msg: `codec server listening on ${server.url} (set it as the Temporal UI's codec endpoint)`,
    auth: auth.kind,
    corsOrigins: config.corsOrigins,
    encode: config.enableEncode,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

if (require.main === module) {
  main().catch((err: unknown) => reportStartupError('codec server', err));
}
