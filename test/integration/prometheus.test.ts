/**
 * The shipped alert rules and dashboard against a real Prometheus (Debian's binary) scraping a real
 * worker process every second: a run that needs attention fires CcsRunsNeedAttention, and every
 * metric name the rules and the dashboard's queries use is one the live worker exports.
 *
 * Prometheus loads a test copy of deploy/prometheus/alerts.yml with every `for:` set to 0s (derived
 * here, so the expressions are the shipped ones); the real durations are covered by alerts.test.yml.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/dev/dev-server';
import { findPrometheus, PROMETHEUS_INSTALL_HINT } from '../../src/dev/prometheus';
import { WorkflowName, statusQuery } from '../../src/domain/contract';
import { NotificationEventType, type ScanWatchInput, scanWatchWorkflowId } from '../../src/domain/notifications';
import type { Simulator } from '../../src/sim/server';
import { SIM_USER, addJob, eventually, spawnWorkerProcess, startRun, startSim, type TestWorker, type WorkerProcess } from '../helpers';
import { startWebhookReceiver, type WebhookReceiver } from '../notification-receivers';
import { tempDir } from '../temp-dir';
import { dashboardQueries, metricNames, ruleExpressions } from '../promql-names';

const ROOT = join(__dirname, '..', '..');
const ALERTS = join(ROOT, 'deploy/prometheus/alerts.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/ccs-job-orchestrator.json');
/** Series Prometheus makes itself for every target: never on a /metrics page. */
const SYNTHETIC = new Set(['up']);

let sim: Simulator;
let connection: Connection;
let client: Client;
let worker: WorkerProcess;
let taskQueue: string;
let metricsUrl: string;
/** Accepts every event; `refusing` answers 400, so its deliveries give up at once (counted as failed). */
let hooks: { ops: WebhookReceiver; refusing: WebhookReceiver } | undefined;
let prometheus: { child: ChildProcess; url: string; output: () => string } | undefined;

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** The value of an instant query's first sample, undefined when it returns none. */
async function query(promql: string): Promise<number | undefined> {
  const res = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}

async function alerts(): Promise<PromAlert[]> {
  const res = await fetch(`${prometheus!.url}/api/v1/alerts`);
  return ((await res.json()) as { data: { alerts: PromAlert[] } }).data.alerts;
}

/** The metric names on the live /metrics page (histograms as their _bucket/_sum/_count lines). */
async function exported(): Promise<Set<string>> {
  const text = await (await fetch(metricsUrl)).text();
  const names = new Set<string>();
  for (const line of text.split('\n')) if (line && !line.startsWith('#')) names.add(line.split(/[{ ]/, 1)[0]!);
  return names;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // Bounded: a process that ignores SIGTERM is killed after 10 s.
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(force));
}

beforeAll(async () => {
  const binaries = findPrometheus();
  if (!binaries) throw new Error(PROMETHEUS_INSTALL_HINT);
  sim = await startSim();
  const dir = tempDir('ccs-prometheus-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
  writeFileSync(join(dir, 'password'), `${SIM_USER.password}\n`);
  const servers = join(dir, 'servers.yaml');
  writeFileSync(
    servers,
    [
      'servers:',
      '  default:',
      `    baseUrl: ${sim.baseUrl}`,
      `    username: ${SIM_USER.username}`,
      `    passwordFile: ${join(dir, 'password')}`,
      `    caFile: ${join(dir, 'ca.pem')}`,
      // A budget, so the worker exports its share of it.
      '    requestsPerSecond: 20',
    ].join('\n'),
  );
  const secret = randomUUID();
  writeFileSync(join(dir, 'hook-secret'), secret);
  hooks = { ops: await startWebhookReceiver({ secret }), refusing: await startWebhookReceiver({ secret, script: () => 400 }) };
  const hook = (url: string): Record<string, unknown> => ({
    type: 'webhook',
    url,
    secretFile: join(dir, 'hook-secret'),
    allowPlaintext: true,
  });
  writeFileSync(
    join(dir, 'notifications.json'),
    JSON.stringify({
      channels: { ops: hook(`${hooks.ops.url}/ccs`), refusing: hook(`${hooks.refusing.url}/ccs`) },
      rules: [{ events: [NotificationEventType.RunCompleted, NotificationEventType.ScanMissed], channels: ['ops', 'refusing'] }],
    }),
  );
  taskQueue = `prometheus-${randomUUID()}`;
  const metrics = `127.0.0.1:${await freePort()}`;
  metricsUrl = `http://${metrics}/metrics`;
  worker = await spawnWorkerProcess({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_SERVERS_FILE: servers,
    METRICS_BIND_ADDRESS: metrics,
    NOTIFICATIONS_FILE: join(dir, 'notifications.json'),
    LOG_LEVEL: 'INFO',
  });
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });

  // The shipped rules with every `for:` at 0s: an alert fires at the first evaluation that sees it.
  const rules = parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { for?: string }[] }[] };
  for (const group of rules.groups) for (const rule of group.rules) if (rule.for) rule.for = '0s';
  writeFileSync(join(dir, 'alerts.yml'), stringify(rules));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'alerts.yml')],
      scrape_configs: [{ job_name: 'ccs-worker', static_configs: [{ targets: [metrics] }] }],
    }),
  );
  const listen = `127.0.0.1:${await freePort()}`;
  const child = spawn(
    binaries.prometheus,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  prometheus = { child, url: `http://${listen}`, output: () => output };
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${output}`);
      return (await fetch(`${prometheus!.url}/-/ready`).catch(() => undefined))?.status === 200;
    },
    30_000,
    'prometheus to be ready',
  );
}, 120_000);

afterAll(async () => {
  if (prometheus) await stop(prometheus.child);
  if (worker) await stop(worker.child);
  await connection?.close();
  await hooks?.ops.close();
  await hooks?.refusing.close();
  await sim?.close();
});

describe('alert rules and dashboard against a real Prometheus', () => {
  it('fires CcsRunsNeedAttention while a run cannot be read, and resolves it when it can', async () => {
    const on = { taskQueue, client } as TestWorker;
    const FAST = { pollInterval: '1s', maxPollInterval: '1s' };
    // A completed, a faulted and a late run first, so the counters the name check needs exist.
    const done = addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const faulted = addJob(
      sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'Access denied on 3 assets' },
    );
    const late = addJob(sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]);
    await (await startRun(on, { jobId: done, ...FAST })).result();
    await expect((await startRun(on, { jobId: faulted, ...FAST })).result()).rejects.toThrow();
    await (await startRun(on, { jobId: late, ...FAST, expectedDuration: '1s' })).result();
    // Adopted: started from the CCS console, attached to (still running when the workflow looks).
    const consoleJob = addJob(sim, [
      ['Executing', 4],
      ['Completed', 0],
    ]);
    sim.state.startRun(sim.state.jobs.get(consoleJob)!);
    expect(await (await startRun(on, { jobId: consoleJob, ...FAST, ifRunning: 'attach' })).result()).toMatchObject({ adopted: true });
    // Prometheus scrapes the worker, and sees it polling workflow tasks (the label CcsNoWorkerPolling selects).
    await eventually(
      async () => ((await query('sum(temporal_num_pollers{job="ccs-worker", poller_type="workflow_task"})')) ?? 0) >= 1,
      20_000,
      'Prometheus to see the worker polling',
    );
    const names = (await alerts()).map((a) => a.labels.alertname);
    expect(names).not.toContain('CcsNoWorkerPolling');
    expect(names).not.toContain('CcsWorkerDown');
    // Nothing needs attention yet (the late run's new counter is not an alert: Prometheus did not scrape 30 min ago).
    expect((await alerts()).map((a) => a.labels.alertname)).not.toContain('CcsRunsNeedAttention');

    const jobId = addJob(sim, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const run = await startRun(on, { jobId, ...FAST });
    await eventually(async () => (await run.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'] });
    const firing = await eventually(
      async () => (await alerts()).find((a) => a.labels.alertname === 'CcsRunsNeedAttention' && a.state === 'firing'),
      30_000,
      'CcsRunsNeedAttention to fire',
    );
    expect(firing.labels).toMatchObject({ ccs: 'default', type: 'CcsForbidden', severity: 'warning' });

    // Readable again: the flag clears, and so does the alert.
    sim.setFaults({});
    await eventually(
      async () => !(await alerts()).some((a) => a.labels.alertname === 'CcsRunsNeedAttention'),
      30_000,
      'CcsRunsNeedAttention to resolve',
    );
    await run.terminate('test over');
  }, 120_000);

  it('uses only metric names the live worker exports, in every rule and every dashboard panel', async () => {
    // The notification and missed-scan series, driven for real: a run started by a schedule completes
    // (sent to ops, refused by the other channel, its schedule's last success set), and a watchdog
    // with a 1 s window misses (the workflow accepts 1 s for tests; the CLI's minimum is 1 min).
    const jobId = addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const scheduleId = `prom-${randomUUID()}`;
    const schedule = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1d' }] },
      action: {
        type: 'startWorkflow',
        workflowType: WorkflowName.runCcsJob,
        taskQueue,
        args: [{ jobId, pollInterval: '1s', maxPollInterval: '1s' }],
      },
      state: { paused: true },
    });
    const watchId = `prom-watch-${randomUUID()}`;
    const watch = await client.workflow.start(WorkflowName.ccsScanWatch, {
      taskQueue,
      workflowId: scanWatchWorkflowId(watchId),
      args: [{ scheduleId: watchId, alertIfNoSuccess: '1s' } satisfies ScanWatchInput],
    });
    try {
      await schedule.trigger();
      await eventually(
        async () => {
          const live = await exported();
          return [
            'ccs_notifications_sent_total',
            'ccs_notifications_failed_total',
            'ccs_scan_last_success_timestamp_seconds',
            'ccs_scans_missed_total',
          ].every((name) => live.has(name));
        },
        60_000,
        'the notification and missed-scan series',
      )
        // Bounded either way: the assertion below then names every series that did not come.
        .catch(() => undefined);
    } finally {
      await schedule.delete();
      await watch.terminate('test over').catch(() => undefined);
    }
    const queries = [...ruleExpressions(readFileSync(ALERTS, 'utf8')), ...dashboardQueries(readFileSync(DASHBOARD, 'utf8'))];
    expect(queries.length).toBeGreaterThan(20);
    const wanted = new Set(queries.flatMap((q) => metricNames(q)).filter((name) => !SYNTHETIC.has(name)));
    const live = await exported();
    const missing = [...wanted].filter((name) => !live.has(name)).sort();
    expect(missing, `exported now: ${[...live].sort().join(' ')}`).toEqual([]);
  }, 60_000);

  it('fires CcsWorkerDown and CcsNoWorkerPolling when the worker stops', async () => {
    await stop(worker.child);
    const firing = await eventually(
      async () => {
        const now = (await alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
        return now.includes('CcsWorkerDown') && now.includes('CcsNoWorkerPolling') ? now : undefined;
      },
      30_000,
      'CcsWorkerDown and CcsNoWorkerPolling to fire',
    );
    expect(firing).toEqual(expect.arrayContaining(['CcsWorkerDown', 'CcsNoWorkerPolling']));
  }, 60_000);
});
