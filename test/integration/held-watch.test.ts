/**
 * Polling that scales: a wait whose poll interval is below the worker's threshold polls inside one
 * heartbeating activity attempt; at or above it, each poll is an attempt (retry-as-poll); a run whose
 * interval grows past the threshold hands over. Stopping or killing the worker never aborts the run:
 * SIGTERM hands the wait to another worker at once, SIGKILL within the heartbeat timeout. A cancel
 * reaches CCS's abort within 2 s whatever the wait is doing. Real server, simulator, worker processes.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import type { Simulator, SimRequestEvent } from '../../src/sim/server';
import {
  SIM_USER,
  addJob,
  eventually,
  recordHistory,
  spawnWorkerProcess,
  startRun,
  startSim,
  startWorker,
  type TestWorker,
  type WorkerProcess,
} from '../helpers';
import { tempDir } from '../temp-dir';

let sim: Simulator;
const requests: SimRequestEvent[] = [];
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  sim = await startSim({ onRequest: (e) => void requests.push(e) });
  dir = tempDir('ccs-held-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(async () => {
  await sim?.close();
});

/** Attempts of each waitForJobRunChange activity in the history, in order. */
async function waitAttempts(handle: WorkflowHandle): Promise<number[]> {
  const history = await handle.fetchHistory();
  const waits = new Set(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForJobRunChange')
      .map((e) => String(e.eventId)),
  );
  return (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && waits.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => Number(e.activityTaskStartedEventAttributes!.attempt));
}

/** Abort requests for any run of the job. */
function abortsOf(jobId: string): SimRequestEvent[] {
  const runs = new Set(sim.state.runsOf(jobId).map((r) => r.JobRunID));
  return requests.filter((r) => r.endpoint === 'abort' && r.id !== undefined && runs.has(r.id));
}

function jobrunsOf(jobId: string): SimRequestEvent[] {
  return requests.filter((r) => r.endpoint === 'jobruns' && r.id === jobId);
}

describe('held and retry-as-poll waits', () => {
  let w: TestWorker;
  let below: TestWorker; // threshold 1.5 s: a 2 s interval is polled by retries
  let handover: TestWorker; // threshold 2.5 s: 1 s growing by 1.25 crosses it after 4 waits
  beforeAll(async () => {
    w = await startWorker(sim, {}, undefined, { jitter: 0 });
    below = await startWorker(sim, {}, undefined, { jitter: 0, holdBelowMs: 1_500 });
    handover = await startWorker(sim, {}, undefined, { jitter: 0, holdBelowMs: 2_500 });
  });
  afterAll(async () => {
    await w?.stop();
    await below?.stop();
    await handover?.stop();
  });

  it('a short interval polls inside one attempt: 8 reads, one started attempt, a short history', async () => {
    const jobId = addJob(sim, [
      ['Executing', 8],
      ['Completed', 0],
    ]);
    const handle = await startRun(w, { jobId, pollInterval: '1s', maxPollInterval: '1s' });
    const result = await handle.result();
    expect(result.status).toBe('Completed');
    const attempts = await waitAttempts(handle);
    // The first wait runs until the run ends; the second is the final read of the ended run's messages (or none).
    expect(attempts[0]).toBe(1);
    expect(attempts.every((a) => a === 1)).toBe(true);
    expect(jobrunsOf(jobId).length).toBeGreaterThanOrEqual(7);
    expect((await handle.query(statusQuery)).polls).toBeGreaterThanOrEqual(7);
    const events = (await handle.fetchHistory()).events ?? [];
    // 48 today: the held wait itself adds none; 14 are the SDK's marker and TemporalChangeVersion
    // upsert per patched() id, 6 the closing evidence record (an activity and its workflow task).
    expect(events.length).toBeLessThanOrEqual(50);
    await recordHistory(handle, 'held-watch-short-interval');
  }, 60_000);

  it('an interval at or above the threshold is retry-as-poll: one attempt per read', async () => {
    const jobId = addJob(sim, [
      ['Executing', 7],
      ['Completed', 0],
    ]);
    const handle = await startRun(below, { jobId, pollInterval: '2s', maxPollInterval: '2s' });
    expect((await handle.result()).status).toBe('Completed');
    const attempts = await waitAttempts(handle);
    // Only the last attempt of a retried activity is in history: it is the number of attempts made.
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('an interval that grows past the threshold hands over from holding to retry-as-poll', async () => {
    const jobId = addJob(sim, [
      ['Executing', 16],
      ['Completed', 0],
    ]);
    const handle = await startRun(handover, { jobId, pollInterval: '1s', maxPollInterval: '6s' });
    expect((await handle.result()).status).toBe('Completed');
    const attempts = await waitAttempts(handle);
    const reads = jobrunsOf(jobId).length;
    // Held reads at 1, 1.25, 1.56, 1.95, 2.44 s; then 3.05 s ≥ 2.5 s: each further read is an attempt.
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
    expect(reads).toBeGreaterThan(Math.max(...attempts));
    await recordHistory(handle, 'held-watch-hand-over');
  }, 60_000);

  it('a cancel reaches CCS’s abort within 2 s while the wait is held', async () => {
    const jobId = addJob(sim, [
      ['Executing', 120],
      ['Completed', 0],
    ]);
    const handle = await startRun(w, { jobId, pollInterval: '5s', maxPollInterval: '5s' });
    await eventually(() => jobrunsOf(jobId).length >= 3, 20_000, 'the held wait to poll');
    const sent = Date.now();
    await handle.signal(cancelSignal, { reason: 'latency' });
    const abort = await eventually(() => requests.find((r) => r.endpoint === 'abort' && r.at >= sent), 10_000, 'the abort to reach CCS');
    expect(abort.at - sent).toBeLessThan(2_000);
    expect((await handle.result()).status).toBe('Aborted');
  }, 60_000);
});

describe('a worker that stops or dies never aborts a held wait', () => {
  let client: TestWorker;
  let env: Record<string, string>;
  beforeAll(async () => {
    client = await startWorker(sim);
    writeFileSync(join(dir, 'password'), SIM_USER.password);
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `held-${Date.now()}`,
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      CCS_BASE_URL: sim.baseUrl,
      CCS_USERNAME: SIM_USER.username,
      CCS_PASSWORD_FILE: join(dir, 'password'),
      CCS_CA_FILE: join(dir, 'ca.pem'),
      CCS_POLL_JITTER: '0',
    };
  });
  afterAll(async () => {
    await client?.stop();
  });
  const spawn = async (): Promise<WorkerProcess> => {
    const proc = await spawnWorkerProcess(env);
    children.add(proc.child);
    return proc;
  };

  it('SIGTERM: the wait ends at once and another worker resumes it within seconds; 0 aborts, 1 run', async () => {
    const first = await spawn();
    const jobId = addJob(sim, [
      ['Executing', 20],
      ['Completed', 0],
    ]);
    const handle = await startRun({ ...client, taskQueue: env.TEMPORAL_TASK_QUEUE! }, { jobId, pollInterval: '1s', maxPollInterval: '1s' });
    await eventually(() => jobrunsOf(jobId).length >= 3, 20_000, 'the held wait to poll');
    const second = await spawn();
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const resumed = await eventually(() => jobrunsOf(jobId).find((r) => r.at > stoppedAt + 200), 15_000, 'another worker to poll');
    expect(resumed.at - stoppedAt).toBeLessThan(5_000);
    expect((await handle.result()).status).toBe('Completed');
    expect(abortsOf(jobId)).toHaveLength(0);
    expect(sim.state.runsOf(jobId)).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 90_000);

  it('SIGKILL: another worker resumes the wait within the heartbeat timeout; 0 aborts, 1 run', async () => {
    const first = await spawn();
    const jobId = addJob(sim, [
      ['Executing', 25],
      ['Completed', 0],
    ]);
    const handle = await startRun(
      { ...client, taskQueue: env.TEMPORAL_TASK_QUEUE! },
      { jobId, pollInterval: '1s', maxPollInterval: '1s', heartbeatTimeout: '5s' },
    );
    await eventually(() => jobrunsOf(jobId).length >= 3, 20_000, 'the held wait to poll');
    const second = await spawn();
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    const resumed = await eventually(() => jobrunsOf(jobId).find((r) => r.at > killedAt + 200), 20_000, 'another worker to poll');
    // Within the heartbeat timeout (5 s) and the retry's first interval (1 s), with a little slack.
    expect(resumed.at - killedAt).toBeLessThan(8_000);
    expect((await handle.result()).status).toBe('Completed');
    expect(abortsOf(jobId)).toHaveLength(0);
    expect(sim.state.runsOf(jobId)).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 90_000);
});
