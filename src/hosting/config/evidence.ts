/**
 * The evidence chain's protection, from the environment: EVIDENCE_SIGNING_KEY_FILE (an Ed25519
 * private key, PEM; read again when rotated), EVIDENCE_HEAD_FILE (where the head is published, on a
 * volume the store's writers cannot rewrite) and EVIDENCE_HEAD_INTERVAL (how often; default 15m).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatDuration, parseDuration } from '../../domain/validation';
import { keyIdOf, loadPrivateKey } from '../../evidence/signing';

export interface EvidenceConfig {
  signingKeyFile: string | undefined;
  /** The id of the key the file held at start-up (logged; a rotated file is read again). */
  signingKeyId: string | undefined;
  headFile: string | undefined;
  headIntervalMs: number;
}

export const DEFAULT_HEAD_INTERVAL_MS = 15 * 60_000;
const MIN_HEAD_INTERVAL_MS = 10_000;
const MAX_HEAD_INTERVAL_MS = 24 * 3_600_000;

export function loadEvidenceConfig(get: (name: string) => string | undefined, problems: string[]): EvidenceConfig {
  const keyFile = get('EVIDENCE_SIGNING_KEY_FILE');
  let signingKeyId: string | undefined;
  if (keyFile !== undefined) {
    try {
      signingKeyId = keyIdOf(loadPrivateKey(resolve(keyFile)));
      const mode = statSync(resolve(keyFile)).mode & 0o077;
      if (mode !== 0)
        problems.push(
          `EVIDENCE_SIGNING_KEY_FILE ${keyFile} is readable by group or others (mode ${(statSync(resolve(keyFile)).mode & 0o777).toString(8)}): chmod 600 it`,
        );
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const headFile = get('EVIDENCE_HEAD_FILE');
  if (headFile !== undefined && !existsSync(dirname(resolve(headFile))))
    problems.push(
      `EVIDENCE_HEAD_FILE ${headFile}: its directory ${dirname(resolve(headFile))} does not exist (mount the volume it is published to)`,
    );
  let headIntervalMs = DEFAULT_HEAD_INTERVAL_MS;
  const interval = get('EVIDENCE_HEAD_INTERVAL');
  if (interval !== undefined) {
    let ms: number | undefined;
    try {
      ms = parseDuration('EVIDENCE_HEAD_INTERVAL', interval);
    } catch {
      ms = undefined;
    }
    if (ms === undefined || ms < MIN_HEAD_INTERVAL_MS || ms > MAX_HEAD_INTERVAL_MS)
      problems.push(
        `EVIDENCE_HEAD_INTERVAL must be a duration from ${formatDuration(MIN_HEAD_INTERVAL_MS)} to ${formatDuration(MAX_HEAD_INTERVAL_MS)}, e.g. 15m; got ${JSON.stringify(interval)}`,
      );
    else headIntervalMs = ms;
  }
  return Object.freeze({
    signingKeyFile: keyFile === undefined ? undefined : resolve(keyFile),
    signingKeyId,
    headFile: headFile === undefined ? undefined : resolve(headFile),
    headIntervalMs,
  });
}
