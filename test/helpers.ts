/**
 * Test wiring: simulators on free ports with their own CA, workers on unique task queues against the
 * run's dev server, and a Temporal client. Everything here is real: sockets, server, worker.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Client,
  Connection,
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString, type Logger } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { CcsClient, type CcsClientOptions } from '../src/ccs/client';
import { startDevServer, type DevServer } from '../src/dev/dev-server';
import { createWorker } from '../src/hosting/create-worker';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/sim/server';
import type { SimJob } from '../src/sim/state';
import type { RunCcsJobInput } from '../src/domain/contract';
import type { PollingSettings } from '../src/activities';
import type { runCcsJob } from '../src/workflows';
import { tempDir } from './temp-dir';

export const SIM_USER = { username: 'sim-user', password: 'sim-password' };

let runtimeInstalled = false;
/**
 * Installs the SDK runtime once per test process, with `logger` (default: errors only, so test
 * output stays readable). Later calls do nothing.
 */
export function quietRuntime(logger: Logger = new DefaultLogger('ERROR')): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  // Core's own warnings (e.g. a held wait completing after its workflow closed) only at ERROR too.
  Runtime.install({ logger, telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });
}

export async function startSim(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ port: 0, ...options });
}

export function clientFor(sim: Simulator, options: Partial<CcsClientOptions> = {}): CcsClient {
  return new CcsClient({ baseUrl: sim.baseUrl, ...SIM_USER, ca: sim.caPem, ...options });
}

/**
 * The usual test-file rig: one simulator and one worker on its own task queue, started before the
 * file's tests and stopped (worker first) after them. Read `rig.sim` and `rig.w` inside tests.
 */
export function simAndWorker(): { readonly sim: Simulator; readonly w: TestWorker } {
  const rig = {} as { sim: Simulator; w: TestWorker };
  beforeAll(async () => {
    rig.sim = await startSim();
    rig.w = await startWorker(rig.sim);
  });
  afterAll(async () => {
    await rig.w?.stop();
    await rig.sim?.close();
  });
  return rig;
}

/**
 * A dev server of the file's own that suggests continue-as-new after `events` history events, so a
 * short run crosses several executions, and a worker on it against `sim()`; started before the
 * file's tests and stopped (worker first) after them. Read `rig.server` and `rig.w` inside tests.
 */
export function continueAsNewRig(sim: () => Simulator, events = 12): { readonly server: DevServer; readonly w: TestWorker } {
  const rig = {} as { server: DevServer; w: TestWorker };
  beforeAll(async () => {
    rig.server = await startDevServer({ extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${events}`] });
    rig.w = await startWorker(sim(), {}, rig.server.address);
  });
  afterAll(async () => {
    await rig.w?.stop();
    await rig.server?.stop();
  });
  return rig;
}

/** A job whose runs walk `steps` (seconds), added to the simulator under a fresh GUID. */
export function addJob(sim: Simulator, steps: SimJob['steps'], extra: Partial<SimJob> = {}): string {
  return sim.state.addJob({ JobID: randomUUID(), JobName: 'test job', steps, ...extra }).JobID;
}

export interface TestWorker {
  taskQueue: string;
  /** The worker's evidence directory. */
  evidence: string;
  client: Client;
  ccs: CcsClient;
  stop: () => Promise<void>;
}

/** A worker on a unique task queue, using the bundle built once by global setup. */
export async function startWorker(
  sim: Simulator,
  ccsOptions: Partial<CcsClientOptions> = {},
  address = inject('temporalAddress'),
  polling?: Partial<PollingSettings>,
  taskQueue = `test-${randomUUID()}`,
): Promise<TestWorker> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address });
  const ccs = clientFor(sim, ccsOptions);
  // Each test worker keeps its evidence chain in a directory of its own.
  const evidence = tempDir('ccs-evidence-');
  // A bug in workflow code fails the test's workflow instead of retrying its task forever (a hang).
  const worker = await createWorker({
    connection,
    taskQueue,
    servers: { default: ccs },
    workflowBundlePath: inject('workflowBundlePath'),
    failWorkflowOnBug: true,
    polling,
    evidence,
  });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  return {
    taskQueue,
    evidence,
    client,
    ccs,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await ccs.close();
      await connection.close();
      await clientConnection.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Whether a worker has started an activity of `activityType` for the workflow and it has not
 * finished: the server's pending-activity record in state STARTED (a scheduled task no worker has
 * taken yet does not count). What "an execute is in flight" means, read instead of guessed.
 */
export async function activityInFlight(handle: WorkflowHandle, activityType: string): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some(
    (a) => a.activityType?.name === activityType && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
  );
}

/** Starts `runCcsJob` on the worker's task queue under a fresh workflow id. */
export function startRun(
  w: TestWorker,
  input: RunCcsJobInput,
  workflowId = `t-${randomUUID()}`,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof runCcsJob>> {
  return w.client.workflow.start<typeof runCcsJob>('runCcsJob', { taskQueue: w.taskQueue, workflowId, args: [input] });
}

/** The failure a workflow ended with (asserting that it did fail). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => {
      throw new Error('expected the workflow to fail');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw err;
  return err.cause as ApplicationFailure;
}

/** Every value a search attribute took, in history order, read from the upsert events. */
export async function searchAttributeHistory(handle: WorkflowHandle, name: string): Promise<string[]> {
  const history = await handle.fetchHistory();
  const values: string[] = [];
  for (const event of history.events ?? []) {
    const payload = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[name];
    if (payload?.data) values.push(JSON.parse(Buffer.from(payload.data).toString('utf8')) as string);
  }
  return values;
}

const HISTORY_DIR = join(__dirname, 'fixtures', 'histories');
/** The package version that records a fixture: it is the first part of the fixture's name. */
const RECORDING_VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * With RECORD_HISTORIES=1, saves the workflow's history as a replay fixture (unless one of that name
 * exists; RECORD_HISTORIES=overwrite replaces it) under
 * test/fixtures/histories/<package version>-<name>.json (`npm run test:record-histories`) as
 * `{ workflowId, history }`, the history exported by the temporal CLI in the JSON format the SDK's
 * replayer reads. `name` is the scenario (test/unit/replay.test.ts names every one it requires).
 */
export async function recordHistory(handle: WorkflowHandle, name: string, address = inject('temporalAddress')): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const file = join(HISTORY_DIR, `${RECORDING_VERSION}-${name}.json`);
  // A committed history is what running executions look like: it is kept unless overwriting is asked for.
  if (existsSync(file) && process.env.RECORD_HISTORIES !== 'overwrite') return;
  const runId = (await handle.describe()).runId;
  const json = execFileSync(
    inject('temporalCliPath'),
    ['workflow', 'show', '--address', address, '-w', handle.workflowId, '-r', runId, '-o', 'json'],
    { encoding: 'utf8' },
  );
  mkdirSync(HISTORY_DIR, { recursive: true });
  // The workflow id is kept beside the history: replaying commands that embed it (child ids) needs it.
  writeFileSync(file, `${JSON.stringify({ workflowId: handle.workflowId, history: JSON.parse(json) as unknown })}\n`);
}

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/**
 * Starts `src/worker.ts` as its own process (as `npm run worker` does) with only `env` (plus PATH
 * and HOME); resolves once it polls, unless `waitReady` is false.
 */
export function spawnWorkerProcess(env: Record<string, string>, waitReady = true): Promise<WorkerProcess> {
  const root = join(__dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/worker.ts')], {
    cwd: root,
    // Its evidence goes to a directory of the test's, not to the checkout's ./evidence, unless given.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', EVIDENCE_DIR: tempDir('ccs-worker-evidence-'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc = { child, exited, output: () => output };
  if (!waitReady) return Promise.resolve(proc);
  return eventually(
    () => (output.includes('"msg":"worker started"') ? proc : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined),
    60_000,
    'the worker to start',
  );
}

/** The CLI as users run it (`bin/ccs-jobs.js`). */
export const CLI_BIN = join(__dirname, '..', 'bin', 'ccs-jobs.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in a child process with only PATH and HOME from this process plus `env`, so a test
 * sees exactly what a user's shell would, and nothing of the test runner's environment leaks in.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
