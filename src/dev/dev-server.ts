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

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
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
  let stderr = '';
  const keep = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not listen on ${port} within 60 s: ${stderr.trim()}`);
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
