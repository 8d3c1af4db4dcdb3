/**
 * Payload encryption keys: AES-256-GCM round trips, rotation by key id, tampering detected, bad keys
 * reported without key material.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec, parseCodecKeys } from '../../src/hosting/codec';
import { proxyTokenAuthorizer } from '../../src/hosting/codec-auth';
import { MAX_BODY_BYTES, startCodecServer } from '../../src/hosting/codec-server';
import { loadCodecConfig } from '../../src/hosting/config';
import { startupErrorLine } from '../../src/hosting/startup-error';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const encoder = new TextEncoder();

describe('AesGcmCodec', () => {
  it('round-trips, and decrypts payloads of an older key after rotation', async () => {
    const payload = { metadata: { encoding: encoder.encode('json/plain') }, data: encoder.encode('{"jobId":"x"}') };
    const [old] = await new AesGcmCodec([k1]).encode([payload]);
    expect(Buffer.from(old!.data!).toString()).not.toContain('jobId');
    const rotated = new AesGcmCodec([k2, k1]);
    const [fresh] = await rotated.encode([payload]);
    expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    for (const p of await rotated.decode([old!, fresh!])) expect(Buffer.from(p.data!).toString()).toBe('{"jobId":"x"}');
    await expect(new AesGcmCodec([k2]).decode([old!])).rejects.toThrow('payload was encrypted with key "k1", which is not configured');
    const tampered = { ...fresh!, data: Buffer.from(fresh!.data!).fill(1, 20, 21) };
    await expect(rotated.decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  it('strict (CCS_CODEC_STRICT=true) refuses an unencrypted payload with one line, and still decrypts encrypted ones', async () => {
    const plain = { metadata: { encoding: encoder.encode('json/plain') }, data: encoder.encode('{"jobId":"plain-secret"}') };
    const strict = new AesGcmCodec([k1], k1.id, { strict: true });
    const err = (await strict.decode([plain]).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('CodecError');
    expect(err.message).toBe(
      'refused an unencrypted payload (encoding "json/plain"): CCS_CODEC_STRICT=true accepts only payloads encrypted with CCS_CODEC_KEYS',
    );
    expect(err.message).not.toContain('plain-secret');
    const [sealed] = await strict.encode([plain]);
    expect(Buffer.from((await strict.decode([sealed!]))[0]!.data!).toString()).toBe('{"jobId":"plain-secret"}');
    // Not strict (the default): a plain payload passes through, as before.
    expect(await new AesGcmCodec([k1]).decode([plain])).toEqual([plain]);
  });

  it('reads CCS_CODEC_STRICT strictly, and refuses it without keys', () => {
    const keys = `k1:${k1.key.toString('base64')}`;
    const read = (env: Record<string, string>): { strict: boolean | undefined; problems: string[] } => {
      const problems: string[] = [];
      return { strict: loadCodecConfig(env, problems)?.strict, problems };
    };
    expect(read({ CCS_CODEC_KEYS: keys, CCS_CODEC_STRICT: 'true' })).toEqual({ strict: true, problems: [] });
    expect(read({ CCS_CODEC_KEYS: keys })).toEqual({ strict: false, problems: [] });
    expect(read({ CCS_CODEC_KEYS: keys, CCS_CODEC_STRICT: 'maybe' }).problems).toEqual([
      'CCS_CODEC_STRICT must be true or false; got "maybe"',
    ]);
    expect(read({ CCS_CODEC_STRICT: 'true' }).problems).toEqual([
      'CCS_CODEC_STRICT=true needs CCS_CODEC_KEYS (there is nothing to be strict about without keys)',
    ]);
  });

  it('reports bad keys without echoing key material', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');
    const { problems } = parseCodecKeys(`short:${secret},noid`);
    expect(problems).toEqual([
      'CCS_CODEC_KEYS key short must decode to 32 bytes; got 16',
      'CCS_CODEC_KEYS entry 2 must be <id>:<base64 of 32 bytes>',
    ]);
    expect(problems.join()).not.toContain(secret);
  });
});

describe('the codec endpoint', () => {
  const proxy = (): ReturnType<typeof proxyTokenAuthorizer> =>
    proxyTokenAuthorizer({ token: 'ui-users-token-123456', header: 'authorization', namespaces: [] });

  it('refuses a body over 4 MiB with 413, without buffering it', async () => {
    const server = await startCodecServer({ codec: new AesGcmCodec([k1]), authorize: proxy(), corsOrigins: [], port: 0 });
    try {
      const big = JSON.stringify({ payloads: [{ metadata: {}, data: 'A'.repeat(5 * 1024 * 1024) }] });
      const res = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { authorization: 'Bearer ui-users-token-123456', 'content-type': 'application/json' },
        body: big,
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { message: string }).message).toBe(`the body is over ${MAX_BODY_BYTES} bytes`);
    } finally {
      await server.close();
    }
  });

  it('refuses plain http on an address other than loopback', async () => {
    await expect(
      startCodecServer({ codec: new AesGcmCodec([k1]), authorize: proxy(), corsOrigins: [], host: '0.0.0.0', port: 0 }),
    ).rejects.toThrow('the codec server serves plain http only on loopback; give it a TLS certificate and key to listen on 0.0.0.0');
  });

  it('says in one line why it cannot start when its port is taken', async () => {
    const first = await startCodecServer({ codec: new AesGcmCodec([k1]), authorize: proxy(), corsOrigins: [], port: 0 });
    try {
      const port = Number(new URL(first.url).port);
      const err = await startCodecServer({ codec: new AesGcmCodec([k1]), authorize: proxy(), corsOrigins: [], port }).catch(
        (e: unknown) => e,
      );
      expect(startupErrorLine('codec server', err)).toMatch(
        /^codec server: listen EADDRINUSE: address already in use 127\.0\.0\.1:\d+ \(the address is already in use: stop what listens there, or choose another port\)$/,
      );
    } finally {
      await first.close();
    }
  });
});
