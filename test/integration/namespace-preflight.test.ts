/**
 * A worker process started on a namespace that has only the older three of the seven search
 * attributes (an upgrade, or a namespace set up from old docs): it exits non-zero at start with one
 * line naming the four missing and the command that registers them, never ready meanwhile; with
 * TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true it registers them, becomes ready and runs a job there.
 * `ccs-jobs ccs check` reports the same. Real dev server, simulator over sockets, real processes.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import { WorkflowName } from '../../src/domain/contract';
import type { Simulator } from '../../src/sim/server';
import { SIM_USER, addJob, eventually, runCli, spawnWorkerProcess, startSim } from '../helpers';
import { tempDir } from '../temp-dir';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const OLDER_THREE = ['CcsJobId', 'CcsJobRunId', 'CcsJobStatus'];
const NEWER_FOUR = ['CcsAttention', 'CcsLate', 'CcsPaused', 'CcsServer'];

let sim: Simulator;
let connection: Connection;
let env: Record<string, string>;
const namespace = `ccs-preflight-${Date.now()}`;
const children = new Set<ChildProcess>();

async function customAttributes(): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.keys(listed.customAttributes ?? {})
    .filter((name) => name.startsWith('Ccs'))
    .sort();
}

beforeAll(async () => {
  sim = await startSim();
  const dir = tempDir('ccs-preflight-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
  env = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: `preflight-${Date.now()}`,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_BASE_URL: sim.baseUrl,
    CCS_USERNAME: SIM_USER.username,
    CCS_PASSWORD: SIM_USER.password,
    CCS_CA_FILE: join(dir, 'ca.pem'),
  };
  connection = await Connection.connect({ address: inject('temporalAddress') });
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // A new namespace reaches the frontend's cache seconds after it is created: until then registering fails NOT_FOUND.
  await eventually(
    () =>
      connection.operatorService
        .addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(OLDER_THREE.map((name) => [name, KEYWORD])) })
        .then(
          () => true,
          () => false,
        ),
    30_000,
    'the new namespace to take search attributes',
  );
  await eventually(async () => (await customAttributes()).length === 3, 30_000, 'the older three to be listed');
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(async () => {
  await connection?.close();
  await sim?.close();
});

/**
 * A TCP relay to Temporal that holds each new connection for `delayMs` before relaying it: a slow
 * network, so the worker's start (and its unready /readyz) lasts long enough to be watched.
 */
async function slowRelay(target: string, delayMs: number): Promise<{ address: string; server: Server }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server = createServer((client) => {
    client.once('error', () => client.destroy());
    setTimeout(() => {
      const upstream = tcpConnect(port, host);
      upstream.once('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** One GET of /readyz on a connection of its own: its status, or undefined when nothing answers. */
function readyzStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    // No keep-alive: a socket kept open by the poller would hold the worker's health server (and so its exit) open.
    const req = httpGet({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}

/** Polls /readyz for as long as `running()`; the statuses it answered. */
function watchReadiness(port: number, running: () => boolean): Promise<number[]> {
  return (async () => {
    const seen: number[] = [];
    while (running()) {
      const status = await readyzStatus(port);
      if (status !== undefined) seen.push(status);
      await new Promise((r) => setTimeout(r, 20));
    }
    return seen;
  })();
}

describe('a namespace without the newer search attributes', () => {
  it('the worker exits non-zero with one line naming the four and the command, never ready; ccs check says the same', async () => {
    expect(await customAttributes()).toEqual([...OLDER_THREE].sort());
    const port = await freePort();
    const relay = await slowRelay(env.TEMPORAL_ADDRESS!, 1_500);
    const started = Date.now();
    const proc = await spawnWorkerProcess({ ...env, TEMPORAL_ADDRESS: relay.address, HEALTH_BIND_ADDRESS: `127.0.0.1:${port}` }, false);
    children.add(proc.child);
    let running = true;
    const readiness = watchReadiness(port, () => running);
    const code = await Promise.race([
      proc.exited,
      new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000).unref()),
    ]);
    running = false;
    const exitedAfterMs = Date.now() - started;
    relay.server.close();
    expect(code, proc.output()).toBe(1);
    const lines = proc
      .output()
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('{'));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toBe(
      `ccs-jobs worker: Temporal namespace ${namespace} lacks the search attributes ${NEWER_FOUR.join(', ')} that runCcsJob sets (every run's workflow task would fail with BadSearchAttributes): ` +
        `register them with temporal operator search-attribute create --address ${relay.address} --namespace ${namespace} ${NEWER_FOUR.map((n) => `--name ${n} --type Keyword`).join(' ')}, ` +
        'or start the worker once with TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true',
    );
    const statuses = await readiness;
    console.log(
      `worker exit code ${code} after ${exitedAfterMs} ms from spawn (/readyz answered ${statuses.length} times: ${[...new Set(statuses)].join(', ')}); its line:\n${line}`,
    );
    expect(statuses).not.toContain(200);
    // The endpoint was up and asked while the worker ran: "never ready" was observed, not assumed.
    expect(statuses).toContain(503);
    expect(await customAttributes()).toEqual([...OLDER_THREE].sort());

    const jobId = addJob(sim, [['Completed', 0]]);
    const check = await runCli(['ccs', 'check', '--job', jobId], env);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stdout).toContain(
      `Temporal namespace ${namespace} at ${env.TEMPORAL_ADDRESS}\n  BLOCKER temporal   Temporal namespace ${namespace} lacks the search attributes ${NEWER_FOUR.join(', ')}`,
    );
    expect(check.stdout).toContain('Blocked at temporal: a worker refuses this namespace until this is fixed');
    const json = await runCli(['ccs', 'check', '--job', jobId, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      blocker: null,
      orchestrable: false,
      temporal: {
        namespace,
        verdict: 'blocker',
        detail: line.replace('ccs-jobs worker: ', '').replace(relay.address, env.TEMPORAL_ADDRESS!),
      },
    });
  }, 120_000);

  it('ccs check on a namespace with all seven passes; with Temporal down it says so and judges CCS alone', async () => {
    const jobId = addJob(sim, [['Completed', 0]]);
    const ok = await runCli(['ccs', 'check', '--job', jobId], { ...env, TEMPORAL_NAMESPACE: 'default' });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('  ok      temporal   the namespace exists with every search attribute the workflows set');
    const down = await runCli(['ccs', 'check', '--job', jobId], { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toMatch(
      / {2}note {4}temporal {3}Temporal at 127\.0\.0\.1:\d+ does not answer \(ECONNREFUSED\): its namespace and search attributes were not checked/,
    );
    expect(down.stdout).toContain(`A run of job ${jobId} can be orchestrated`);
  }, 60_000);

  it('with TEMPORAL_REGISTER_SEARCH_ATTRIBUTES=true the worker registers the four, becomes ready and runs a job there', async () => {
    const port = await freePort();
    const proc = await spawnWorkerProcess({
      ...env,
      HEALTH_BIND_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_REGISTER_SEARCH_ATTRIBUTES: 'true',
    });
    children.add(proc.child);
    expect(proc.output()).toContain('"msg":"registered search attributes"');
    expect(await customAttributes()).toEqual([...OLDER_THREE, ...NEWER_FOUR].sort());
    await eventually(async () => (await readyzStatus(port)) === 200, 30_000, '/readyz to answer 200');

    // The namespace is usable now: a run upserts all seven attributes and completes.
    const client = new Client({ connection, namespace });
    const jobId = addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const handle = await client.workflow.start(WorkflowName.runCcsJob, {
      taskQueue: env.TEMPORAL_TASK_QUEUE!,
      workflowId: `preflight-${jobId}`,
      args: [{ jobId, pollInterval: '1s' }],
    });
    await expect(handle.result()).resolves.toMatchObject({ jobId, status: 'Completed' });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 120_000);
});
