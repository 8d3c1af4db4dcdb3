/**
 * Worker configuration from the environment, read once at start-up. Every problem is reported
 * together in one error; the result is frozen. Secrets (the CCS password) are never echoed.
 */
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { CcsClientOptions } from './ccs/client';
import { parseCodecKeys, type CodecKey } from './codec';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_TASK_QUEUE } from './contract';
import { CCS_SERVER_NAME } from './input';

/** One CCS server the worker can reach, by the name workflows give in their `ccs` field. */
export type CcsServerConfig = Omit<CcsClientOptions, 'warn' | 'now' | 'observer'>;

/** Worker limits; the defaults are justified in docs/performance.md. */
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  /** Per worker; undefined: unlimited. */
  maxActivitiesPerSecond: number | undefined;
  /** Per task queue, enforced by the Temporal server across all workers; undefined: unlimited. */
  maxTaskQueueActivitiesPerSecond: number | undefined;
}

export const DEFAULT_TUNING: WorkerTuning = Object.freeze({
  // Activities wait on CCS, not on CPU: a poll holds a slot for one HTTP round trip.
  maxConcurrentActivityTaskExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 40,
  // Waiting runs need no workflow task (a poll is an activity retry), so a small cache serves many runs.
  maxCachedWorkflows: 1000,
  maxActivitiesPerSecond: undefined,
  maxTaskQueueActivitiesPerSecond: undefined,
});

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WorkerConfig {
  temporal: { connection: NativeConnectionOptions; namespace: string };
  taskQueue: string;
  /** CCS servers by name; `default` serves runs that name none. */
  ccsServers: Readonly<Record<string, CcsServerConfig>>;
  /** A prebuilt workflow bundle (skips webpack at start-up), from WORKFLOW_BUNDLE_PATH. */
  workflowBundlePath: string | undefined;
  /** Payload encryption keys (CCS_CODEC_KEYS), newest first, and the one that encrypts. */
  codec: { keys: CodecKey[]; activeKeyId: string } | undefined;
  tuning: WorkerTuning;
  logLevel: LogLevel;
  /** host:port of the Prometheus endpoint (METRICS_BIND_ADDRESS); undefined: no metrics. */
  metricsBindAddress: string | undefined;
  /** host:port of /livez and /readyz (HEALTH_BIND_ADDRESS); undefined: no health endpoint. */
  healthBindAddress: string | undefined;
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
  'CCS_BASE_URL', 'CCS_USERNAME', 'CCS_PASSWORD', 'CCS_PASSWORD_FILE', 'CCS_CA_FILE', 'CCS_TLS_INSECURE', 'CCS_REQUESTS_PER_SECOND', 'CCS_SERVERS_FILE',
  'TEMPORAL_TASK_QUEUE', 'WORKFLOW_BUNDLE_PATH', 'CCS_CODEC_KEYS', 'CCS_CODEC_KEY_ID',
  'WORKER_MAX_CONCURRENT_ACTIVITIES', 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_MAX_ACTIVITIES_PER_SECOND', 'WORKER_MAX_TASK_QUEUE_ACTIVITIES_PER_SECOND',
  'LOG_LEVEL', 'METRICS_BIND_ADDRESS', 'HEALTH_BIND_ADDRESS',
] as const;

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

type Env = Record<string, string | undefined>;

/** Reads `true`/`false` (any case, also 1/0, yes/no) strictly; anything else is a problem. */
function parseBoolean(name: string, value: unknown, problems: string[]): boolean {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return false;
  if (typeof value === 'boolean') return value;
  const v = typeof value === 'string' || typeof value === 'number' ? String(value).trim().toLowerCase() : '';
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  problems.push(`${name} must be true or false; got ${JSON.stringify(value)}`);
  return false;
}

/** A positive number (integer when asked); undefined when unset. */
function parsePositive(name: string, value: unknown, problems: string[], integer: boolean): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    problems.push(`${name} must be a positive ${integer ? 'whole number' : 'number'}; got ${JSON.stringify(value)}`);
    return undefined;
  }
  return n;
}

/** A password file's content without its trailing newline (editors and `echo` add one). */
function readPassword(name: string, path: string, problems: string[]): string | undefined {
  return readFile(name, path, problems)?.replace(/\r?\n$/, '');
}

function readFile(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

function checkBaseUrl(name: string, baseUrl: string | undefined, problems: string[]): void {
  if (!baseUrl) {
    problems.push(`${name} is required, e.g. https://ccs-app01.example.local:12431/ccs/api/v1`);
    return;
  }
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${name} must start with https://; got ${url.protocol}`);
  } catch {
    problems.push(`${name} is not a URL: ${JSON.stringify(baseUrl)}`);
  }
}

function readCa(name: string, caFile: string | undefined, problems: string[]): string | undefined {
  const ca = caFile ? readFile(name, caFile, problems) : undefined;
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${name} ${caFile} holds no PEM certificate`);
  return ca;
}

/** Certificate checks off and a CA to check against: one of them is a mistake. */
function insecureWithCa(insecure: boolean, ca: string | undefined, insecureName: string, caName: string, problems: string[]): void {
  if (insecure && ca) problems.push(`${insecureName}=true and ${caName} contradict each other; keep ${caName}`);
}

/** The `default` server from CCS_* variables; undefined when none is set and a servers file is. */
function serverFromEnv(env: Env, get: (name: string) => string | undefined, problems: string[], required: boolean): CcsServerConfig | undefined {
  if (!required && !['CCS_BASE_URL', 'CCS_USERNAME', 'CCS_PASSWORD', 'CCS_PASSWORD_FILE', 'CCS_CA_FILE'].some((n) => get(n) !== undefined)) return undefined;
  const baseUrl = get('CCS_BASE_URL');
  checkBaseUrl('CCS_BASE_URL', baseUrl, problems);
  const username = get('CCS_USERNAME');
  if (!username) problems.push('CCS_USERNAME is required, e.g. DOMAIN\\svc-ccs');

  let password = env.CCS_PASSWORD;
  const passwordFile = get('CCS_PASSWORD_FILE');
  if (password && passwordFile) problems.push('set only one of CCS_PASSWORD and CCS_PASSWORD_FILE');
  else if (passwordFile) password = readPassword('CCS_PASSWORD_FILE', passwordFile, problems);
  else if (!password) problems.push('CCS_PASSWORD or CCS_PASSWORD_FILE is required');

  const ca = readCa('CCS_CA_FILE', get('CCS_CA_FILE'), problems);
  const insecure = parseBoolean('CCS_TLS_INSECURE', env.CCS_TLS_INSECURE, problems);
  insecureWithCa(insecure, ca, 'CCS_TLS_INSECURE', 'CCS_CA_FILE', problems);
  const requestsPerSecond = parsePositive('CCS_REQUESTS_PER_SECOND', env.CCS_REQUESTS_PER_SECOND, problems, false);
  return Object.freeze({ baseUrl: baseUrl as string, username: username as string, password: password as string, ca, insecure, requestsPerSecond });
}

const SERVER_KEYS = new Set(['baseUrl', 'username', 'passwordFile', 'passwordEnv', 'caFile', 'insecure', 'requestsPerSecond']);

/**
 * CCS_SERVERS_FILE (YAML or JSON): `servers: { <name>: { baseUrl, username, passwordFile | passwordEnv,
 * caFile, insecure, requestsPerSecond } }`. Passwords are never written in the file itself.
 */
function serversFromFile(file: string, env: Env, problems: string[]): Record<string, CcsServerConfig> {
  const text = readFile('CCS_SERVERS_FILE', file, problems);
  if (text === undefined) return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    problems.push(`CCS_SERVERS_FILE ${file} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
    return {};
  }
  const servers = (doc as { servers?: unknown } | null)?.servers;
  if (!servers || typeof servers !== 'object' || Array.isArray(servers) || Object.keys(servers).length === 0) {
    problems.push(`CCS_SERVERS_FILE ${file}: expected a "servers" map of name → settings, e.g. servers: { default: { baseUrl: ..., username: ..., passwordFile: ... } }`);
    return {};
  }
  const out: Record<string, CcsServerConfig> = {};
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) {
    const at = `CCS_SERVERS_FILE servers.${name}`;
    if (!CCS_SERVER_NAME.test(name)) {
      problems.push(`${at}: a server name is letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit)`);
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: expected a map with baseUrl, username and passwordFile or passwordEnv`);
      continue;
    }
    const s = raw as Record<string, unknown>;
    if ('password' in s) {
      problems.push(`${at}.password: passwords are not accepted in the file; use passwordFile (a mounted secret) or passwordEnv (a variable name)`);
      continue;
    }
    for (const key of Object.keys(s)) if (!SERVER_KEYS.has(key)) problems.push(`${at}.${key} is not a known setting (known: ${[...SERVER_KEYS].join(', ')})`);
    const str = (key: string): string | undefined => {
      const value = s[key];
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    };
    const baseUrl = str('baseUrl');
    checkBaseUrl(`${at}.baseUrl`, baseUrl, problems);
    const username = str('username');
    if (!username) problems.push(`${at}.username is required, e.g. DOMAIN\\svc-ccs`);
    let password: string | undefined;
    const passwordFile = str('passwordFile');
    const passwordEnv = str('passwordEnv');
    if (passwordFile && passwordEnv) problems.push(`${at}: set only one of passwordFile and passwordEnv`);
    else if (passwordFile) password = readPassword(`${at}.passwordFile`, passwordFile, problems);
    else if (passwordEnv) {
      password = env[passwordEnv];
      if (!password) problems.push(`${at}.passwordEnv names ${passwordEnv}, which is not set`);
    } else problems.push(`${at}: passwordFile or passwordEnv is required`);
    const ca = readCa(`${at}.caFile`, str('caFile'), problems);
    const insecure = parseBoolean(`${at}.insecure`, s.insecure, problems);
    insecureWithCa(insecure, ca, `${at}.insecure`, `${at}.caFile`, problems);
    const requestsPerSecond = parsePositive(`${at}.requestsPerSecond`, s.requestsPerSecond, problems, false);
    out[name] = Object.freeze({ baseUrl: baseUrl as string, username: username as string, password: password as string, ca, insecure, requestsPerSecond });
  }
  return out;
}

function loadTuning(env: Env, problems: string[]): WorkerTuning {
  const int = (name: string): number | undefined => parsePositive(name, env[name], problems, true);
  const num = (name: string): number | undefined => parsePositive(name, env[name], problems, false);
  return Object.freeze({
    maxConcurrentActivityTaskExecutions: int('WORKER_MAX_CONCURRENT_ACTIVITIES') ?? DEFAULT_TUNING.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: int('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS') ?? DEFAULT_TUNING.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: int('WORKER_MAX_CACHED_WORKFLOWS') ?? DEFAULT_TUNING.maxCachedWorkflows,
    maxActivitiesPerSecond: num('WORKER_MAX_ACTIVITIES_PER_SECOND'),
    maxTaskQueueActivitiesPerSecond: num('WORKER_MAX_TASK_QUEUE_ACTIVITIES_PER_SECOND'),
  });
}

function bindAddress(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const m = HOST_PORT.exec(value);
  if (!m || Number(m[2]) > 65535) problems.push(`${name} must be host:port, e.g. 0.0.0.0:9464; got ${JSON.stringify(value)}`);
  return value;
}

/** Loads and checks the worker configuration; throws {@link ConfigError} listing every problem. */
export function loadConfig(env: Env): WorkerConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const serversFile = get('CCS_SERVERS_FILE');
  const fromEnv = serverFromEnv(env, get, problems, !serversFile);
  const fromFile = serversFile ? serversFromFile(serversFile, env, problems) : {};
  if (fromEnv && fromFile.default) problems.push('the default CCS server is defined twice: by CCS_BASE_URL and by CCS_SERVERS_FILE servers.default; keep one');
  const ccsServers = Object.freeze({ ...fromFile, ...(fromEnv ? { default: fromEnv } : {}) });

  const codec = loadCodecConfig(env, problems);
  const tuning = loadTuning(env, problems);
  const logLevel = (get('LOG_LEVEL')?.toUpperCase() ?? 'INFO') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(env.LOG_LEVEL)}`);
  const metricsBindAddress = bindAddress('METRICS_BIND_ADDRESS', get('METRICS_BIND_ADDRESS'), problems);
  const healthBindAddress = bindAddress('HEALTH_BIND_ADDRESS', get('HEALTH_BIND_ADDRESS'), problems);

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
    ccsServers,
    workflowBundlePath: get('WORKFLOW_BUNDLE_PATH'),
    codec,
    tuning,
    logLevel,
    metricsBindAddress,
    healthBindAddress,
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
