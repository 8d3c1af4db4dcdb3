/** Payload encryption keys from the environment, shared by the worker and the CLI. */
import { parseCodecKeys, type CodecKey } from '../codec';
import { parseBoolean, type Env } from './values';

export interface CodecConfig {
  keys: CodecKey[];
  activeKeyId: string;
  /** CCS_CODEC_STRICT: decoding refuses unencrypted payloads (pass it to AesGcmCodec's options). */
  strict?: boolean | undefined;
}

/** Reads CCS_CODEC_KEYS / CCS_CODEC_KEY_ID / CCS_CODEC_STRICT (shared by the worker and the CLI); adds problems, never key material. */
export function loadCodecConfig(env: Env, problems: string[]): CodecConfig | undefined {
  const text = env.CCS_CODEC_KEYS?.trim();
  const strict = parseBoolean('CCS_CODEC_STRICT', env.CCS_CODEC_STRICT, problems);
  if (!text) {
    if (env.CCS_CODEC_KEY_ID) problems.push('CCS_CODEC_KEY_ID is set but CCS_CODEC_KEYS is empty');
    // Strict without keys would silently accept everything: say so instead.
    if (strict) problems.push('CCS_CODEC_STRICT=true needs CCS_CODEC_KEYS (there is nothing to be strict about without keys)');
    return undefined;
  }
  const { keys, problems: keyProblems } = parseCodecKeys(text);
  problems.push(...keyProblems);
  const activeKeyId = env.CCS_CODEC_KEY_ID?.trim() || keys[0]?.id;
  if (activeKeyId && keys.length > 0 && !keys.some((k) => k.id === activeKeyId))
    problems.push(`CCS_CODEC_KEY_ID ${activeKeyId} is not among CCS_CODEC_KEYS`);
  return keys.length > 0 && activeKeyId ? { keys, activeKeyId, strict } : undefined;
}
