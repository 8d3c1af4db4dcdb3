/**
 * The benchmark's processes: TypeScript entry points started in their own process group with their
 * output in a log file, stopped with SIGTERM (SIGKILL after 15 s), and a death of one reported at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DevServer } from '../src/dev/dev-server';

export const ROOT = join(__dirname, '..');

export interface Processes {
  temporal: DevServer;
  ours: ChildProcess;
  /** The previous design, kept as a named baseline: every poll an activity retry (CCS_WATCH_THRESHOLD=0). */
  retry: ChildProcess;
  timer: ChildProcess;
}

let stopping = false;
/** From now on a process that exits is being stopped, not dying. */
export function markStopping(): void {
  stopping = true;
}
let announceDeath: (err: Error) => void = () => undefined;
/** Rejects when a worker process dies before the benchmark stops it (a hang otherwise). */
export const workerDied = new Promise<never>((_, reject) => (announceDeath = reject));
workerDied.catch(() => undefined);

/**
 * Starts a TypeScript entry point, its output kept in `logFile`; resolves when `ready` appears in
 * its output or `ready()` says so.
 */
export function spawnTs(
  script: string,
  env: Record<string, string>,
  ready: string | (() => Promise<boolean>),
  logFile: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a signal meant for the terminal's job must not stop a measured worker.
    detached: true,
  });
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const err = new Error(`${script} exited (${code ?? signal}) during the benchmark: ${output.slice(-3000)}`);
    console.error(err.message);
    announceDeath(err);
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (!settled) fn();
      settled = true;
    };
    const onData = (c: Buffer): void => {
      appendFileSync(logFile, c);
      output = (output + c.toString()).slice(-20_000);
      if (typeof ready === 'string' && output.includes(ready)) settle(() => resolve(child));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => settle(() => reject(new Error(`${script} exited with ${code}: ${output.slice(-2000)}`))));
    const deadline = Date.now() + 120_000;
    const check = async (): Promise<void> => {
      if (settled) return;
      if (typeof ready !== 'string' && (await ready())) return settle(() => resolve(child));
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        return settle(() => reject(new Error(`${script} was not ready within 120 s: ${output.slice(-2000)}`)));
      }
      setTimeout(() => void check(), 500);
    };
    void check();
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
