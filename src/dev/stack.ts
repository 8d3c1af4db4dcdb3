/**
 * The whole local stack in one process, for `npm run demo` and `npm run dev`: a Temporal dev server
 * (with its UI), the CCS simulator, and a worker. `stop()` closes all three, whatever was reached.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { CcsClient } from '../ccs/client';
import { DEFAULT_TASK_QUEUE } from '../domain/contract';
import { createWorker } from '../hosting/create-worker';
import { DEFAULT_USERS, startSimulator, type Simulator } from '../sim/server';
import { DEFAULT_JOBS } from '../sim/default-scenario';
import { freePort, startDevServer, type DevServer } from './dev-server';

export interface Stack {
  temporal: DevServer;
  sim: Simulator;
  client: Client;
  taskQueue: string;
  caFile: string;
  /** Where the worker writes its evidence chain (EVIDENCE_DIR, default ./evidence). */
  evidenceDir: string;
  stop: () => Promise<void>;
}

/** `preferred` when it is free, otherwise any free port. */
function portOr(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => void freePort().then(resolve));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

/** Starts the stack, reporting each step through `say`; on failure stops what it started. */
export async function startStack(say: (line: string) => void, options: { preferDefaultPorts?: boolean } = {}): Promise<Stack> {
  // Errors only: a faulted CCS run is reported by the pipeline, not as an SDK warning with a stack.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const preferred = options.preferDefaultPorts ?? false;
    say('starting a local Temporal dev server...');
    const temporal = await startDevServer({
      log: say,
      port: preferred ? await portOr(7233) : undefined,
      uiPort: preferred ? await portOr(8233) : await freePort(),
    });
    stops.push(() => temporal.stop());
    say(`  Temporal at ${temporal.address}, UI at ${temporal.uiUrl}`);

    const sim = await startSimulator({ port: preferred ? await portOr(12431) : 0, jobs: DEFAULT_JOBS });
    stops.push(() => sim.close());
    const caFile = join(mkdtempSync(join(tmpdir(), 'ccs-sim-')), 'ca.pem');
    writeFileSync(caFile, sim.caPem ?? '');
    say(`  CCS simulator at ${sim.baseUrl} (CA in ${caFile})`);

    say('bundling the workflows and starting a worker...');
    const ccs = new CcsClient({ baseUrl: sim.baseUrl, ...demoCredentials(), ca: sim.caPem });
    stops.push(() => ccs.close());
    const workerConnection = await NativeConnection.connect({ address: temporal.address });
    stops.push(() => workerConnection.close());
    const evidenceDir = resolve(process.env.EVIDENCE_DIR ?? 'evidence');
    const worker = await createWorker({
      connection: workerConnection,
      taskQueue: DEFAULT_TASK_QUEUE,
      servers: { default: ccs },
      evidence: evidenceDir,
    });
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    say(`  worker polling task queue ${DEFAULT_TASK_QUEUE}`);
    return { temporal, sim, client: new Client({ connection }), taskQueue: DEFAULT_TASK_QUEUE, caFile, evidenceDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The simulator's built-in user; the demo never touches a real CCS. */
export function demoCredentials(): { username: string; password: string } {
  const [username, user] = Object.entries(DEFAULT_USERS)[0]!;
  return { username, password: user.password };
}
