/**
 * Payload encryption keys: AES-256-GCM round trips, rotation by key id, tampering detected, bad keys
 * reported without key material.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesGcmCodec, parseCodecKeys } from '../../src/hosting/codec';

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

  it('reports bad keys without echoing key material', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');
    const { problems } = parseCodecKeys(`short:${secret},noid`);
    expect(problems).toEqual(['CCS_CODEC_KEYS key short must decode to 32 bytes; got 16', 'CCS_CODEC_KEYS entry 2 must be <id>:<base64 of 32 bytes>']);
    expect(problems.join()).not.toContain(secret);
  });
});
