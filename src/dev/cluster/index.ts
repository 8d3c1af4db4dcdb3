/**
 * A production-shaped cluster on one machine, without Docker: PostgreSQL, the real Temporal server
 * (schema set up by compose's own schema script), compose's namespace and search-attribute script,
 * the Temporal UI, the CCS simulator (unless real CCS settings are given) and N workers run from the
 * compiled image build. Every setting comes from docker-compose.yml and the Dockerfile; what differs
 * is listed in LOCAL_* below (hosts, ports, paths). `npm run cluster` and the cluster tests use it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { execFileSync } from 'node:child_process';
import { DEFAULT_TASK_QUEUE } from '../../domain/contract';
import { DEFAULT_DEPLOYMENT_NAME, PACKAGE_VERSION } from '../../hosting/config/versioning';
import { DEFAULT_JOBS } from '../../sim/default-scenario';
import { startSimulator, type Simulator } from '../../sim/server';
import { ensureTemporalCli } from '../temporal-cli';
import { readCompose, serviceEnvironment, serviceScript, type ComposeDocument } from './compose';
import { startPostgres, type LocalPostgres } from './postgres';
import { freeLowPort, lastLines, portOpen, runShell, type ManagedProcess } from './processes';
import {
  ensureTemporalBinaries,
  IMAGE_SCHEMA_DIR,
  moduleSchemaDir,
  serverConfigRoot,
  temporalServerProcess,
  temporalUiProcess,
} from './temporal-server';
import { compileWorker, dockerfileWorkerEnv, workerProcess, type ClusterWorker, type CompiledWorker } from './workers';

const ROOT = join(__dirname, '..', '..', '..');

/** The server variables the cluster sets itself: where things listen and where PostgreSQL is. */
export const LOCAL_SERVER_KEYS = [
  'POSTGRES_SEEDS',
  'DB_PORT',
  'POSTGRES_PORT',
  'POSTGRES_PWD',
  'BIND_ON_IP',
  'TEMPORAL_BROADCAST_ADDRESS',
  'PROMETHEUS_ENDPOINT',
  'DYNAMIC_CONFIG_FILE_PATH',
  'FRONTEND_GRPC_PORT',
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
] as const;
/** The worker variables the cluster sets itself (CCS_BUILD_COMMIT: the image's build argument, this checkout's commit). */
export const LOCAL_WORKER_KEYS = [
  'TEMPORAL_ADDRESS',
  'CCS_SERVERS_FILE',
  'HEALTH_BIND_ADDRESS',
  'METRICS_BIND_ADDRESS',
  'WORKFLOW_BUNDLE_PATH',
  'EVIDENCE_DIR',
  'CCS_BUILD_COMMIT',
] as const;

/** Settings that name a real CCS: given any of them, the cluster starts no simulator and passes them on. */
const REAL_CCS_KEYS = ['CCS_SERVERS_FILE', 'CCS_BASE_URL'];

export interface ClusterOptions {
  workers?: number;
  /** Build and start the Temporal UI (default true). */
  ui?: boolean;
  /** A simulator the caller runs (tests inspect it); default: one with the default jobs, unless real CCS settings are set. */
  sim?: Simulator;
  /** CCS settings for the workers (CCS_BASE_URL, ...) instead of a simulator's servers file: the benchmark's own users. */
  ccsEnv?: Record<string, string>;
  /** Extra environment for every worker (tests: polling settings, log level). */
  workerEnv?: Record<string, string>;
  /** Take 7233 and 8233 when free, as `npm run dev` does. */
  preferDefaultPorts?: boolean;
  log?: (line: string) => void;
  env?: Record<string, string | undefined>;
}

export interface Cluster {
  /** host:port of the frontend */
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl?: string;
  /** The server's Prometheus endpoint. */
  metricsUrl: string;
  postgres: LocalPostgres;
  temporal: ManagedProcess;
  workers: ClusterWorker[];
  sim?: Simulator;
  /** The Worker Deployment the workers poll as, and the build id of the workers started with the cluster. */
  deploymentName: string;
  buildId: string;
  /** Seconds: builds done now (empty when cached), the compiled worker, and the whole start. */
  timings: { builds: Record<string, number>; compile: number; start: number };
  /** Where every process writes its log. */
  dir: string;
  /**
   * A further worker, started; `env` on top of the others' (a versioned deploy's new build:
   * `{ TEMPORAL_WORKER_BUILD_ID: ... }`). It joins `workers`.
   */
  addWorker: (env?: Record<string, string>) => Promise<ClusterWorker>;
  stop: () => Promise<void>;
}

async function portOr(preferred: number | undefined): Promise<number> {
  if (preferred === undefined || (await portOpen(preferred))) return freeLowPort();
  return preferred;
}

/** Runs one of compose's `/bin/sh -c` one-shot scripts with the tools of `binDir` first on PATH. */
async function runScript(name: string, script: string, env: Record<string, string>, binDir: string, logFile: string): Promise<void> {
  // HOME too: the Temporal CLI looks for its profile file there and fails without one (the run's own folder, not /tmp).
  const { ok, output } = await runShell(
    script,
    { HOME: process.env.HOME ?? dirname(binDir), ...env, PATH: `${binDir}:${process.env.PATH ?? ''}` },
    180_000,
  );
  writeFileSync(logFile, output);
  if (!ok) throw new Error(`compose's ${name} step failed; the last lines of ${logFile}:\n  ${lastLines(logFile)}`);
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  mkdirSync(join(ROOT, '.cluster'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.cluster', 'run-'));
  stops.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  try {
    const cli = await ensureTemporalCli(log);
    const binaries = await ensureTemporalBinaries({ ui: options.ui ?? true, log });
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // Compose's scripts call the tools by their names in the admin-tools image.
    symlinkSync(binaries.sqlTool, join(bin, 'temporal-sql-tool'));
    symlinkSync(cli, join(bin, 'temporal'));

    log('compiling the worker as the image does (tsc -p tsconfig.build.json, prebuilt workflow bundles)...');
    const compiled: CompiledWorker = compileWorker(join(dir, 'image'));

    log('starting PostgreSQL...');
    const postgres = await startPostgres({ log });
    stops.push(() => postgres.remove());
    const compose: ComposeDocument = readCompose();
    const vars = { ...env, POSTGRES_PASSWORD: postgres.password };

    log("setting up the Temporal schemas (compose's temporal-schema step)...");
    const sqlEnv = { ...serviceEnvironment(compose, 'temporal-schema', vars), SQL_HOST: postgres.host, SQL_PORT: String(postgres.port) };
    const schemaScript = serviceScript(compose, 'temporal-schema', vars)
      .split(IMAGE_SCHEMA_DIR)
      .join(moduleSchemaDir(binaries.serverModule));
    await runScript('temporal-schema', schemaScript, sqlEnv, bin, join(dir, 'temporal-schema.log'));

    const grpcPort = await portOr(options.preferDefaultPorts ? 7233 : undefined);
    const metricsPort = await freeLowPort();
    const { root, dynamicConfig } = serverConfigRoot(binaries.serverModule, join(dir, 'temporal'));
    const local: Record<(typeof LOCAL_SERVER_KEYS)[number], string> = {
      POSTGRES_SEEDS: postgres.host,
      DB_PORT: String(postgres.port),
      POSTGRES_PORT: String(postgres.port),
      POSTGRES_PWD: postgres.password,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      PROMETHEUS_ENDPOINT: `127.0.0.1:${metricsPort}`,
      DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
      FRONTEND_GRPC_PORT: String(grpcPort),
      FRONTEND_HTTP_PORT: String(await freeLowPort()),
      FRONTEND_MEMBERSHIP_PORT: String(await freeLowPort()),
      MATCHING_GRPC_PORT: String(await freeLowPort()),
      MATCHING_MEMBERSHIP_PORT: String(await freeLowPort()),
      HISTORY_GRPC_PORT: String(await freeLowPort()),
      HISTORY_MEMBERSHIP_PORT: String(await freeLowPort()),
      WORKER_GRPC_PORT: String(await freeLowPort()),
      WORKER_MEMBERSHIP_PORT: String(await freeLowPort()),
    };
    const serverEnv = { ...serviceEnvironment(compose, 'temporal', vars), ...local };
    log('starting the Temporal server...');
    const temporal = temporalServerProcess({
      server: binaries.server,
      root,
      env: serverEnv,
      grpcPort,
      logFile: join(dir, 'temporal-server.log'),
    });
    await temporal.start();
    stops.push(() => temporal.stop('SIGTERM'));
    const address = `127.0.0.1:${grpcPort}`;

    log("registering the namespace and search attributes (compose's temporal-init step)...");
    const initEnv: Record<string, string> = { ...serviceEnvironment(compose, 'temporal-init', vars), TEMPORAL_ADDRESS: address };
    await runScript('temporal-init', serviceScript(compose, 'temporal-init', vars), initEnv, bin, join(dir, 'temporal-init.log'));
    const namespace = initEnv.TEMPORAL_NAMESPACE ?? 'default';

    let uiUrl: string | undefined;
    if (binaries.ui && binaries.uiModule) {
      const uiPort = await portOr(options.preferDefaultPorts ? 8233 : undefined);
      const uiEnv = {
        ...serviceEnvironment(compose, 'temporal-ui', { ...vars, TEMPORAL_UI_PORT: String(uiPort) }),
        TEMPORAL_ADDRESS: address,
      };
      const ui = temporalUiProcess({
        ui: binaries.ui,
        uiModule: binaries.uiModule,
        root: join(dir, 'ui'),
        env: uiEnv,
        port: uiPort,
        logFile: join(dir, 'temporal-ui.log'),
      });
      await ui.start();
      stops.push(() => ui.stop('SIGTERM'));
      uiUrl = `http://localhost:${uiPort}`;
    }

    // CCS: the caller's simulator, real settings from the environment, or the default simulator.
    const real = options.ccsEnv !== undefined || REAL_CCS_KEYS.some((key) => env[key]);
    let sim = options.sim;
    if (!sim && !real) {
      sim = await startSimulator({ port: 0, jobs: DEFAULT_JOBS });
      const s = sim;
      stops.push(() => s.close());
    }
    const ccsEnv: Record<string, string> = { ...options.ccsEnv };
    if (sim) {
      ccsEnv.CCS_SERVERS_FILE = simulatorServersFile(sim, dir);
    } else if (!options.ccsEnv) {
      for (const [key, value] of Object.entries(env)) if (key.startsWith('CCS_') && value !== undefined) ccsEnv[key] = value;
    }
    // The commit as `docker compose build` would pass it (CCS_BUILD_COMMIT): the workers' build id.
    const commit = checkoutCommit();
    const workerEnv: Record<string, string> = {
      ...dockerfileWorkerEnv(undefined, { CCS_BUILD_COMMIT: commit }),
      ...serviceEnvironment(compose, 'worker', vars),
      ...ccsEnv,
      TEMPORAL_ADDRESS: address,
      // One evidence directory shared by the cluster's workers, as compose's volume is.
      EVIDENCE_DIR: join(dir, 'evidence'),
      ...options.workerEnv,
    };
    // Compose's path of the mounted servers file means nothing here when CCS is given by CCS_BASE_URL.
    if (!sim && !ccsEnv.CCS_SERVERS_FILE) delete workerEnv.CCS_SERVERS_FILE;
    const workers: ClusterWorker[] = [];
    let workerCount = 0;
    const addWorker = async (extra: Record<string, string> = {}): Promise<ClusterWorker> => {
      const worker = await workerProcess(++workerCount, compiled, { ...workerEnv, ...extra }, dir);
      workers.push(worker);
      await worker.start();
      return worker;
    };
    stops.push(async () => {
      await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    });
    const count = options.workers ?? 3;
    log(`starting ${count} worker${count === 1 ? '' : 's'}...`);
    for (let i = 0; i < count; i++) await addWorker();

    return {
      address,
      namespace,
      taskQueue: workerEnv.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      uiUrl,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      postgres,
      temporal,
      workers,
      sim,
      deploymentName: workerEnv.TEMPORAL_DEPLOYMENT_NAME || DEFAULT_DEPLOYMENT_NAME,
      buildId: workerEnv.TEMPORAL_WORKER_BUILD_ID || `${PACKAGE_VERSION}+${commit}`,
      timings: { builds: binaries.built, compile: compiled.seconds, start: Math.round((Date.now() - started) / 1000) },
      dir,
      addWorker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** This checkout's short commit, `-dirty` with uncommitted changes (read-only git); `local` outside git. */
function checkoutCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return `${head}${dirty ? '-dirty' : ''}`;
  } catch {
    return 'local';
  }
}

/**
 * deploy/demo/servers.yaml (compose's demo configuration), pointed at this simulator: its URL and CA
 * instead of the compose network's, the same user, password file and limits.
 */
function simulatorServersFile(sim: Simulator, dir: string): string {
  const demo = join(ROOT, 'deploy', 'demo');
  const config = parse(readFileSync(join(demo, 'servers.yaml'), 'utf8')) as { servers: Record<string, Record<string, unknown>> };
  const caFile = join(dir, 'sim-ca.pem');
  writeFileSync(caFile, sim.caPem ?? '');
  for (const server of Object.values(config.servers)) {
    server.baseUrl = sim.baseUrl;
    server.caFile = caFile;
    if (typeof server.passwordFile === 'string') server.passwordFile = join(demo, server.passwordFile.replace(/^\/etc\/ccs\//, ''));
  }
  const file = join(dir, 'servers.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stringify(config));
  return file;
}
