/**
 * The remote codec endpoint the Temporal UI (and `temporal --codec-endpoint`) call to show encrypted
 * payloads to people allowed to see them: POST /decode and /encode with `{"payloads": [...]}`.
 * Every request must carry `Authorization: Bearer <CODEC_SERVER_TOKEN>`; CORS admits the UI's origin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { reportStartupError } from './startup-error';
import { timingSafeEqual } from 'node:crypto';
import type { AesGcmCodec } from './codec';

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

/** The largest request body the codec endpoint reads: the Temporal UI sends a page of payloads. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface CodecServerOptions {
  codec: AesGcmCodec;
  /** Bearer token the caller must present. */
  token: string;
  /** Origin of the Temporal UI allowed to call (CORS). */
  corsOrigin: string;
  port?: number;
  host?: string;
}

export async function startCodecServer(options: CodecServerOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const authorised = (header: string | undefined): boolean => {
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', options.corsOrigin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    const reply = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') return reply(204);
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== '/decode' && path !== '/encode')) return reply(404, { message: 'POST /decode or /encode' });
    if (!authorised(req.headers.authorization)) return reply(401, { message: 'a valid bearer token is required' });
    // Bounded: a body over the limit is refused (413) and the connection closed, not buffered.
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close');
      return reply(413, { message: `the body is over ${MAX_BODY_BYTES} bytes` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES && !refused) {
        refused = true;
        res.setHeader('connection', 'close');
        reply(413, { message: `the body is over ${MAX_BODY_BYTES} bytes` });
        req.destroy();
      } else if (!refused) chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads?: JsonPayload[] };
          if (!Array.isArray(body.payloads)) return reply(400, { message: 'body must be {"payloads": [...]}' });
          const payloads = body.payloads.map(toPayload);
          const out = path === '/decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
          reply(200, { payloads: out.map(toJson) });
        } catch (err) {
          reply(400, { message: (err as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8888, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const { loadCodecConfig } = await import('./config');
  const { AesGcmCodec } = await import('./codec');
  const problems: string[] = [];
  const codec = loadCodecConfig(process.env, problems);
  if (!codec) problems.push('CCS_CODEC_KEYS is required');
  const token = process.env.CODEC_SERVER_TOKEN;
  if (!token || token.length < 16)
    problems.push('CODEC_SERVER_TOKEN is required (16+ characters): the UI users present it as a bearer token');
  const port = Number(process.env.CODEC_SERVER_PORT ?? 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('CODEC_SERVER_PORT must be 0-65535');
  if (problems.length > 0 || !codec || !token) throw new Error(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  const server = await startCodecServer({
    codec: new AesGcmCodec(codec.keys, codec.activeKeyId),
    token,
    corsOrigin: process.env.CODEC_SERVER_CORS_ORIGIN ?? 'http://localhost:8233',
    port,
    host: process.env.CODEC_SERVER_HOST ?? '127.0.0.1',
  });
  console.log(`codec server listening on ${server.url} (set it as the Temporal UI's codec endpoint)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

if (require.main === module) {
  main().catch((err: unknown) => reportStartupError('codec server', err));
}
