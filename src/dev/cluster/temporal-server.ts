/**
 * The real Temporal server (not the CLI's dev server): the `server` program, its SQL schema tool and
 * the UI server, each built from its Go module at the version the pinned CLI embeds, and cached (a
 * cold build takes minutes, a cached one nothing). The server runs on the configuration template the
 * `temporalio/server` image runs (`config/docker.yaml` from the same module, rendered by the server
 * from environment variables), so docker-compose.yml's variables mean here what they mean there.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { executable, goInstall, goModuleDir } from '../go-install';
import { lastLines, managedProcess, waitForPort, type ManagedProcess } from './processes';

/** The server version the pinned Temporal CLI (v1.5.1) embeds: its dev server and the cluster agree. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The UI server version the pinned CLI embeds. */
export const TEMPORAL_UI_VERSION = '2.42.1';

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

/** Where built binaries are kept between runs: CCS_TOOLS_CACHE, else ~/.cache/ccs-job-orchestrator. */
export function toolsCache(env: Record<string, string | undefined> = process.env): string {
  return env.CCS_TOOLS_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ccs-job-orchestrator');
}

export interface TemporalBinaries {
  server: string;
  sqlTool: string;
  /** The UI server, or undefined when it was not asked for. */
  ui?: string;
  /** The server module's folder: its config templates and SQL schemas. */
  serverModule: string;
  uiModule?: string;
  /** Seconds spent building, per binary built now (empty when all were cached). */
  built: Record<string, number>;
}

async function cachedInstall(
  dir: string,
  binary: string,
  module: string,
  label: string,
  log: (line: string) => void,
  built: Record<string, number>,
): Promise<string> {
  const path = join(dir, binary);
  if (executable(path)) return path;
  mkdirSync(dir, { recursive: true });
  log(`building ${label} with "go install ${module}" (minutes the first time, cached in ${dir})...`);
  built[label] = await goInstall({ module, label, gobin: dir, logName: `${binary}-${label.replace(/\W+/g, '-')}-build.log` }, log);
  if (!executable(path)) throw new Error(`go install ${module} finished but ${path} is missing`);
  log(`  ${label} built in ${built[label]} s`);
  return path;
}

/** Builds (or finds in the cache) the server, the schema tool and, when asked, the UI server. */
export async function ensureTemporalBinaries(options: { ui: boolean; log: (line: string) => void }): Promise<TemporalBinaries> {
  const built: Record<string, number> = {};
  const serverDir = join(toolsCache(), `temporal-server-v${TEMPORAL_SERVER_VERSION}`);
  const server = await cachedInstall(
    serverDir,
    'server',
    `${SERVER_MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
    'the Temporal server',
    options.log,
    built,
  );
  const sqlTool = await cachedInstall(
    serverDir,
    'sql',
    `${SERVER_MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    'the Temporal SQL schema tool',
    options.log,
    built,
  );
  let ui: string | undefined;
  let uiModule: string | undefined;
  if (options.ui) {
    ui = await cachedInstall(
      join(toolsCache(), `temporal-ui-v${TEMPORAL_UI_VERSION}`),
      'server',
      `${UI_MODULE}/cmd/server@v${TEMPORAL_UI_VERSION}`,
      'the Temporal UI server',
      options.log,
      built,
    );
    uiModule = goModuleDir(`${UI_MODULE}@v${TEMPORAL_UI_VERSION}`);
  }
  return { server, sqlTool, ui, serverModule: goModuleDir(`${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`), uiModule, built };
}

/** The version a built server reports (`server --version`: "temporal version 1.29.1"). */
export function serverVersion(server: string): string {
  return execFileSync(server, ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).at(-1) ?? '';
}

/**
 * A configuration root as the image lays it out: `config/docker.yaml` (the template) and
 * `config/dynamicconfig/docker.yaml` (the image's default dynamic config), copied from the module.
 */
export function serverConfigRoot(serverModule: string, root: string): { root: string; dynamicConfig: string } {
  mkdirSync(join(root, 'config', 'dynamicconfig'), { recursive: true });
  copyFileSync(join(serverModule, 'config', 'docker.yaml'), join(root, 'config', 'docker.yaml'));
  const dynamicConfig = join(root, 'config', 'dynamicconfig', 'docker.yaml');
  copyFileSync(join(serverModule, 'config', 'dynamicconfig', 'docker.yaml'), dynamicConfig);
  return { root, dynamicConfig };
}

/** Where the image keeps the SQL schemas (compose's scripts name it) and where the module has them. */
export const IMAGE_SCHEMA_DIR = '/etc/temporal/schema';
export const moduleSchemaDir = (serverModule: string): string => join(serverModule, 'schema');

export interface ServerProcessOptions {
  server: string;
  root: string;
  env: Record<string, string>;
  grpcPort: number;
  logFile: string;
}

/** The server (all four services in one process, as the image runs it); ready once its frontend listens. */
export function temporalServerProcess(options: ServerProcessOptions): ManagedProcess {
  if (!existsSync(join(options.root, 'config', 'docker.yaml'))) throw new Error(`no config/docker.yaml under ${options.root}`);
  return managedProcess({
    name: 'Temporal server',
    command: options.server,
    // As the image's start script runs it; TEMPORAL_ALLOW_NO_AUTH comes with compose's environment.
    args: ['--root', options.root, '--config', 'config', '--env', 'docker', 'start'],
    env: { PATH: process.env.PATH ?? '', ...options.env },
    logFile: options.logFile,
    ready: (child) => waitForPort(options.grpcPort, 60_000, () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined)),
  });
}

export interface UiProcessOptions {
  ui: string;
  uiModule: string;
  root: string;
  env: Record<string, string>;
  port: number;
  logFile: string;
}

/** The UI server on its image's configuration template (`config/docker.yaml` of its module). */
export function temporalUiProcess(options: UiProcessOptions): ManagedProcess {
  mkdirSync(join(options.root, 'config'), { recursive: true });
  // The template has no listen host (the container's every interface): on a machine, loopback only.
  const template = readFileSync(join(options.uiModule, 'config', 'docker.yaml'), 'utf8');
  writeFileSync(join(options.root, 'config', 'docker.yaml'), `${template.trimEnd()}\nhost: 127.0.0.1\n`);
  return managedProcess({
    name: 'Temporal UI',
    command: options.ui,
    args: ['--root', options.root, '--config', 'config', '--env', 'docker', 'start'],
    env: { PATH: process.env.PATH ?? '', ...options.env, TEMPORAL_UI_PORT: String(options.port) },
    logFile: options.logFile,
    ready: (child) =>
      waitForPort(options.port, 30_000, () =>
        child.exitCode !== null ? `exited with ${child.exitCode}: ${lastLines(options.logFile)}` : undefined,
      ),
  });
}
