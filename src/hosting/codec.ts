/**
 * Optional payload encryption: every payload Temporal stores (inputs, results, failure details,
 * signals, queries) is encrypted with AES-256-GCM before it leaves the worker or client. The key id
 * travels with each payload, so keys can be rotated: the newest key encrypts, every configured key
 * decrypts. Keys come from configuration and are never logged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_HEADER = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** Thrown when a payload cannot be decrypted (unknown key id, tampered or truncated data). */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export interface AesGcmCodecOptions {
  /**
   * CCS_CODEC_STRICT: refuse to decode a payload that is not encrypted, so a client without the keys
   * (or a tampered history) cannot feed plaintext to workers that expect only ciphertext.
   */
  strict?: boolean | undefined;
}

export class AesGcmCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly strict: boolean;

  /** `keys[0]`, or the key named `activeKeyId`, encrypts; all of them decrypt. Throws CodecError for a bad key set. */
  constructor(
    keys: CodecKey[],
    private readonly activeKeyId = keys[0]?.id,
    options: AesGcmCodecOptions = {},
  ) {
    this.strict = options.strict === true;
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    if (!activeKeyId || !this.keys.has(activeKeyId)) throw new CodecError(`no encryption key with id ${JSON.stringify(activeKeyId)}`);
    for (const [id, key] of this.keys)
      if (key.length !== 32) throw new CodecError(`encryption key ${id} must be 32 bytes (AES-256); got ${key.length}`);
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.activeKeyId!;
    const key = this.keys.get(id)!;
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_HEADER]: Buffer.from(id) }, data };
      }),
    );
  }

  /** Decrypts; throws CodecError for an unknown key, tampered data, or (strict) an unencrypted payload. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const encoding = Buffer.from(payload.metadata?.encoding ?? []).toString();
        if (encoding !== ENCRYPTED_ENCODING) {
          if (!this.strict) return payload;
          // The encoding name only (e.g. json/plain), never the data: it is what should have been encrypted.
          throw new CodecError(
            `refused an unencrypted payload (encoding ${JSON.stringify(encoding.slice(0, 40))}): CCS_CODEC_STRICT=true accepts only payloads encrypted with CCS_CODEC_KEYS`,
          );
        }
        const id = Buffer.from(payload.metadata?.[KEY_ID_HEADER] ?? []).toString();
        const key = this.keys.get(id);
        if (!key)
          throw new CodecError(`payload was encrypted with key ${JSON.stringify(id)}, which is not configured; add it to CCS_CODEC_KEYS`);
        const data = Buffer.from(payload.data ?? []);
        if (data.length < IV_BYTES + TAG_BYTES) throw new CodecError('encrypted payload is truncated');
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        let plain: Buffer;
        try {
          plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
        } catch {
          throw new CodecError(`payload encrypted with key ${id} failed authentication (tampered, or the wrong key under that id)`);
        }
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}

/**
 * A client's data converter for a codec: every payload (inputs, results, failure details and encoded
 * failure attributes, signals, queries) encrypted and decrypted. Workers add the failure converter
 * that moves failure messages into encoded attributes (create-worker.ts); search attributes stay
 * readable because visibility queries need them.
 */
export function encryptingDataConverter(codec: AesGcmCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

/**
 * Parses `CCS_CODEC_KEYS`: `id:base64key[,id:base64key...]`, newest first. Problems are returned,
 * never thrown with the key material in them.
 */
export function parseCodecKeys(text: string): { keys: CodecKey[]; problems: string[] } {
  const keys: CodecKey[] = [];
  const problems: string[] = [];
  text.split(',').forEach((entry, i) => {
    const [id, material] = entry.trim().split(':');
    if (!id || !material || !/^[\w.-]{1,64}$/.test(id)) {
      problems.push(`CCS_CODEC_KEYS entry ${i + 1} must be <id>:<base64 of 32 bytes>`);
      return;
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== 32) problems.push(`CCS_CODEC_KEYS key ${id} must decode to 32 bytes; got ${key.length}`);
    else keys.push({ id, key });
  });
  return { keys, problems };
}
