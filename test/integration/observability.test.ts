/**
 * The worker process as deployed: two CCS servers from a configuration file, a Prometheus endpoint
 * that is scraped, readiness and liveness endpoints, and JSON log lines that carry the run's ids and
 * never a secret.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActivityFailure, type ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import type { Simulator } from '../../src/sim/server';
import { statusQuery } from '../../src/domain/contract';
import {
  SIM_USER,
  addJob,
  eventually,
  failureOf,
  searchAttributeHistory,
  spawnWorkerProcess,
  startRun,
  startSim,
  startWorker,
  type TestWorker,
  type WorkerProcess,
} from '../helpers';
import { tempDir } from '../temp-dir';

let defaultSim: Simulator;
let emeaSim: Simulator;
let helper: TestWorker; // its Temporal client, and a second worker on the process's queue when asked
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  defaultSim = await startSim();
  emeaSim = await startSim();
  helper = await startWorker(defaultSim);
  dir = tempDir('ccs-observability-');
  writeFileSync(join(dir, 'default-ca.pem'), defaultSim.caPem!);
  writeFileSync(join(dir, 'emea-ca.pem'), emeaSim.caPem!);
  writeFileSync(join(dir, 'password'), `${SIM_USER.password}\n`);
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(async () => {
  await helper?.stop();
  await defaultSim?.close();
  await emeaSim?.close();
});

interface Deployed {
  proc: WorkerProcess;
  taskQueue: string;
  metrics: string;
  health: string;
}

async function deploy(emeaPassword = 'EMEA_PASSWORD'): Promise<Deployed> {
  const servers = join(dir, `servers-${Date.now()}.yaml`);
  writeFileSync(
    servers,
    [
      'servers:',
      '  default:',
      `    baseUrl: ${defaultSim.baseUrl}`,
      `    username: ${SIM_USER.username}`,
      `    passwordFile: ${join(dir, 'password')}`,
      `    caFile: ${join(dir, 'default-ca.pem')}`,
      '  emea:',
      `    baseUrl: ${emeaSim.baseUrl}`,
      `    username: ${SIM_USER.username}`,
      `    passwordEnv: ${emeaPassword}`,
      `    caFile: ${join(dir, 'emea-ca.pem')}`,
      '    requestsPerSecond: 20',
    ].join('\n'),
  );
  const taskQueue = `obs-${Date.now()}`;
  const metrics = `127.0.0.1:${await freePort()}`;
  const health = `127.0.0.1:${await freePort()}`;
  const proc = await spawnWorkerProcess({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_SERVERS_FILE: servers,
    EMEA_PASSWORD: SIM_USER.password,
    WRONG_PASSWORD: 'not-the-password',
    METRICS_BIND_ADDRESS: metrics,
    HEALTH_BIND_ADDRESS: health,
    LOG_LEVEL: 'INFO',
  });
  children.add(proc.child);
  return { proc, taskQueue, metrics: `http://${metrics}/metrics`, health: `http://${health}` };
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** The value of the first sample of `metric` whose labels include every `labels` pair. */
function sample(scrape: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('worker observability', () => {
  it('serves Prometheus metrics (SDK and domain), health, JSON logs, and runs on the named CCS server', async () => {
    const w = await deploy();
    const on = { ...helper, taskQueue: w.taskQueue };

    const ready = await eventually(
      async () => {
        const r = await get(`${w.health}/readyz`);
        return r.status === 200 ? r : undefined;
      },
      20_000,
      'readiness',
    );
    expect(JSON.parse(ready.text)).toEqual({ ok: true, checks: { temporal: 'ok', 'ccs:default': 'ok', 'ccs:emea': 'ok' } });
    expect((await get(`${w.health}/livez`)).status).toBe(200);

    // A run on the emea server reaches only that simulator.
    const emeaJob = addJob(emeaSim, [
      ['Executing', 2],
      ['Completed', 0],
    ]);
    const emeaRun = await startRun(on, { jobId: emeaJob, ccs: 'emea', pollInterval: '1s', maxPollInterval: '1s' });
    expect((await emeaRun.result()).status).toBe('Completed');
    expect(emeaSim.state.runsOf(emeaJob)).toHaveLength(1);
    expect(defaultSim.stats().execute).toBeUndefined();

    // A faulted run on the default server; an unknown server fails before any request.
    const faultJob = addJob(
      defaultSim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'Access denied on 3 assets' },
    );
    await expect((await startRun(on, { jobId: faultJob, pollInterval: '1s', maxPollInterval: '1s' })).result()).rejects.toThrow();
    const before = JSON.stringify([defaultSim.stats(), emeaSim.stats()]);
    // Only workers know their servers: the first activity refuses, and the workflow fails with it.
    const failed = await failureOf((await startRun(on, { jobId: emeaJob, ccs: 'apac' })).result());
    expect(failed).toBeInstanceOf(ActivityFailure);
    const unknown = failed.cause as ApplicationFailure;
    expect(unknown.type).toBe('CcsInvalidInput');
    expect(unknown.message).toMatch(/^ccs: no CCS server named "apac" is configured on this worker \(configured: default, emea\)/);
    expect(JSON.stringify([defaultSim.stats(), emeaSim.stats()])).toBe(before);

    const scrape = await eventually(
      async () => {
        const r = await get(w.metrics);
        return sample(r.text, 'ccs_runs_ended_total', { ccs: 'default', status: 'Faulted' }) === 1 ? r.text : undefined;
      },
      20_000,
      'the run counters',
    );
    expect(sample(scrape, 'ccs_runs_started_total', { ccs: 'emea' })).toBe(1);
    expect(sample(scrape, 'ccs_runs_ended_total', { ccs: 'emea', status: 'Completed' })).toBe(1);
    expect(sample(scrape, 'ccs_requests_total', { ccs: 'emea', operation: 'execute', outcome: '200' })).toBe(1);
    expect(sample(scrape, 'ccs_requests_total', { ccs: 'emea', operation: 'jobruns', outcome: '200' })).toBeGreaterThanOrEqual(3);
    expect(sample(scrape, 'ccs_request_duration_seconds_count', { ccs: 'emea', operation: 'execute' })).toBe(1);
    expect(sample(scrape, 'ccs_request_duration_seconds_bucket', { ccs: 'emea', operation: 'execute', le: '+Inf' })).toBe(1);
    expect(sample(scrape, 'ccs_token_requests_total', { ccs: 'emea', outcome: '200' })).toBe(1);
    expect(sample(scrape, 'ccs_polls_total', { ccs: 'emea' })).toBeGreaterThanOrEqual(2);
    // The SDK's own metrics come through the same endpoint.
    expect(sample(scrape, 'temporal_workflow_completed_total', { workflow_type: 'runCcsJob' })).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'temporal_activity_execution_latency_count', { activity_type: 'executeJob' })).toBeGreaterThanOrEqual(2);

    // Log lines: every one is JSON; the run's lines carry its ids; no secret anywhere.
    w.proc.child.kill('SIGTERM');
    expect(await w.proc.exited).toBe(0);
    const lines = w.proc.output().trim().split('\n');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const r of records) expect(Object.keys(r).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    const status = records.find((r) => r.msg === 'CCS run status' && r.workflowId === emeaRun.workflowId && r.status === 'Completed');
    expect(status).toMatchObject({ level: 'info', jobId: emeaJob, jobRunId: emeaSim.state.runsOf(emeaJob)[0]!.JobRunID });
    const output = w.proc.output();
    expect(output).not.toContain(SIM_USER.password);
    for (const token of [...defaultSim.issuedTokens(), ...emeaSim.issuedTokens()]) expect(output).not.toContain(token);
  }, 90_000);

  it('counts adopted, late and attention-flagged runs in its live /metrics', async () => {
    const w = await deploy();
    const on = { ...helper, taskQueue: w.taskQueue };
    const FAST = { pollInterval: '1s', maxPollInterval: '1s' };
    // Adopted: a run started from the CCS console, attached to. Late: past its expected 2 s.
    const consoleJob = addJob(defaultSim, [
      ['Executing', 4],
      ['Completed', 0],
    ]);
    defaultSim.state.startRun(defaultSim.state.jobs.get(consoleJob)!);
    const lateJob = addJob(defaultSim, [
      ['Executing', 6],
      ['Completed', 0],
    ]);
    // Attention: its status reads are forbidden for a few seconds, then allowed again.
    const forbiddenJob = addJob(emeaSim, [
      ['Executing', 8],
      ['Completed', 0],
    ]);
    const adopted = await startRun(on, { jobId: consoleJob, ...FAST, ifRunning: 'attach' });
    const late = await startRun(on, { jobId: lateJob, ...FAST, expectedDuration: '2s' });
    const flagged = await startRun(on, { jobId: forbiddenJob, ccs: 'emea', ...FAST });
    await eventually(async () => (await flagged.query(statusQuery)).phase === 'running', 20_000, 'the emea run to be followed');
    emeaSim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'], activeForSeconds: 4 });
    const results = await Promise.all([adopted.result(), late.result(), flagged.result()]);
    expect(results.map((r) => r.status)).toEqual(['Completed', 'Completed', 'Completed']);
    expect(results[0]).toMatchObject({ adopted: true });
    expect(await searchAttributeHistory(flagged, 'CcsAttention')).toEqual(['CcsForbidden', null]);

    // The workflow's counters reach the exporter shortly after its last task.
    const scrape = await eventually(
      async () => {
        const r = await get(w.metrics);
        return sample(r.text, 'ccs_runs_ended_total', { ccs: 'emea', status: 'Completed' }) === 1 ? r.text : undefined;
      },
      20_000,
      'the run counters',
    );
    // Soft: each counter that is missing is named, not only the first.
    expect.soft(sample(scrape, 'ccs_runs_adopted_total', { ccs: 'default' })).toBe(1);
    expect.soft(sample(scrape, 'ccs_runs_late_total', { ccs: 'default' })).toBe(1);
    expect.soft(sample(scrape, 'ccs_runs_attention_raised_total', { ccs: 'emea', type: 'CcsForbidden' })).toBe(1);
    expect.soft(sample(scrape, 'ccs_runs_attention_cleared_total', { ccs: 'emea', type: 'CcsForbidden' })).toBe(1);
    // Nothing else was adopted, late or flagged.
    expect(sample(scrape, 'ccs_runs_adopted_total', { ccs: 'emea' })).toBeUndefined();
    expect(sample(scrape, 'ccs_runs_attention_raised_total', { ccs: 'default' })).toBeUndefined();
  }, 90_000);

  it('reports current runs by CCS status, cluster-wide', async () => {
    // Another worker runs the job; the deployed one only counts it (its first refresh is at start).
    const jobId = addJob(defaultSim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    const run = await startRun(helper, { jobId, pollInterval: '1s', maxPollInterval: '1s' });
    await eventually(
      async () => ((await run.describe()).searchAttributes.CcsJobStatus?.[0] === 'Executing' ? true : undefined),
      20_000,
      'the run to execute',
    );
    const w = await deploy();
    const scrape = await eventually(
      async () => {
        const r = await get(w.metrics);
        return (sample(r.text, 'ccs_runs_current', { status: 'Executing' }) ?? 0) >= 1 ? r.text : undefined;
      },
      20_000,
      'the current-runs gauge',
    );
    expect(sample(scrape, 'ccs_runs_current', { status: 'Completed' })).toBe(0);
    await run.terminate('test over');
  }, 60_000);

  it('is live but not ready while a CCS server refuses its credentials', async () => {
    const w = await deploy('WRONG_PASSWORD');
    const notReady = await eventually(
      async () => {
        const r = await get(`${w.health}/readyz`);
        const body = JSON.parse(r.text) as { checks: Record<string, string> };
        return r.status === 503 && body.checks['ccs:emea'] !== 'no token yet' ? body : undefined;
      },
      20_000,
      'readiness to report the refused credentials',
    );
    expect(notReady.checks['ccs:default']).toBe('ok');
    expect(notReady.checks['ccs:emea']).toBe('CcsAuthenticationFailed'); // the type only: /readyz is unauthenticated
    expect(notReady.checks['ccs:emea']).not.toContain('not-the-password');
    expect((await get(`${w.health}/livez`)).status).toBe(200);
    // Readiness keeps checking (1, 2, 4 s...), but the refused password is not sent again within its
    // back-off window (1 min at first): one refused login, not one per check, so no account lockout.
    // Two later checks are watched in the worker's log, each held back without asking CCS.
    const refusedBefore = emeaSim.stats().token?.['400'] ?? 0;
    expect(refusedBefore).toBeGreaterThanOrEqual(1);
    const heldBack = (): number =>
      w.proc
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"CCS not reachable yet"') && l.includes('"ccs":"emea"') && l.includes('is not sent again before'))
        .length;
    await eventually(() => heldBack() >= 2, 20_000, 'two readiness checks of emea held back');
    expect(emeaSim.stats().token?.['400']).toBe(refusedBefore);
  }, 60_000);
});
