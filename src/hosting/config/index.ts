import { resolve } from 'node:path';
/**
 * Worker configuration from the environment, read once at start-up. Every problem is reported
 * together in one error; the result is frozen. Secrets (the CCS password) are never echoed.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../../domain/contract';
import { formatDuration, parseDuration } from '../../domain/validation';
import { serverFromEnv, serversFromFile, type CcsServerConfig } from './ccs-servers';
import { loadCodecConfig, type CodecConfig } from './codec-keys';
import { bindAddress, parseBoolean, parsePositive, type Env } from './values';
import { loadVersioning, type WorkerVersioningConfig } from './versioning';
import { notificationsFromFile, type NotificationsConfig } from '../../notifications/config';
import { withoutUserinfo } from '../../ccs/scrub';
import { loadEvidenceConfig, type EvidenceConfig } from './evidence';

export { passwordSource, type CcsServerConfig } from './ccs-servers';
export { loadCodecConfig, type CodecConfig } from './codec-keys';
export { DEFAULT_DEPLOYMENT_NAME, PACKAGE_VERSION, type WorkerVersioningConfig } from './versioning';

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
  // Activities wait on CCS, not on CPU: a retry-as-poll holds a slot for one HTTP round trip, but a
  // held wait (poll interval below CCS_WATCH_THRESHOLD) holds one for as long as its run, so the
  // default leaves room for that many followed runs per worker (CCS requests stay bounded by each
  // server's connection pool and request budget).
  maxConcurrentActivityTaskExecutions: 20_000,
  maxConcurrentWorkflowTaskExecutions: 40,
  // Waiting runs need no workflow task (a poll is an activity retry), so a small cache serves many runs.
  maxCachedWorkflows: 1000,
  maxActivitiesPerSecond: undefined,
  maxTaskQueueActivitiesPerSecond: undefined,
});

/** Workers assumed when Temporal cannot list them: the shipped compose and cluster shapes run three. */
export const DEFAULT_BUDGET_ASSUMED_WORKERS = 3;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WorkerConfig {
  temporal: { connection: NativeConnectionOptions; namespace: string };
  /** TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: at start, register the search attributes the namespace lacks instead of refusing it. */
  registerSearchAttributes: boolean;
  taskQueue: string;
  /**
   * Worker Versioning (TEMPORAL_WORKER_VERSIONING, default on): this worker's deployment name and build
   * id (TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_WORKER_BUILD_ID or `<version>+<CCS_BUILD_COMMIT>`); undefined: off.
   */
  versioning: WorkerVersioningConfig | undefined;
  /** CCS servers by name; `default` serves runs that name none. */
  ccsServers: Readonly<Record<string, CcsServerConfig>>;
  /** A prebuilt workflow bundle (skips webpack at start-up), from WORKFLOW_BUNDLE_PATH. */
  workflowBundlePath: string | undefined;
  /** Payload encryption keys (CCS_CODEC_KEYS), newest first, and the one that encrypts. */
  codec: CodecConfig | undefined;
  tuning: WorkerTuning;
  /** How waits poll: CCS_WATCH_THRESHOLD (hold polls shorter than this in one activity) and CCS_POLL_JITTER. */
  polling: { holdBelowMs: number; jitter: number };
  /** Workers each CCS request budget is divided by when Temporal cannot list them (CCS_BUDGET_ASSUMED_WORKERS). */
  budgetAssumedWorkers: number;
  logLevel: LogLevel;
  /** host:port of the Prometheus endpoint (METRICS_BIND_ADDRESS); undefined: no metrics. */
  metricsBindAddress: string | undefined;
  /** host:port of /livez and /readyz (HEALTH_BIND_ADDRESS); undefined: no health endpoint. */
  healthBindAddress: string | undefined;
  /** The directory of the evidence chain's JSON Lines files (EVIDENCE_DIR, default ./evidence). */
  evidenceDir: string;
  /** PostgreSQL for the evidence chain instead of the directory (EVIDENCE_DATABASE_URL); a secret. */
  evidenceDatabaseUrl: string | undefined;
  /** Signing (EVIDENCE_SIGNING_KEY_FILE) and the published head (EVIDENCE_HEAD_FILE, EVIDENCE_HEAD_INTERVAL). */
  evidence: EvidenceConfig;
  /** Channels, rules and delivery bounds from NOTIFICATIONS_FILE; undefined: notifications off. */
  notifications: NotificationsConfig | undefined;
  /** The Temporal UI's base URL (TEMPORAL_UI_URL), for links in notifications. */
  temporalUiUrl: string | undefined;
  /** The base URL evidence records are served under (EVIDENCE_URL), for links in notifications. */
  evidenceUrl: string | undefined;
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
  'CCS_BASE_URL',
  'CCS_USERNAME',
  'CCS_PASSWORD',
  'CCS_PASSWORD_FILE',
  'CCS_CA_FILE',
  'CCS_TLS_SERVERNAME',
  'CCS_TLS_PIN_SHA256',
  'CCS_TLS_INSECURE',
  'CCS_REQUESTS_PER_SECOND',
  'CCS_SERVERS_FILE',
  'CCS_PASSWORD_ENCODING',
  'CCS_TIME_ZONE',
  'CCS_ALLOW_PLAINTEXT',
  'CCS_REQUEST_TIMEOUT',
  'CCS_MAX_RESPONSE_BYTES',
  'CCS_MAX_RETRY_AFTER',
  'CCS_WATCH_THRESHOLD',
  'CCS_POLL_JITTER',
  'CCS_BUDGET_ASSUMED_WORKERS',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_REGISTER_SEARCH_ATTRIBUTES',
  'TEMPORAL_WORKER_VERSIONING',
  'TEMPORAL_DEPLOYMENT_NAME',
  'TEMPORAL_WORKER_BUILD_ID',
  'CCS_BUILD_COMMIT',
  'WORKFLOW_BUNDLE_PATH',
  'CCS_CODEC_KEYS',
  'CCS_CODEC_KEY_ID',
  'CCS_CODEC_STRICT',
  'WORKER_MAX_CONCURRENT_ACTIVITIES',
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_MAX_ACTIVITIES_PER_SECOND',
  'WORKER_MAX_TASK_QUEUE_ACTIVITIES_PER_SECOND',
  'LOG_LEVEL',
  'METRICS_BIND_ADDRESS',
  'HEALTH_BIND_ADDRESS',
  'EVIDENCE_DIR',
  'EVIDENCE_DATABASE_URL',
  'EVIDENCE_SIGNING_KEY_FILE',
  'EVIDENCE_HEAD_FILE',
  'EVIDENCE_HEAD_INTERVAL',
  'NOTIFICATIONS_FILE',
  'TEMPORAL_UI_URL',
  'EVIDENCE_URL',
] as const;

/**
 * Bounds on every CCS request, for all servers: CCS_REQUEST_TIMEOUT (a duration, whole request;
 * default 30s), CCS_MAX_RESPONSE_BYTES (default 8 MiB), CCS_MAX_RETRY_AFTER (default 5m).
 */
function requestBounds(env: Env, problems: string[]): Pick<CcsServerConfig, 'requestTimeoutMs' | 'maxResponseBytes' | 'maxRetryAfterMs'> {
  const duration = (name: string, min: number, max: number): number | undefined => {
    const value = env[name]?.trim();
    if (!value) return undefined;
    try {
      const ms = parseDuration(name, value);
      if (ms >= min && ms <= max) return ms;
    } catch {
      // reported below
    }
    problems.push(
      `${name} must be a duration from ${formatDuration(min)} to ${formatDuration(max)}, e.g. 30s; got ${JSON.stringify(value)}`,
    );
    return undefined;
  };
  const maxResponseBytes = parsePositive('CCS_MAX_RESPONSE_BYTES', env.CCS_MAX_RESPONSE_BYTES, problems, true);
  if (maxResponseBytes !== undefined && maxResponseBytes < 64 * 1024)
    problems.push('CCS_MAX_RESPONSE_BYTES must be at least 65536 (64 KiB)');
  return {
    requestTimeoutMs: duration('CCS_REQUEST_TIMEOUT', 1_000, 50_000),
    maxResponseBytes,
    maxRetryAfterMs: duration('CCS_MAX_RETRY_AFTER', 1_000, 3_600_000),
  };
}

/** CCS_WATCH_THRESHOLD (a duration, 0 to 1h; default 60s; 0: never hold) and CCS_POLL_JITTER (0 to 0.5; default 0.1). */
function loadPolling(env: Env, problems: string[]): WorkerConfig['polling'] {
  let holdBelowMs = 60_000;
  const threshold = env.CCS_WATCH_THRESHOLD?.trim();
  if (threshold) {
    let ms: number | undefined;
    try {
      ms = threshold === '0' ? 0 : parseDuration('CCS_WATCH_THRESHOLD', threshold);
    } catch {
      ms = undefined;
    }
    if (ms === undefined || ms < 0 || ms > 3_600_000)
      problems.push(`CCS_WATCH_THRESHOLD must be a duration from 0 (never hold) to 1h, e.g. 60s; got ${JSON.stringify(threshold)}`);
    else holdBelowMs = ms;
  }
  let jitter = 0.1;
  const jitterText = env.CCS_POLL_JITTER?.trim();
  if (jitterText) {
    const value = Number(jitterText);
    if (!/^\d*\.?\d+$/.test(jitterText) || value > 0.5)
      problems.push(`CCS_POLL_JITTER must be a fraction from 0 to 0.5 (0.1 is ±10 %); got ${JSON.stringify(jitterText)}`);
    else jitter = value;
  }
  return Object.freeze({ holdBelowMs, jitter });
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
  if (fromEnv && fromFile.default)
    problems.push('the default CCS server is defined twice: by CCS_BASE_URL and by CCS_SERVERS_FILE servers.default; keep one');
  const bounds = requestBounds(env, problems);
  const ccsServers = Object.freeze(
    Object.fromEntries(
      Object.entries({ ...fromFile, ...(fromEnv ? { default: fromEnv } : {}) }).map(([name, server]) => [
        name,
        Object.freeze({ ...server, ...bounds }),
      ]),
    ),
  );

  const codec = loadCodecConfig(env, problems);
  const tuning = loadTuning(env, problems);
  const polling = loadPolling(env, problems);
  const budgetAssumedWorkers =
    parsePositive('CCS_BUDGET_ASSUMED_WORKERS', env.CCS_BUDGET_ASSUMED_WORKERS, problems, true) ?? DEFAULT_BUDGET_ASSUMED_WORKERS;
  const versioning = loadVersioning(env, problems);
  const registerSearchAttributes = parseBoolean('TEMPORAL_REGISTER_SEARCH_ATTRIBUTES', env.TEMPORAL_REGISTER_SEARCH_ATTRIBUTES, problems);
  const logLevel = (get('LOG_LEVEL')?.toUpperCase() ?? 'INFO') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(env.LOG_LEVEL)}`);
  const metricsBindAddress = bindAddress('METRICS_BIND_ADDRESS', get('METRICS_BIND_ADDRESS'), problems);
  const healthBindAddress = bindAddress('HEALTH_BIND_ADDRESS', get('HEALTH_BIND_ADDRESS'), problems);

  const notificationsFile = get('NOTIFICATIONS_FILE');
  const notifications = notificationsFile ? notificationsFromFile(notificationsFile, env, problems) : undefined;
  const temporalUiUrl = linkBase('TEMPORAL_UI_URL', get('TEMPORAL_UI_URL'), problems);
  const evidenceUrl = linkBase('EVIDENCE_URL', get('EVIDENCE_URL'), problems);
  const evidence = loadEvidenceConfig(get, problems);

  let temporal: WorkerConfig['temporal'] | undefined;
  try {
    const overrideEnvVars = Object.fromEntries(
      Object.entries(env).filter(
        (e): e is [string, string] => e[0].startsWith('TEMPORAL_') && e[0] !== 'TEMPORAL_UI_URL' && e[1] !== undefined,
      ),
    );
    const connect = loadClientConnectConfig({ overrideEnvVars, disableFile: !env.TEMPORAL_CONFIG_FILE });
    temporal = { connection: connect.connectionOptions, namespace: connect.namespace ?? 'default' };
  } catch (err) {
    problems.push(`Temporal connection settings: ${(err as Error).message}`);
  }

  if (problems.length > 0 || !temporal) throw new ConfigError(problems);
  return Object.freeze({
    temporal,
    registerSearchAttributes,
    taskQueue: get('TEMPORAL_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE,
    versioning,
    ccsServers,
    workflowBundlePath: get('WORKFLOW_BUNDLE_PATH'),
    codec,
    tuning,
    polling,
    budgetAssumedWorkers,
    logLevel,
    metricsBindAddress,
    healthBindAddress,
    evidenceDir: resolve(get('EVIDENCE_DIR') ?? 'evidence'),
    evidenceDatabaseUrl: get('EVIDENCE_DATABASE_URL'),
    evidence,
    notifications,
    temporalUiUrl,
    evidenceUrl,
  });
}

/** An http(s) URL without credentials, for links people open (TEMPORAL_UI_URL, EVIDENCE_URL). */
function linkBase(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password) return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  problems.push(
    `${name} must be an http(s) URL without credentials, e.g. https://temporal.corp.example; got ${JSON.stringify(withoutUserinfo(value).slice(0, 100))}`,
  );
  return undefined;
}
