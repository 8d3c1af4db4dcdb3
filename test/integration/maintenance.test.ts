/**
 * Maintenance windows (issue 18, part 2): a window on one CCS server pauses its runs (no CCS request,
 * no abort), holds runs that start during it before they execute, leaves other servers' runs alone,
 * and when it ends (by `ccs-jobs maintenance end` or its `until`) everything resumes by itself; the
 * window outlives a worker restart.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  maintenanceStatusQuery,
  maintenanceWorkflowId,
  statusQuery,
  type MaintenanceStatus,
  type RunCcsJobInput,
} from '../../src/domain/contract';
import { createWorker } from '../../src/hosting/create-worker';
import type { Simulator } from '../../src/sim/server';
import type { runCcsJob } from '../../src/workflows';
import { addJob, clientFor, type CliRun, eventually, quietRuntime, recordHistory, runCli, startSim } from '../helpers';

const reads: string[] = [];
let sim: Simulator;
let client: Client;
let clientConnection: Connection;
const taskQueue = `maintenance-${randomUUID()}`;

/** A worker with two CCS servers, "default" and "emea" (both the simulator): windows are per server name. */
async function startTwoServerWorker(): Promise<{ stop: () => Promise<void> }> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const servers = { default: clientFor(sim), emea: clientFor(sim) };
  const worker: Worker = await createWorker({
    connection,
    taskQueue,
    servers,
    workflowBundlePath: inject('workflowBundlePath'),
    failWorkflowOnBug: true,
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
      await Promise.all(Object.values(servers).map((c) => c.close()));
      await connection.close();
    },
  };
}

let worker: { stop: () => Promise<void> } | undefined;
beforeAll(async () => {
  sim = await startSim({ onRequest: (e) => void (e.endpoint === 'jobruns' && e.id && reads.push(e.id.toLowerCase())) });
  worker = await startTwoServerWorker();
  clientConnection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection: clientConnection });
});
afterAll(async () => {
  await worker?.stop();
  await clientConnection?.close();
  await sim?.close();
});

const readsOf = (jobId: string): number => reads.filter((id) => id === jobId).length;

function start(input: RunCcsJobInput) {
  return client.workflow.start<typeof runCcsJob>('runCcsJob', {
    taskQueue,
    workflowId: `m-${randomUUID()}`,
    args: [{ pollInterval: '1s', heartbeatTimeout: '5s', ...input }],
  });
}

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { USER: 'ops-alice', TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue });
}

describe('ccs-jobs maintenance', () => {
  it('pauses the server’s runs and holds new ones, leaves other servers alone, and resumes everything when ended', async () => {
    // 30 s runs: both must still be going after the CLI's start, the pause, the late run's hold and the
    // three polls of silence below, however slowly a loaded machine gets there (default's run must still be read).
    const onEmea = addJob(sim, [
      ['Executing', 30],
      ['Completed', 0],
    ]);
    const onDefault = addJob(sim, [
      ['Executing', 30],
      ['Completed', 0],
    ]);
    const emeaRun = await start({ jobId: onEmea, ccs: 'emea' });
    const defaultRun = await start({ jobId: onDefault });
    await eventually(
      async () => (await emeaRun.query(statusQuery)).status === 'Executing' && (await defaultRun.query(statusQuery)).status === 'Executing',
    );

    const opened = await cli(['maintenance', 'start', '--ccs', 'emea', '--reason', 'CCS patch CHG0012345']);
    expect(opened.stderr).toBe('');
    expect(opened.stdout).toContain('maintenance window open on CCS server emea until ccs-jobs maintenance end');
    await eventually(async () => (await emeaRun.query(statusQuery)).phase === 'paused', 20_000, 'emea run paused');
    expect((await emeaRun.query(statusQuery)).paused).toMatchObject({ by: 'maintenance', reason: 'CCS patch CHG0012345' });

    // A run started on emea during the window holds before it executes anything.
    const late = addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const lateRun = await start({ jobId: late, ccs: 'emea' });
    await eventually(async () => (await lateRun.query(statusQuery)).phase === 'paused', 20_000, 'new emea run holds');

    const emeaBefore = readsOf(onEmea);
    const defaultBefore = readsOf(onDefault);
    // Default's run, on the same worker and poll interval, is read three more times: time enough for
    // emea's runs to have been read too, were the window not holding them.
    await eventually(() => readsOf(onDefault) >= defaultBefore + 3, 20_000, "three more reads of default's run"); // default's run is still followed
    expect(readsOf(onEmea)).toBe(emeaBefore); // nothing reaches CCS for emea's runs
    expect(readsOf(late)).toBe(0);
    expect(sim.state.runsOf(late)).toHaveLength(0);
    expect((await defaultRun.query(statusQuery)).paused).toBeUndefined();

    const listed = await cli(['maintenance', 'list', '--json']);
    const windows = JSON.parse(listed.stdout) as { ccs: string; requestedBy: string; paused: number }[];
    expect(windows.find((w) => w.ccs === 'emea')).toMatchObject({ requestedBy: 'ops-alice' });
    expect(await client.workflow.count(`CcsServer = 'emea' AND CcsPaused = 'maintenance' AND ExecutionStatus = 'Running'`)).toMatchObject({
      count: 2,
    });

    const closed = await cli(['maintenance', 'end', '--ccs', 'emea']);
    expect(closed.stderr).toBe('');
    expect(closed.stdout).toMatch(/^maintenance window on CCS server emea ended: 2 run\(s\) resumed/);
    expect((await emeaRun.result()).status).toBe('Completed');
    await recordHistory(emeaRun, 'maintenance-paused-then-resumed');
    await recordHistory(client.workflow.getHandle(maintenanceWorkflowId('emea')), 'maintenance-window');
    expect((await lateRun.result()).status).toBe('Completed');
    expect((await defaultRun.result()).status).toBe('Completed');
    expect(sim.state.runsOf(onEmea)[0]?.abortRequests).toBe(0);
  });

  it('a window with until ends by itself and its runs resume', async () => {
    // The window must outlast the pause's arrival (the CLI's start, the sweep's signal, the held
    // wait hearing of its cancel at its next heartbeat) with room to observe it on a loaded machine:
    // with 4 s, one CI run saw the window end before the run had ever shown `paused`.
    const jobId = addJob(sim, [
      ['Executing', 12],
      ['Completed', 0],
    ]);
    const run = await start({ jobId, ccs: 'emea' });
    await eventually(async () => (await run.query(statusQuery)).jobRunId);
    const r = await cli(['maintenance', 'start', '--ccs', 'emea', '--until', '10s']);
    expect(r.code).toBe(0);
    await eventually(async () => (await run.query(statusQuery)).phase === 'paused', 20_000, 'paused');
    expect((await run.result()).status).toBe('Completed');
    const window = (await client.workflow.getHandle(maintenanceWorkflowId('emea')).result()) as MaintenanceStatus;
    expect(window).toMatchObject({ state: 'ended', endedBy: expect.stringMatching(/^until .* passed$/) as unknown });
  });

  it('the window and its paused runs outlive a worker restart; ending it afterwards resumes them', async () => {
    // Long enough to still be going once the CLI has started and the pause has arrived.
    const jobId = addJob(sim, [
      ['Executing', 20],
      ['Completed', 0],
    ]);
    const run = await start({ jobId, ccs: 'emea' });
    await eventually(async () => (await run.query(statusQuery)).jobRunId);
    expect((await cli(['maintenance', 'start', '--ccs', 'emea'])).code).toBe(0);
    await eventually(async () => (await run.query(statusQuery)).phase === 'paused', 20_000, 'paused');
    await worker?.stop();
    worker = await startTwoServerWorker();
    expect(await client.workflow.getHandle(maintenanceWorkflowId('emea')).query(maintenanceStatusQuery)).toMatchObject({
      state: 'open',
      ccs: 'emea',
    });
    expect((await cli(['maintenance', 'end', '--ccs', 'emea'])).code).toBe(0);
    expect((await run.result()).status).toBe('Completed');
  });

  it('bad input is one line before anything is contacted', async () => {
    expect((await cli(['maintenance', 'start'])).stderr).toMatch(/^ccs-jobs: ccs-jobs maintenance start: --ccs NAME is required/);
    expect((await cli(['maintenance', 'start', '--ccs', 'emea', '--until', 'soon'])).stderr).toMatch(
      /^ccs-jobs: --until must be a duration such as 2h or an ISO time/,
    );
    expect((await cli(['maintenance', 'end', '--ccs', 'nowhere'])).stderr).toBe(
      'ccs-jobs: no maintenance window is open on CCS server nowhere\n',
    );
  });
});
