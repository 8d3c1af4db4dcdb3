/**
 * The codec server as the Temporal UI meets it, over real HTTPS on port 0: OIDC tokens minted here
 * and verified against a JWKS served here (refusals for a missing, expired, wrongly signed, wrong
 * audience or issuer, and unauthorised-namespace token), the reverse-proxy token header, CORS only
 * for configured origins, /encode off, limits, the decode log and its metric, and the configuration.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
// undici's fetch: the global one has no typed `dispatcher`, which carries the test CA.
import { Agent, fetch, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec } from '../../src/hosting/codec';
import { oidcAuthorizer, proxyTokenAuthorizer } from '../../src/hosting/codec-auth';
import { DECODE_METRIC, DECODED_PAYLOADS_METRIC, startCodecServer, type CodecAuditEntry } from '../../src/hosting/codec-server';
import { loadCodecServerConfig } from '../../src/hosting/codec-server-config';
import { startupErrorLine } from '../../src/hosting/startup-error';
import { generateTlsMaterial } from '../../src/sim/cert';
import { tempDir } from '../temp-dir';

const k1 = { id: 'k1', key: randomBytes(32) };
const codec = new AesGcmCodec([k1]);
const ISSUER = 'https://login.example.test/realms/ops';
const AUDIENCE = 'temporal-ui';
const UI = 'https://temporal.example.test';
const tls = generateTlsMaterial(['127.0.0.1']);
const trusted = new Agent({ connect: { ca: tls.caPem } });

let signing: { privateKey: KeyLike; publicKey: KeyLike };
let stranger: { privateKey: KeyLike; publicKey: KeyLike };
let jwksServer: http.Server;
let jwksUrl = '';
let server: { url: string; close: () => Promise<void> };
const audit: CodecAuditEntry[] = [];

async function mint(
  claims: JWTPayload,
  options: { key?: KeyLike; exp?: string | number; issuer?: string; audience?: string } = {},
): Promise<string> {
  return new SignJWT({ groups: ['ccs-operators'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'ops-1' })
    .setSubject(typeof claims.sub === 'string' ? claims.sub : 'alice@example.test')
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
    .sign(options.key ?? signing.privateKey);
}

const secretText = 'the-customer-asset-list';
async function encryptedBody(count = 1): Promise<string> {
  const sealed = await codec.encode(
    Array.from({ length: count }, () => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(`"${secretText}"`) })),
  );
  return JSON.stringify({
    payloads: sealed.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data!).toString('base64'),
    })),
  });
}

function post(path: string, headers: Record<string, string>, body: string): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body,
    dispatcher: trusted,
  });
}

beforeAll(async () => {
  signing = await generateKeyPair('RS256');
  stranger = await generateKeyPair('RS256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'ops-1', alg: 'RS256', use: 'sig' }] });
  jwksServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
  server = await startCodecServer({
    codec,
    authorize: oidcAuthorizer({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { url: jwksUrl },
      namespaceClaim: 'groups',
      grants: { default: ['ccs-operators'], prod: ['ccs-admins'] },
    }),
    corsOrigins: [UI],
    tls: { certPem: tls.certPem, keyPem: tls.keyPem },
    maxPayloads: 5,
    port: 0,
    audit: (entry) => audit.push(entry),
  });
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
  await trusted.close();
});

describe('the codec server with OIDC', () => {
  it('decodes over HTTPS for a verified token whose group may read the namespace; logs and counts who, where, how many', async () => {
    audit.length = 0;
    const res = await post('/decode', { authorization: `Bearer ${await mint({ sub: 'alice@example.test' })}` }, await encryptedBody(2));
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as { payloads: { data: string }[] };
    expect(payloads.map((p) => Buffer.from(p.data, 'base64').toString())).toEqual([`"${secretText}"`, `"${secretText}"`]);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(audit).toEqual([
      { msg: 'codec decode', outcome: 'ok', status: 200, subject: 'alice@example.test', namespace: 'default', payloads: 2 },
    ]);
    expect(JSON.stringify(audit)).not.toContain(secretText);
    const metrics = await (await fetch(`${server.url}/metrics`, { dispatcher: trusted })).text();
    expect(metrics).toContain(`${DECODE_METRIC}{outcome="ok",namespace="default"} 1`);
    expect(metrics).toContain(`${DECODED_PAYLOADS_METRIC}{namespace="default"} 2`);
  });

  it('refuses a missing, expired, wrongly signed, wrong-audience, wrong-issuer or unauthorised token', async () => {
    const body = await encryptedBody();
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, string>, number, string][] = [
      ['missing', {}, 401, 'a bearer access token is required (turn on the UI codec setting "pass access token")'],
      ['not a JWT', { authorization: 'Bearer not-a-token' }, 401, 'the token cannot be verified'],
      ['expired', { authorization: `Bearer ${await mint({}, { exp: now - 120 })}` }, 401, 'the token has expired'],
      [
        'another key',
        { authorization: `Bearer ${await mint({}, { key: stranger.privateKey })}` },
        401,
        "the token is not signed by the issuer's keys",
      ],
      [
        'audience',
        { authorization: `Bearer ${await mint({}, { audience: 'another-app' })}` },
        401,
        "the token's aud claim is not accepted",
      ],
      [
        'issuer',
        { authorization: `Bearer ${await mint({}, { issuer: 'https://evil.example.test' })}` },
        401,
        "the token's iss claim is not accepted",
      ],
      [
        'namespace',
        { authorization: `Bearer ${await mint({ sub: 'bob' })}`, 'x-namespace': 'prod' },
        403,
        'bob may not decode payloads of namespace prod',
      ],
      [
        'no group',
        { authorization: `Bearer ${await mint({ sub: 'carol', groups: [] })}` },
        403,
        'carol may not decode payloads of namespace default',
      ],
    ];
    audit.length = 0;
    for (const [name, headers, status, message] of cases) {
      const res = await post('/decode', headers, body);
      expect({ name, status: res.status, message: ((await res.json()) as { message: string }).message }).toEqual({ name, status, message });
    }
    expect(audit.map((e) => e.outcome)).toEqual(cases.map(() => 'refused'));
    const metrics = await (await fetch(`${server.url}/metrics`, { dispatcher: trusted })).text();
    expect(metrics).toContain(`${DECODE_METRIC}{outcome="refused",namespace=""} ${cases.length}`);
    expect(JSON.stringify(audit)).not.toContain(secretText);
  });

  it('admits a admin group to another namespace through the grants', async () => {
    const token = await mint({ sub: 'dana', groups: ['ccs-admins'] });
    expect((await post('/decode', { authorization: `Bearer ${token}`, 'x-namespace': 'prod' }, await encryptedBody())).status).toBe(200);
  });

  it('answers CORS only for configured origins, without credentials mode unless configured', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-namespace' },
        dispatcher: trusted,
      });
    const ours = await preflight(UI);
    expect(ours.status).toBe(204);
    expect(ours.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ours.headers.get('access-control-allow-credentials')).toBeNull();
    const foreign = await preflight('https://evil.example.test');
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await post(
      '/decode',
      { origin: 'https://evil.example.test', authorization: `Bearer ${await mint({})}` },
      await encryptedBody(),
    );
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps /encode off, and bounds the number of payloads', async () => {
    const token = `Bearer ${await mint({})}`;
    const encode = await post('/encode', { authorization: token }, await encryptedBody());
    expect(encode.status).toBe(404);
    expect(((await encode.json()) as { message: string }).message).toBe('/encode is off (CODEC_SERVER_ENABLE_ENCODE=true turns it on)');
    const many = await post('/decode', { authorization: token }, await encryptedBody(6));
    expect(many.status).toBe(413);
    expect(((await many.json()) as { message: string }).message).toBe('at most 5 payloads per request; got 6');
  });
});

describe('the codec server behind a reverse proxy', () => {
  it('compares the token header, logs the user the proxy names, limits namespaces, and serves /encode only when enabled', async () => {
    const entries: CodecAuditEntry[] = [];
    const proxied = await startCodecServer({
      codec,
      authorize: proxyTokenAuthorizer({
        token: 'p'.repeat(40),
        header: 'X-Codec-Token',
        userHeader: 'X-Forwarded-User',
        namespaces: ['default'],
      }),
      corsOrigins: [],
      enableEncode: true,
      port: 0,
      audit: (e) => entries.push(e),
    });
    try {
      const body = await encryptedBody();
      const call = (path: string, headers: Record<string, string>): Promise<Response> =>
        fetch(`${proxied.url}${path}`, { method: 'POST', headers: { 'x-namespace': 'default', ...headers }, body });
      expect((await call('/decode', { 'x-codec-token': 'p'.repeat(39) })).status).toBe(401);
      expect((await call('/decode', { authorization: `Bearer ${'p'.repeat(40)}` })).status).toBe(401);
      expect((await call('/decode', { 'x-codec-token': 'p'.repeat(40), 'x-namespace': 'prod' })).status).toBe(403);
      expect((await call('/decode', { 'x-codec-token': 'p'.repeat(40), 'x-forwarded-user': 'erin' })).status).toBe(200);
      expect((await call('/encode', { 'x-codec-token': 'p'.repeat(40) })).status).toBe(200);
      expect(entries.filter((e) => e.outcome === 'ok')).toEqual([
        { msg: 'codec decode', outcome: 'ok', status: 200, subject: 'erin', namespace: 'default', payloads: 1 },
        { msg: 'codec encode', outcome: 'ok', status: 200, subject: 'proxy', namespace: 'default', payloads: 1 },
      ]);
    } finally {
      await proxied.close();
    }
  });
});

describe('loadCodecServerConfig', () => {
  const keys = `k1:${k1.key.toString('base64')}`;
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadCodecServerConfig(env);
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  };

  it('reports every problem together, and names the new variables for an old one', () => {
    expect(
      problems({ CODEC_SERVER_CORS_ORIGIN: 'http://localhost:8233', CODEC_SERVER_HOST: '0.0.0.0', CODEC_SERVER_TOKEN: 'short' }),
    ).toEqual([
      'CODEC_SERVER_CORS_ORIGIN is no longer read: set CODEC_SERVER_CORS_ORIGINS (comma-separated origins of the Temporal UI)',
      'CCS_CODEC_KEYS is required',
      'CODEC_SERVER_TOKEN must be 32+ characters (e.g. openssl rand -base64 32)',
      'CODEC_SERVER_HOST 0.0.0.0 is not loopback: set CODEC_SERVER_TLS_CERT_FILE and CODEC_SERVER_TLS_KEY_FILE (plain http only on 127.0.0.1 for development or behind a local proxy)',
    ]);
    expect(problems({ CCS_CODEC_KEYS: keys })).toEqual([
      'set CODEC_SERVER_OIDC_ISSUER (OIDC) or CODEC_SERVER_TOKEN (a token header set by a reverse proxy): see docs/operations.md',
    ]);
    expect(problems({ CCS_CODEC_KEYS: keys, CODEC_SERVER_OIDC_ISSUER: ISSUER })).toEqual([
      'CODEC_SERVER_OIDC_AUDIENCE is required with CODEC_SERVER_OIDC_ISSUER',
      'CODEC_SERVER_OIDC_JWKS_URL or CODEC_SERVER_OIDC_JWKS_FILE is required with CODEC_SERVER_OIDC_ISSUER',
      'CODEC_SERVER_NAMESPACE_GRANTS is required with OIDC, e.g. default=ccs-operators|ccs-admins (who may decode which namespace)',
    ]);
    const line = startupErrorLine(
      'codec server',
      (() => {
        try {
          loadCodecServerConfig({});
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(line).toMatch(/^codec server: invalid configuration \(2 problems\):/);
  });

  it('reads OIDC with a JWKS file and TLS files into a frozen configuration', async () => {
    const dir = tempDir('codec-config-');
    const write = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const config = loadCodecServerConfig({
      CCS_CODEC_KEYS: keys,
      CODEC_SERVER_OIDC_ISSUER: ISSUER,
      CODEC_SERVER_OIDC_AUDIENCE: AUDIENCE,
      CODEC_SERVER_OIDC_JWKS_FILE: write('jwks.json', JSON.stringify({ keys: [await exportJWK(signing.publicKey)] })),
      CODEC_SERVER_NAMESPACE_CLAIM: 'roles',
      CODEC_SERVER_NAMESPACE_GRANTS: 'default=ccs-operators|ccs-admins; prod=ccs-admins',
      CODEC_SERVER_HOST: '0.0.0.0',
      CODEC_SERVER_TLS_CERT_FILE: write('cert.pem', tls.certPem),
      CODEC_SERVER_TLS_KEY_FILE: write('key.pem', tls.keyPem),
      CODEC_SERVER_CORS_ORIGINS: `${UI}/, http://localhost:8233`,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.auth).toMatchObject({
      kind: 'oidc',
      namespaceClaim: 'roles',
      grants: { default: ['ccs-operators', 'ccs-admins'], prod: ['ccs-admins'] },
    });
    expect(config.corsOrigins).toEqual([UI, 'http://localhost:8233']);
    expect([config.enableEncode, config.allowCredentials, config.maxBodyBytes, config.maxPayloads]).toEqual([
      false,
      false,
      4 * 1024 * 1024,
      1000,
    ]);
  });
});
