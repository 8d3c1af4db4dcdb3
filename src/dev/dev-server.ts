/**
 * Starts and stops `temporal server start-dev` for tests, the demo and the benchmark: on free ports,
 * headless unless a UI port is asked for, with the orchestrator's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { SEARCH_ATTRIBUTE_NAMES } from '../domain/contract';
import { ensureTemporalCli } from './temporal-cli';

export interface DevServer {
  /** host:port of the frontend gRPC service */
  address: string;
  /** The server's Prometheus endpoint (its own request counts by operation, for the benchmark). */
  metricsUrl: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  stop: () => Promise<void>;
}

export interface DevServerOptions {
  /** Keep state in this SQLite file (survives a restart of the server). */
  dbFilename?: string;
  port?: number;
  uiPort?: number;
  extraArgs?: string[];
  log?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Start attempts when the server exits before it listens: a port picked free can be taken by another
 * process before the server binds it. That includes the ports the CLI picks for its own history,
 * matching and worker services, which a client's outgoing connection can take as its source port
 * (workers reconnecting while the server restarts open many).
 */
const START_ATTEMPTS = 3;

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options);
    } catch (err) {
      // Only an early exit is worth another try; a frontend port the caller fixed is tried again only
      // when what failed was another port, since a port someone else listens on will not come free.
      const fixedPortTaken = options.port !== undefined && err instanceof Error && err.message.includes(`:${options.port}:`);
      if (!(err instanceof EarlyExitError) || fixedPortTaken || attempt >= START_ATTEMPTS) throw err;
      options.log?.(`temporal server start-dev exited before listening (attempt ${attempt} of ${START_ATTEMPTS}); starting it again`);
    }
  }
}

class EarlyExitError extends Error {}

async function startDevServerOnce(options: DevServerOptions): Promise<DevServer> {
  const cli = await ensureTemporalCli(options.log);
  const port = options.port ?? (await freePort());
  const metricsPort = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'error',
    '--log-format',
    'json',
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The first and the last 4,000 characters: a Go panic names its cause first and prints its stack after.
  let head = '';
  let tail = '';
  let total = 0;
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString();
    total += text.length;
    if (head.length < 4000) head += text.slice(0, 4000 - head.length);
    tail = (tail + text).slice(-4000);
  };
  const output = (): string =>
    (total <= 4000 ? head : `${head}${total > 8000 ? '\n…\n' : ''}${tail.slice(-Math.min(4000, total - 4000))}`).trim();
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new EarlyExitError(`temporal server start-dev exited with ${child.exitCode}: ${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not listen on ${port} within 60 s: ${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address: `127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
