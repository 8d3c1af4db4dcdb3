/**
 * The cluster's processes: each one's output goes to its own log file (named when it fails to start),
 * and each can be stopped with the signal a scenario calls for and started again with the same
 * command, environment and ports, as a supervisor restarting a container would.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { freePort } from '../dev-server';

export { freePort };

/**
 * A free loopback port below 32768. The Temporal server stores its services' membership ports in a
 * SMALLINT column: an ephemeral port (32768 and up, what port 0 gives) stops it at start-up with
 * "value out of range for type smallint".
 */
export async function freeLowPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `port` accepts connections; `failed()` returning a text ends the wait with that error. */
export async function waitForPort(port: number, timeoutMs: number, failed: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function lastLines(file: string, count = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join('\n  ');
  } catch {
    return '';
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  /** The running child, if any. */
  readonly child: ChildProcess | undefined;
  /** Starts the process (again); resolves once `ready` does. */
  start: () => Promise<void>;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>;
  running: () => boolean;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** Resolves once the process serves; rejects with why it does not. */
  ready: (child: ChildProcess) => Promise<void>;
}

export function managedProcess(spec: ProcessSpec): ManagedProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name: spec.name,
    logFile: spec.logFile,
    get child() {
      return child;
    },
    running,
    start: async () => {
      if (running()) return;
      const out = openSync(spec.logFile, 'a');
      const c = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', out, out] });
      closeSync(out);
      child = c;
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      try {
        await spec.ready(c);
      } catch (err) {
        if (c.exitCode === null) c.kill('SIGKILL');
        throw new Error(
          `${spec.name} did not start: ${(err as Error).message}\n  the last lines of ${spec.logFile}:\n  ${lastLines(spec.logFile)}`,
        );
      }
    },
    stop: async (signal = 'SIGTERM', graceMs = 30_000) => {
      const c = child;
      if (!c || !running()) return;
      c.kill(signal);
      const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a shell script to its end without blocking the event loop (the cluster's processes go on). */
export function runShell(script: string, env: Record<string, string>, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', script], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
  });
}
