/**
 * The worker as operators run it (`npm run worker`, a separate process) killed with SIGKILL mid-execute
 * and mid-poll, drained with SIGTERM, and refusing a broken configuration.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { readPublishedHeads } from '../../src/evidence/published-head';
import { generateSigningKey, publicKeysById } from '../../src/evidence/signing';
import type { Simulator } from '../../src/sim/server';
import {
  SIM_USER,
  addJob,
  eventually,
  recordHistory,
  runCli,
  searchAttributeHistory,
  spawnWorkerProcess,
  startRun,
  startSim,
  startWorker,
  type TestWorker,
  type WorkerProcess,
} from '../helpers';
import { tempDir } from '../temp-dir';

let sim: Simulator;
let client: TestWorker; // used for its Temporal client only: its own task queue has no work
let env: Record<string, string>;
const children = new Set<ChildProcess>();

function spawnWorker(extraEnv: Record<string, string> = {}, waitReady = true): Promise<WorkerProcess> {
  return spawnWorkerProcess({ ...env, ...extraEnv }, waitReady).then((proc) => {
    children.add(proc.child);
    void proc.exited.then(() => children.delete(proc.child));
    return proc;
  });
}

beforeAll(async () => {
  sim = await startSim();
  client = await startWorker(sim);
  const dir = tempDir('ccs-worker-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
  writeFileSync(join(dir, 'password'), `${SIM_USER.password}\n`);
  env = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `proc-${Date.now()}`,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_BASE_URL: sim.baseUrl,
    CCS_USERNAME: SIM_USER.username,
    CCS_PASSWORD_FILE: join(dir, 'password'),
    CCS_CA_FILE: join(dir, 'ca.pem'),
  };
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});
afterAll(async () => {
  await client?.stop();
  await sim?.close();
});

function start(jobId: string) {
  // A killed worker's held waits are taken over within the heartbeat timeout: short here, to keep the test short.
  return startRun(
    { ...client, taskQueue: env.TEMPORAL_TASK_QUEUE! },
    { jobId, pollInterval: '1s', maxPollInterval: '1s', heartbeatTimeout: '5s' },
  );
}

describe('worker process', () => {
  it('SIGKILL mid-execute: a new worker adopts the run the lost execute created', async () => {
    const first = await spawnWorker();
    const jobId = addJob(sim, [
      ['Executing', 2],
      ['Completed', 0],
    ]);
    // CCS starts the run, then sends the execute's answer a byte every 100 ms: the worker dies
    // between CCS acting and the answer arriving, the moment that makes an execute ambiguous.
    sim.setFaults({ dripBytesPerSecond: 1, endpoints: ['execute'] });
    const handle = await start(jobId);
    await eventually(() => sim.state.runsOf(jobId).length === 1, 20_000, 'CCS to start the run');
    first.child.kill('SIGKILL');
    await first.exited;
    sim.setFaults({});
    const second = await spawnWorker();
    const result = await handle.result();
    await recordHistory(handle, 'worker-killed-mid-execute');
    const runs = sim.state.runsOf(jobId);
    expect(runs).toHaveLength(1);
    expect(result).toMatchObject({ jobRunId: runs[0]?.JobRunID, status: 'Completed', adopted: true });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);

  it('SIGKILL mid-poll: every workflow ends correctly with exactly one run each', async () => {
    const first = await spawnWorker();
    const jobs = Array.from({ length: 4 }, (_, i) =>
      addJob(sim, [
        ['Executing', 5 + i],
        [i % 2 ? 'Faulted' : 'Completed', 0],
      ]),
    );
    const handles = await Promise.all(jobs.map(start));
    await eventually(
      async () => (await Promise.all(handles.map((h) => h.query(statusQuery)))).every((s) => s.phase === 'running'),
      30_000,
      'all runs being followed',
    );
    const polled = (sim.stats().jobruns?.['200'] ?? 0) + 2 * jobs.length;
    await eventually(() => (sim.stats().jobruns?.['200'] ?? 0) >= polled, 20_000, 'two more polls a run'); // a few polls in
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await spawnWorker();
    const outcomes = await Promise.all(
      handles.map((h) =>
        h.result().then(
          (r) => r.status,
          (e: { cause?: { type?: string } }) => e.cause?.type,
        ),
      ),
    );
    expect(outcomes).toEqual(['Completed', 'CcsJobFaulted', 'Completed', 'CcsJobFaulted']);
    for (const jobId of jobs) expect(sim.state.runsOf(jobId)).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);

  it('SIGTERM drains and exits 0 without aborting the CCS run; a new worker finishes it', async () => {
    const first = await spawnWorker();
    const jobId = addJob(sim, [
      ['Executing', 4],
      ['Completed', 0],
    ]);
    const handle = await start(jobId);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const [run] = sim.state.runsOf(jobId);
    expect(run?.abortRequests).toBe(0);
    const second = await spawnWorker();
    expect((await handle.result()).status).toBe('Completed');
    second.child.kill('SIGTERM');
    await second.exited;
  }, 60_000);

  it('CCS_PASSWORD_FILE is read again: after the file is rewritten on disk, the next grant sends the new password', async () => {
    const passwordFile = join(tempDir('ccs-rotation-'), 'password');
    writeFileSync(passwordFile, `${SIM_USER.password}\n`);
    const proc = await spawnWorker({ CCS_PASSWORD_FILE: passwordFile });
    const jobId = addJob(sim, [
      ['Executing', 8],
      ['Completed', 0],
    ]);
    const handle = await start(jobId);
    await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
    // The operator rotates the password: the file on disk, then the account in AD (CCS), which also
    // drops every token, so the next request needs a password grant.
    const rotated = 'Rotated-On-Disk-2026';
    writeFileSync(passwordFile, `${rotated}\n`);
    sim.setUser(SIM_USER.username, { password: rotated, role: 'operator' });
    const grantsBefore = sim.stats().token?.['200'] ?? 0;
    sim.revokeTokens();
    try {
      // A worker that kept the password read at start would be refused and hold the same password
      // back for a minute (lockout protection): the run would be flagged and not end in time.
      await eventually(async () => (await handle.describe()).status.name !== 'RUNNING', 30_000, 'the run to end after the rotation');
      expect((await handle.result()).status).toBe('Completed');
      expect(sim.stats().token?.['200'] ?? 0).toBeGreaterThan(grantsBefore);
      expect(await searchAttributeHistory(handle, 'CcsAttention')).toEqual([]);
    } finally {
      sim.setUser(SIM_USER.username, { password: SIM_USER.password, role: 'operator' });
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).not.toContain(rotated);
  }, 60_000);

  it('signs every record with EVIDENCE_SIGNING_KEY_FILE and publishes the head to EVIDENCE_HEAD_FILE on its interval and as it stops', async () => {
    const root = tempDir('ccs-signed-worker-');
    const keyFile = join(root, 'signing.pem');
    const { publicKeyFile, keyId } = generateSigningKey(keyFile);
    mkdirSync(join(root, 'heads'));
    const heads = join(root, 'heads', 'heads.jsonl');
    const evidenceDir = join(root, 'evidence');
    const proc = await spawnWorker({
      EVIDENCE_DIR: evidenceDir,
      EVIDENCE_SIGNING_KEY_FILE: keyFile,
      EVIDENCE_HEAD_FILE: heads,
      EVIDENCE_HEAD_INTERVAL: '10s',
    });
    expect(proc.output()).toContain(`"signingKey":"${keyId}"`);
    for (let i = 0; i < 2; i++) {
      const handle = await start(addJob(sim, [['Completed', 0]]));
      expect((await handle.result()).status).toBe('Completed');
    }
    // The records are written as the runs close; the head reaches the file on the next tick (10 s).
    const headsOf = async (): Promise<number[]> =>
      existsSync(heads) ? (await readPublishedHeads(heads, publicKeysById([publicKeyFile]))).anchors.map((a) => a.seq) : [];
    await eventually(async () => ((await headsOf()).includes(2) ? true : undefined), 30_000, 'head 2 to be published');
    const handle = await start(addJob(sim, [['Completed', 0]]));
    expect((await handle.result()).status).toBe('Completed');
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect((await headsOf()).at(-1)).toBe(3); // published once more as the worker stopped
    const verified = await runCli(['evidence', 'verify', '--dir', evidenceDir, '--public-key', publicKeyFile, '--published-heads', heads]);
    expect(verified.stdout).toMatch(
      /is intact: 3 record\(s\), head 3:[0-9a-f]{64}; \d+ published head\(s\) found; all 3 signed by the key\(s\) given/,
    );
    expect(verified.code).toBe(0);
  }, 90_000);

  it('refuses to start on a broken configuration, naming every problem at once', async () => {
    const proc = await spawnWorker(
      { CCS_BASE_URL: '', CCS_USERNAME: '', CCS_PASSWORD_FILE: '/nonexistent/password', CCS_TLS_INSECURE: 'maybe' },
      false,
    );
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    expect(out).toContain('invalid configuration (4 problems)');
    expect(out).toContain('CCS_BASE_URL is required');
    expect(out).toContain('CCS_USERNAME is required');
    expect(out).toContain('CCS_PASSWORD_FILE: cannot read /nonexistent/password (ENOENT)');
    expect(out).toContain('CCS_TLS_INSECURE must be true or false; got "maybe"');
  }, 30_000);

  it('says in one line, without a stack, why it cannot start: Temporal unreachable, or its health port taken', async () => {
    const unreachable = await spawnWorker({ TEMPORAL_ADDRESS: '127.0.0.1:1' }, false);
    expect(await unreachable.exited).toBe(1);
    const lines = unreachable
      .output()
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ccs-jobs worker: cannot reach Temporal .*check TEMPORAL_ADDRESS/);
    expect(unreachable.output()).not.toMatch(/\n\s+at /);

    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const busy = await spawnWorker({ HEALTH_BIND_ADDRESS: `127.0.0.1:${port}` }, false);
      expect(await busy.exited).toBe(1);
      const busyLines = busy
        .output()
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{'));
      expect(busyLines).toEqual([
        expect.stringMatching(
          /^ccs-jobs worker: listen EADDRINUSE.* \(the address is already in use: stop what listens there, or choose another port\)$/,
        ) as string,
      ]);
    } finally {
      taken.close();
    }
  }, 60_000);
});
