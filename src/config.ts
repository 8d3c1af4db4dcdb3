/**
 * Worker configuration from the environment, read once at start-up. Every problem is reported
 * together in one error; the result is frozen. Secrets (the CCS password) are never echoed.
 */
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { CcsClientOptions } from './ccs/client';
import { parseCodecKeys, type CodecKey } from './codec';
import { DEFAULT_TASK_QUEUE } from './contract';

export interface WorkerConfig {
  temporal: { connection: NativeConnectionOptions; namespace: string };
  taskQueue: string;
  ccs: Omit<CcsClientOptions, 'warn' | 'now'>;
  /** A prebuilt workflow bundle (skips webpack at start-up), from WORKFLOW_BUNDLE_PATH. */
  workflowBundlePath: string | undefined;
  /** Payload encryption keys (CCS_CODEC_KEYS), newest first, and the one that encrypts. */
  codec: { keys: CodecKey[]; activeKeyId: string } | undefined;
}

/** Thrown by {@link loadConfig}; `problems` lists every bad or missing variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The variables {@link loadConfig} reads besides Temporal's own `TEMPORAL_*` ones; `.env.example` lists them. */
export const CONFIG_VARIABLES = [
  'CCS_BASE_URL', 'CCS_USERNAME', 'CCS_PASSWORD', 'CCS_PASSWORD_FILE', 'CCS_CA_FILE', 'CCS_TLS_INSECURE', 'TEMPORAL_TASK_QUEUE', 'WORKFLOW_BUNDLE_PATH',
  'CCS_CODEC_KEYS', 'CCS_CODEC_KEY_ID',
] as const;

type Env = Record<string, string | undefined>;

/** Reads `true`/`false` (any case, also 1/0, yes/no) strictly; anything else is a problem. */
function parseBoolean(name: string, value: string | undefined, problems: string[]): boolean {
  if (value === undefined || value.trim() === '') return false;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  problems.push(`${name} must be true or false; got ${JSON.stringify(value)}`);
  return false;
}

function readFile(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** Loads and checks the worker configuration; throws {@link ConfigError} listing every problem. */
export function loadConfig(env: Env): WorkerConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const baseUrl = get('CCS_BASE_URL');
  if (!baseUrl) problems.push('CCS_BASE_URL is required, e.g. https://ccs-app01.example.local:12431/ccs/api/v1');
  else {
    try {
      const url = new URL(baseUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`CCS_BASE_URL must start with https://; got ${url.protocol}`);
    } catch {
      problems.push(`CCS_BASE_URL is not a URL: ${JSON.stringify(baseUrl)}`);
    }
  }
  const username = get('CCS_USERNAME');
  if (!username) problems.push('CCS_USERNAME is required, e.g. DOMAIN\\svc-ccs');

  let password = env.CCS_PASSWORD;
  const passwordFile = get('CCS_PASSWORD_FILE');
  if (password && passwordFile) problems.push('set only one of CCS_PASSWORD and CCS_PASSWORD_FILE');
  else if (passwordFile) password = readFile('CCS_PASSWORD_FILE', passwordFile, problems)?.replace(/\r?\n$/, '');
  else if (!password) problems.push('CCS_PASSWORD or CCS_PASSWORD_FILE is required');

  const caFile = get('CCS_CA_FILE');
  const ca = caFile ? readFile('CCS_CA_FILE', caFile, problems) : undefined;
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`CCS_CA_FILE ${caFile} holds no PEM certificate`);
  const insecure = parseBoolean('CCS_TLS_INSECURE', env.CCS_TLS_INSECURE, problems);
  if (insecure && ca) problems.push('CCS_TLS_INSECURE=true and CCS_CA_FILE contradict each other; keep CCS_CA_FILE');

  const codec = loadCodecConfig(env, problems);

  let temporal: WorkerConfig['temporal'] | undefined;
  try {
    const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('TEMPORAL_') && e[1] !== undefined));
    const connect = loadClientConnectConfig({ overrideEnvVars, disableFile: !env.TEMPORAL_CONFIG_FILE });
    temporal = { connection: connect.connectionOptions, namespace: connect.namespace ?? 'default' };
  } catch (err) {
    problems.push(`Temporal connection settings: ${(err as Error).message}`);
  }

  if (problems.length > 0 || !temporal) throw new ConfigError(problems);
  return Object.freeze({
    temporal,
    taskQueue: get('TEMPORAL_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    ccs: Object.freeze({ baseUrl: baseUrl as string, username: username as string, password: password as string, ca, insecure }),
    workflowBundlePath: get('WORKFLOW_BUNDLE_PATH'),
    codec,
  });
}

/** Reads CCS_CODEC_KEYS / CCS_CODEC_KEY_ID (shared by the worker and the CLI); adds problems, never key material. */
export function loadCodecConfig(env: Env, problems: string[]): WorkerConfig['codec'] {
  const text = env.CCS_CODEC_KEYS?.trim();
  if (!text) {
    if (env.CCS_CODEC_KEY_ID) problems.push('CCS_CODEC_KEY_ID is set but CCS_CODEC_KEYS is empty');
    return undefined;
  }
  const { keys, problems: keyProblems } = parseCodecKeys(text);
  problems.push(...keyProblems);
  const activeKeyId = env.CCS_CODEC_KEY_ID?.trim() || keys[0]?.id;
  if (activeKeyId && keys.length > 0 && !keys.some((k) => k.id === activeKeyId)) problems.push(`CCS_CODEC_KEY_ID ${activeKeyId} is not among CCS_CODEC_KEYS`);
  return keys.length > 0 && activeKeyId ? { keys, activeKeyId } : undefined;
}
