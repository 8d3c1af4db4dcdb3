/**
 * Missed scans end to end on the run's dev server: `ccs-jobs schedule create --alert-if-no-success`
 * starts the schedule's watchdog (and `schedule delete` cancels it), and a watchdog over a schedule
 * whose job faults raises `scan.missed` to a real webhook receiver, then `scan.recovered` once the
 * schedule's run Completed (the announce activity signals the watchdog). The worker runs the real
 * activities against the simulator, with a NOTIFICATIONS_FILE built by the loader the worker uses.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { NotificationEventType, scanWatchStatusQuery, scanWatchWorkflowId, type ScanWatchInput } from '../../src/domain/notifications';
import { createWorker } from '../../src/hosting/create-worker';
import { createNotifier, notificationsFromFile, type Notifier } from '../../src/notifications';
import type { Simulator } from '../../src/sim/server';
import type { ccsScanWatch } from '../../src/workflows';
import { addJob, clientFor, eventually, quietRuntime, recordHistory, startSim } from '../helpers';
import { startWebhookReceiver, type WebhookReceiver } from '../notification-receivers';
import { tempDir } from '../temp-dir';

const SECRET = 'scan-watch-hook-secret';
/** The shortest window the workflow takes is 1 s; the CLI asks for 1 m, so the timing test starts its watchdog directly. */
const WINDOW = '10s';

let sim: Simulator;
let receiver: WebhookReceiver;
let notifier: Notifier;
let worker: Worker;
let running: Promise<void>;
let connection: NativeConnection;
let clientConnection: Connection;
let client: Client;
const taskQueue = `scan-watch-${randomUUID()}`;
const dir = tempDir('ccs-scan-watch-');

beforeAll(async () => {
  quietRuntime();
  sim = await startSim();
  receiver = await startWebhookReceiver({ secret: SECRET });
  writeFileSync(join(dir, 'hook-secret'), SECRET);
  const file = join(dir, 'notifications.yaml');
  writeFileSync(
    file,
    [
      'channels:',
      `  ops: { type: webhook, url: "${receiver.url}/ccs", secretFile: "${join(dir, 'hook-secret')}", allowPlaintext: true }`,
      'rules:',
      '  - events: [scan.missed, scan.recovered]',
      '    channels: [ops]',
      '',
    ].join('\n'),
  );
  const problems: string[] = [];
  const config = notificationsFromFile(file, {}, problems);
  expect(problems).toEqual([]);
  notifier = createNotifier({ config: config!, links: { namespace: 'default' } });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  worker = await createWorker({
    connection,
    taskQueue,
    servers: { default: clientFor(sim) },
    workflowBundlePath: inject('workflowBundlePath'),
    failWorkflowOnBug: true,
    evidence: tempDir('ccs-evidence-'),
    notifications: { notifier },
  });
  running = worker.run();
  clientConnection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection: clientConnection });
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await notifier?.close();
  await connection?.close();
  await clientConnection?.close();
  await receiver?.close();
  await sim?.close();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    argv,
    { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: taskQueue },
    { write: (t) => void (out += t), isTTY: false },
    (t) => void (err += t),
  );
  return { code, out, err };
}

describe('ccs-jobs schedule --alert-if-no-success', () => {
  it('starts the watchdog with the schedule, shows it in describe and list, and cancels it with delete', async () => {
    const jobId = addJob(sim, [['Completed', 1]]);
    const name = `alert-${randomUUID().slice(0, 8)}`;
    const created = await cli('schedule', 'create', name, '--cron', '0 2 * * *', '--job', jobId, '--alert-if-no-success', '26h');
    expect(created.err).toBe('');
    expect(created.out).toBe(
      `created schedule ${name}: runCcsJob ${jobId} at "0 2 * * *" UTC, overlap skip, scan.missed if no success within 26h\n`,
    );
    const watch = client.workflow.getHandle<typeof ccsScanWatch>(scanWatchWorkflowId(name));
    expect((await watch.describe()).status.name).toBe('RUNNING');
    expect(await watch.query(scanWatchStatusQuery)).toMatchObject({
      scheduleId: name,
      window: '26h',
      lastSuccessAt: null,
      missedWindows: 0,
    });

    const described = JSON.parse((await cli('schedule', 'describe', name, '--json')).out) as Record<string, unknown>;
    expect(described).toMatchObject({ alertIfNoSuccess: '26h', lastSuccessAt: null, missedSince: null, missedWindows: 0 });
    const listed = (await cli('schedule', 'list')).out.split('\n').find((l) => l.startsWith(name));
    expect(listed).toMatch(/26h\s+none yet$/);

    expect((await cli('schedule', 'delete', name)).out).toBe(`deleted schedule ${name}\n`);
    await eventually(async () => (await watch.describe()).status.name === 'CANCELLED', 10_000, 'the watchdog cancelled');
  });

  it('raises scan.missed to the webhook while the scheduled job faults, then scan.recovered once a run Completed', async () => {
    // The first run faults, every later one completes.
    const jobId = addJob(sim, [['Faulted', 1]], { runs: [{ steps: [['Faulted', 1]] }, { steps: [['Completed', 1]] }] });
    const name = `faulting-${randomUUID().slice(0, 8)}`;
    // No cron fire during the test: runs come from `schedule trigger`.
    expect((await cli('schedule', 'create', name, '--cron', '0 2 1 1 *', '--job', jobId)).code).toBe(0);
    try {
      const input: ScanWatchInput = { scheduleId: name, alertIfNoSuccess: WINDOW };
      const watch = await client.workflow.start<typeof ccsScanWatch>('ccsScanWatch', {
        taskQueue,
        workflowId: scanWatchWorkflowId(name),
        args: [input],
      });
      expect((await cli('schedule', 'trigger', name)).code).toBe(0);
      const firstRun = await eventually(async () => {
        const d = await client.schedule.getHandle(name).describe();
        return d.info.recentActions[0]?.action.workflow;
      });
      const faulted = client.workflow.getHandle(firstRun.workflowId, firstRun.firstExecutionRunId);
      await expect(faulted.result()).rejects.toThrow();
      const faultedAt = (await faulted.describe()).closeTime!.getTime();

      await receiver.waitFor((r) => r.events().some((e) => e.type === NotificationEventType.ScanMissed && e.schedule === name), 30_000);
      const missed = receiver.events().find((e) => e.type === NotificationEventType.ScanMissed && e.schedule === name)!;
      expect(missed).toMatchObject({ severity: 'critical', incident: { action: 'trigger', key: `scan/${name}` } });
      expect(missed.details).toMatchObject({ window: WINDOW, lastSuccessAt: null });
      const status = await watch.query(scanWatchStatusQuery);
      expect(status.missedWindows).toBeGreaterThanOrEqual(1);
      expect(status.missedSince).toBe(missed.details?.missedSince);
      // The faulted run ended inside the first window: it had its chance to count, and did not.
      expect(faultedAt).toBeLessThan(Date.parse(status.missedSince!));
      expect(receiver.events().some((e) => e.type === NotificationEventType.ScanRecovered && e.schedule === name)).toBe(false);

      expect((await cli('schedule', 'trigger', name)).code).toBe(0);
      await receiver.waitFor((r) => r.events().some((e) => e.type === NotificationEventType.ScanRecovered && e.schedule === name), 30_000);
      const recovered = receiver.events().find((e) => e.type === NotificationEventType.ScanRecovered && e.schedule === name)!;
      expect(recovered).toMatchObject({
        incident: { action: 'resolve', key: `scan/${name}` },
        details: { missedSince: status.missedSince },
      });
      const after = await watch.query(scanWatchStatusQuery);
      expect(after).toMatchObject({ missedSince: null, missedWindows: 0 });
      expect(after.lastSuccessAt).not.toBeNull();
      expect(receiver.badSignatures).toBe(0);
      expect(receiver.bodiesById().get(missed.id)?.size).toBe(1);
      await watch.cancel();
      await expect(watch.result()).rejects.toThrow();
      await recordHistory(watch, 'scan-watch-missed-recovered');
    } finally {
      await client.workflow
        .getHandle(scanWatchWorkflowId(name))
        .cancel()
        .catch(() => undefined);
      await cli('schedule', 'delete', name);
    }
  });

  it('tells windows that all ended while no worker ran in one scan.missed, once a worker is back', async () => {
    const name = `outage-${randomUUID().slice(0, 8)}`;
    const queue = `scan-watch-outage-${randomUUID()}`;
    const watch = await client.workflow.start<typeof ccsScanWatch>('ccsScanWatch', {
      taskQueue: queue,
      workflowId: scanWatchWorkflowId(name),
      args: [{ scheduleId: name, alertIfNoSuccess: '2s' }],
    });
    const startedAt = (await watch.describe()).startTime.getTime();
    // No worker polls `queue` yet: three windows end unseen.
    await eventually(() => Date.now() > startedAt + 7_000, 15_000, 'three windows gone by');
    expect(receiver.events().some((e) => e.schedule === name)).toBe(false);
    const late = await createWorker({
      connection,
      taskQueue: queue,
      servers: { default: clientFor(sim) },
      workflowBundlePath: inject('workflowBundlePath'),
      failWorkflowOnBug: true,
      evidence: tempDir('ccs-evidence-'),
      notifications: { notifier },
    });
    const lateRun = late.run();
    try {
      await receiver.waitFor((r) => r.events().some((e) => e.type === NotificationEventType.ScanMissed && e.schedule === name), 30_000);
      const [first] = receiver.events().filter((e) => e.schedule === name);
      expect(first!.details).toMatchObject({ missedSince: new Date(startedAt + 2_000).toISOString() });
      expect(Number(first!.details?.missedWindows)).toBeGreaterThanOrEqual(3);
      const status = await watch.query(scanWatchStatusQuery);
      expect(receiver.events().filter((e) => e.schedule === name).length).toBeLessThan(status.missedWindows);
      await watch.cancel();
      await expect(watch.result()).rejects.toThrow();
    } finally {
      late.shutdown();
      await lateRun;
    }
  });
});
