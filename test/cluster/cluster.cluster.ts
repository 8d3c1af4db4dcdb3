/**
 * The cluster suite (`npm run test:cluster`): the production shape — PostgreSQL, the real Temporal
 * server with compose's schema and settings, 3 workers from the compiled image build — running
 * CLUSTER_WORKFLOWS (default 300) concurrent runs (complete, fault, cancel, cancels racing the end)
 * while it is deployed, killed and restarted piece by piece, with the chaos suite's invariants.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SERVER_KEYS, LOCAL_WORKER_KEYS, startCluster, type Cluster } from '../../src/dev/cluster';
import { readCompose, serviceEnvironment, serviceImageTag } from '../../src/dev/cluster/compose';
import { serverVersion, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../src/dev/cluster/temporal-server';
import { portOpen } from '../../src/dev/cluster/processes';
import { dockerfileWorkerEnv } from '../../src/dev/cluster/workers';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { SearchAttribute, type RunCcsJobResult } from '../../src/domain/contract';
import { DEFAULT_JOBS } from '../../src/sim/default-scenario';
import { startSimulator, type Simulator } from '../../src/sim/server';
import { addJob, eventually } from '../helpers';
import {
  canary,
  check,
  planJobs,
  random,
  settle,
  startAll,
  summaryTable,
  invariants,
  ZERO_INVARIANTS,
  type Summary,
  type Tracked,
} from '../chaos/harness';

const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = Number(process.env.CLUSTER_WORKFLOWS ?? 300);
const SETTLE_MS = 300_000;
/** Runs execute for 6–24 s, so every fault below lands while most of them are going. */
const SCALE = 3;
const summaries: Summary[] = [];
let sim: Simulator;
let cluster: Cluster;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, jobs: DEFAULT_JOBS });
  cluster = await startCluster({ workers: 3, sim, log: (line) => console.log(line) });
  console.log(
    `cluster up in ${cluster.timings.start} s (built now: ${JSON.stringify(cluster.timings.builds)}; worker compiled in ${cluster.timings.compile} s)`,
  );
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({ connection, namespace: cluster.namespace });
}, 900_000);

afterAll(async () => {
  const table = summaryTable(summaries);
  console.log(`\ncluster summary (${WORKFLOWS} workflows per scenario, 3 workers, PostgreSQL)\n${table}\n`);
  if (process.env.CLUSTER_SUMMARY_FILE) writeFileSync(process.env.CLUSTER_SUMMARY_FILE, `${table}\n`);
  await connection?.close();
  await cluster?.stop();
  await sim?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the mixed workflows on the cluster, lets `during` break it, settles and counts. `during` is
 * told how many runs are still going at the moment it breaks something: the scenario only counts
 * if most are (a fault after the runs ended would prove nothing). It may start more runs (returned),
 * which are settled and checked with the others.
 */
async function scenario(
  name: string,
  seed: number,
  during: (going: () => number, tracked: Tracked[], rnd: () => number) => Promise<Tracked[] | void>,
  scale = SCALE,
): Promise<Summary> {
  const started = Date.now();
  const rnd = random(seed);
  const tracked = await startAll(client, cluster.taskQueue, planJobs(sim, WORKFLOWS, rnd, scale), rnd, undefined, 20);
  console.log(`${name}: ${tracked.length} workflows started in ${Math.round((Date.now() - started) / 1000)} s`);
  const going = (): number =>
    tracked.filter(
      (t) => !sim.state.runsOf(t.jobId).some((run) => ['Completed', 'Faulted', 'Aborted'].includes(String(sim.state.view(run).status))),
    ).length;
  const more = await during(
    () => {
      const n = going();
      console.log(`${name}: ${n} of ${tracked.length} runs going when the fault began`);
      expect(n).toBeGreaterThan(tracked.length / 2);
      return n;
    },
    tracked,
    rnd,
  );
  if (more) tracked.push(...more);
  await settle(tracked, SETTLE_MS);
  // Every worker's log, the retired ones' too.
  const logs = readdirSync(cluster.dir)
    .filter((f) => /^worker-\d+\.log$/.test(f))
    .map((f) => readFileSync(join(cluster.dir, f), 'utf8'));
  // The 3 workers share one evidence directory (EVIDENCE_DIR, as compose's volume): one chain.
  const summary = await check(
    name,
    sim,
    tracked,
    [...logs, ...tracked.map((t) => JSON.stringify(t.outcome ?? {}))],
    started,
    [],
    join(cluster.dir, 'evidence'),
  );
  summary.restartNeeded = await canary(client, cluster.taskQueue, sim);
  summaries.push(summary);
  return summary;
}

const PINNED = String(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);

/** The build id a run is pinned to and the build ids that completed its workflow tasks. */
async function buildsOf(
  t: Tracked,
): Promise<{ behavior: string; pinnedTo: string | undefined; ranOn: Set<string>; closedAt: number | undefined; firstTaskAt: number }> {
  const described = await t.handle.describe();
  const info = described.raw.workflowExecutionInfo?.versioningInfo;
  const ranOn = new Set<string>();
  let firstTaskAt = 0;
  for (const event of (await t.handle.fetchHistory()).events ?? []) {
    const buildId = event.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId;
    if (!event.workflowTaskCompletedEventAttributes) continue;
    ranOn.add(buildId ?? '(unversioned)');
    firstTaskAt ||= Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
  }
  return {
    behavior: String(info?.behavior ?? ''),
    pinnedTo: info?.deploymentVersion?.buildId ?? undefined,
    ranOn,
    closedAt: described.closeTime?.getTime(),
    firstTaskAt,
  };
}

/** How many processes have `dir` in their command line (every process a cluster starts does). */
async function processesUnder(dir: string): Promise<number> {
  const { out } = await sh('pgrep', ['-f', '-c', dir]);
  return Number(out.trim()) || 0;
}

/** A process's environment as the kernel holds it. */
function environOf(pid: number | undefined): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

function differingKeys(expected: Record<string, string>, actual: Record<string, string>): string[] {
  return Object.keys(expected)
    .filter((key) => actual[key] !== expected[key])
    .sort();
}

function sh(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe.sequential('the cluster', () => {
  it("runs the server version the pinned CLI embeds, with compose's images, settings and 512 shards", async () => {
    const compose = readCompose();
    expect(serviceImageTag(compose, 'temporal')).toBe(TEMPORAL_SERVER_VERSION);
    expect(serviceImageTag(compose, 'temporal-schema')).toBe(TEMPORAL_SERVER_VERSION);
    expect(serviceImageTag(compose, 'temporal-init')).toBe(TEMPORAL_SERVER_VERSION);
    expect(serviceImageTag(compose, 'temporal-ui')).toBe(TEMPORAL_UI_VERSION);
    const cliVersion = (await sh(await ensureTemporalCli(), ['--version'])).out;
    expect(cliVersion).toContain(`Server ${TEMPORAL_SERVER_VERSION}`);
    expect(cliVersion).toContain(`UI ${TEMPORAL_UI_VERSION}`);
    expect(serverVersion(cluster.temporal.child!.spawnfile)).toBe(TEMPORAL_SERVER_VERSION);

    // The running server's environment is compose's, but for where things listen and where PostgreSQL is.
    const vars = { ...process.env, POSTGRES_PASSWORD: cluster.postgres.password };
    const serverEnv = environOf(cluster.temporal.child?.pid);
    const serverDiffers = differingKeys(serviceEnvironment(compose, 'temporal', vars), serverEnv);
    expect(serverDiffers).toContain('POSTGRES_SEEDS');
    expect(serverDiffers.filter((key) => !(LOCAL_SERVER_KEYS as readonly string[]).includes(key))).toEqual([]);
    expect(serverEnv.NUM_HISTORY_SHARDS).toBe('512');
    // Likewise each worker: the image's ENV, then compose's environment.
    const workerExpected = { ...dockerfileWorkerEnv(), ...serviceEnvironment(compose, 'worker', vars) };
    expect(workerExpected.NODE_ENV).toBe('production');
    for (const worker of cluster.workers) {
      const workerDiffers = differingKeys(workerExpected, environOf(worker.child?.pid));
      expect(workerDiffers).toContain('TEMPORAL_ADDRESS');
      expect(workerDiffers.filter((key) => !(LOCAL_WORKER_KEYS as readonly string[]).includes(key))).toEqual([]);
    }

    // What the server says of itself: PostgreSQL for both stores, and the shard count compose fixes.
    const described = JSON.parse(
      (await sh(await ensureTemporalCli(), ['operator', 'cluster', 'describe', '--address', cluster.address, '-o', 'json'])).out,
    ) as Record<string, unknown>;
    expect(described.historyShardCount).toBe(512);
    expect(String(described.persistenceStore)).toContain('postgres12');
    expect(String(described.visibilityStore)).toContain('postgres12');
    expect(described.serverVersion).toBe(TEMPORAL_SERVER_VERSION);
  });

  it('serves a run through the compiled CLI, a pipeline, a schedule, and the UI', async () => {
    const cli = join(cluster.dir, 'image', 'dist', 'src', 'cli', 'main.js');
    const env = { TEMPORAL_ADDRESS: cluster.address };
    const quick = addJob(
      sim,
      [
        ['Pending', 0.5],
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: 'cluster quick' },
    );
    const run = await sh(process.execPath, [cli, 'run', quick, '--poll', '1s', '--wait'], env);
    expect(run.out).toContain(`Completed: job ${quick}`);
    expect(run.code).toBe(0);

    const collect = addJob(
      sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: 'cluster collect' },
    );
    const evaluate = addJob(
      sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { JobName: 'cluster evaluate', exception: 'evaluation failed' },
    );
    const pipelineFile = join(cluster.dir, 'pipeline.yaml');
    writeFileSync(
      pipelineFile,
      `name: cluster scan\npollInterval: 1s\nstages:\n  - name: collect\n    jobs: [${collect}]\n  - name: evaluate\n    continueOnFailure: true\n    jobs: [${evaluate}]\n`,
    );
    const pipeline = await sh(process.execPath, [cli, 'pipeline', 'run', pipelineFile, '--wait', '--json'], env);
    const report = JSON.parse(pipeline.out.slice(pipeline.out.indexOf('{'))) as {
      status: string;
      stages: { name: string; jobs: { status?: string }[] }[];
    };
    expect(report.status).toBe('CompletedWithFailures');
    expect(report.stages.map((s) => s.name)).toEqual(['collect', 'evaluate']);
    expect(report.stages[0]!.jobs[0]!.status).toBe('Completed');
    expect(JSON.stringify(report.stages[1]!.jobs[0])).toContain('CcsJobFaulted');

    const name = `cluster-${randomUUID().slice(0, 8)}`;
    const scheduled = addJob(
      sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: 'cluster scheduled' },
    );
    expect(
      (await sh(process.execPath, [cli, 'schedule', 'create', name, '--cron', '0 3 * * *', '--job', scheduled, '--poll', '1s'], env)).code,
    ).toBe(0);
    expect((await sh(process.execPath, [cli, 'schedule', 'trigger', name], env)).code).toBe(0);
    const handle = await eventually(
      async () => {
        for await (const w of client.workflow.list({ query: `TemporalScheduledById = '${name}'` }))
          return client.workflow.getHandle(w.workflowId, w.runId);
        return undefined;
      },
      60_000,
      'the scheduled run',
    );
    expect(((await handle.result()) as RunCcsJobResult).status).toBe('Completed');
    expect(sim.state.runsOf(scheduled)).toHaveLength(1);
    expect((await sh(process.execPath, [cli, 'schedule', 'delete', name], env)).code).toBe(0);

    // Visibility on PostgreSQL answers the orchestrator's own search attributes.
    const byJob = await eventually(
      async () =>
        (await client.workflow.count(`${SearchAttribute.jobId.name} = '${quick}' AND ${SearchAttribute.jobStatus.name} = 'Completed'`))
          .count || undefined,
      30_000,
      'visibility',
    );
    expect(byJob).toBe(1);

    expect(cluster.uiUrl).toBeDefined();
    const ui = await fetch(
      `${cluster.uiUrl}/api/v1/namespaces/${cluster.namespace}/workflows?query=${encodeURIComponent(`WorkflowType = 'runCcsJob'`)}`,
    );
    expect(ui.status).toBe(200);
    expect(((await ui.json()) as { executions?: unknown[] }).executions?.length).toBeGreaterThan(0);
  }, 300_000);

  it('a versioned deploy: the new build beside the old, made current; pinned runs finish on the old build, new ones start on the new', async () => {
    const cli = await ensureTemporalCli();
    const temporalCli = (args: string[]): Promise<{ code: number; out: string }> =>
      sh(cli, [...args, '--address', cluster.address, '--namespace', cluster.namespace]);
    const oldBuild = cluster.buildId;
    // Two build ids from the same compiled code: what differs between builds is not what this tests.
    const newBuild = `${oldBuild}.next`;
    const version = ['--deployment-name', cluster.deploymentName];
    // The cluster's first workers made their version current themselves (the deployment had none).
    const before = await temporalCli(['worker', 'deployment', 'describe', '--name', cluster.deploymentName, '-o', 'json']);
    expect(before.code, before.out).toBe(0);
    const routing = (JSON.parse(before.out) as { routingConfig?: unknown }).routingConfig;
    console.log(`versioned deploy: before, the deployment routes to ${JSON.stringify(routing)}`);
    expect(JSON.stringify(routing)).toContain(oldBuild);
    const oldWorkers = [...cluster.workers];
    let pinnedOld: Tracked[] = [];
    let later: Tracked[] = [];
    let switchedAt = 0;
    let runningAtSwitch = 0;
    let switchAsked = 0;
    // 1. The new build beside the old: it polls, but serves nothing until it is current. Started before the
    // runs, so that the switch lands while most of them are going (they last 6–24 s; starting 3 workers
    // on this machine can take longer).
    await Promise.all(oldWorkers.map(() => cluster.addWorker({ TEMPORAL_WORKER_BUILD_ID: newBuild })));
    // Its runs last 12–48 s (twice the others'): the switch must land while most are going, and only
    // after every one of them was pinned, which on this machine can take half a minute.
    const summary = await scenario(
      'versioned deploy (new build beside the old, made current)',
      31,
      async (going, tracked, rnd) => {
        pinnedOld = [...tracked];
        // The switch comes once the old build has done every run's first workflow task (each is then
        // pinned to it), not after a guessed pause: on a loaded machine a backlog can outlast any pause.
        // Only the runs not yet seen pinned are described again: 300 describes a round took long enough
        // on this machine that most runs had ended before the switch.
        let unpinned = [...pinnedOld];
        await eventually(
          async () => {
            const described = await Promise.all(unpinned.map(async (t) => ({ t, d: await t.handle.describe() })));
            unpinned = described
              .filter(({ d }) => String(d.raw.workflowExecutionInfo?.versioningInfo?.behavior) !== PINNED)
              .map(({ t }) => t);
            return unpinned.length === 0 || undefined;
          },
          180_000,
          'every run started before the switch pinned to the old build',
        );
        going();
        // 2. Made current (the command docs/operations.md gives); new runs go to it from now on.
        // Refused ("missing active task queues") until the new workers' polls have registered both of the
        // queue's types with their version, a second or two after they are ready; on this loaded machine
        // a call may also be cut (RST_STREAM): repeated, as an operator would, until accepted.
        const refusals: string[] = [];
        await eventually(
          async () => {
            switchAsked ||= Date.now();
            const set = await temporalCli(['worker', 'deployment', 'set-current-version', ...version, '--build-id', newBuild, '--yes']);
            if (set.code !== 0) refusals.push(/msg="([^"]*)"/.exec(set.out)?.[1]?.slice(0, 120) ?? set.out.slice(0, 120));
            return set.code === 0 || undefined;
          },
          60_000,
          'set-current-version accepted',
        );
        console.log(`versioned deploy: set-current-version accepted after ${refusals.length} refusal(s): ${JSON.stringify(refusals)}`);
        switchedAt = Date.now();
        runningAtSwitch = (await Promise.all(pinnedOld.map((t) => t.handle.describe()))).filter((d) => d.status.name === 'RUNNING').length;
        console.log(`versioned deploy: ${newBuild} current; ${runningAtSwitch} runs pinned to ${oldBuild} still open`);
        // 3. Runs started after the switch.
        later = await startAll(
          client,
          cluster.taskQueue,
          planJobs(sim, Math.max(10, Math.round(WORKFLOWS / 5)), rnd, SCALE),
          rnd,
          undefined,
          20,
        );
        // 4. The old build serves until its pinned runs are done, then is retired (SIGTERM, as a deploy stops it).
        await settle(pinnedOld, SETTLE_MS);
        const drainage = await temporalCli(['worker', 'deployment', 'describe-version', ...version, '--build-id', oldBuild, '-o', 'json']);
        console.log(`versioned deploy: the old version once its runs closed: ${drainage.out.replace(/\s+/g, ' ').slice(0, 400)}`);
        for (const worker of oldWorkers) await worker.stop('SIGTERM', 120_000);
        cluster.workers.splice(0, cluster.workers.length, ...cluster.workers.filter((w) => !oldWorkers.includes(w)));
        return later;
      },
      SCALE * 2,
    );
    expect(invariants(summary)).toEqual(ZERO_INVARIANTS);
    // A run is pinned to the build that completes its first workflow task: every run started before the
    // switch whose first task was done by then is pinned to the old build and ran every task there,
    // most finishing after the switch; one started before it whose first task came after (a backlog
    // on this loaded machine) is the new build's, and every run started after the switch is too.
    const olds = await Promise.all(pinnedOld.map(buildsOf));
    const news = await Promise.all(later.map(buildsOf));
    const onOld = olds.filter((b) => b.pinnedTo === oldBuild);
    const firstTaskAfterSwitch = olds.filter((b) => b.pinnedTo === newBuild);
    const finishedAfterSwitch = onOld.filter((b) => (b.closedAt ?? 0) > switchedAt).length;
    console.log(
      `versioned deploy: of ${olds.length} runs started before the switch, ${onOld.length} pinned to ${oldBuild} finished on it (${finishedAfterSwitch} after ${newBuild} became current), ` +
        `${firstTaskAfterSwitch.length} had their first task after the switch and ran on ${newBuild}; ${news.length} runs started after the switch ran on ${newBuild}`,
    );
    for (const b of [...olds, ...news])
      expect({ behavior: b.behavior, ranOn: [...b.ranOn] }).toEqual({ behavior: PINNED, ranOn: [b.pinnedTo] });
    for (const b of news) expect(b.pinnedTo).toBe(newBuild);
    expect(onOld.length + firstTaskAfterSwitch.length).toBe(olds.length);
    // Not before the first attempt: an attempt the CLI reports as timed out may still have been applied.
    // Clock tolerance: event times are the server's, on this machine.
    for (const b of firstTaskAfterSwitch) expect(b.firstTaskAt).toBeGreaterThanOrEqual(switchAsked - 1000);
    expect(onOld.length).toBeGreaterThan(olds.length / 2);
    // The switch came while old runs were open (measured once the CLI confirmed it, which on this loaded
    // machine can be 20 s after an earlier, timed-out attempt took effect): those finished on the old build.
    expect(runningAtSwitch).toBeGreaterThan(pinnedOld.length / 10);
    expect(finishedAfterSwitch).toBeGreaterThan(0);
    expect(cluster.workers).toHaveLength(oldWorkers.length);
  }, 1_200_000);

  it('one worker killed with SIGKILL', async () => {
    const summary = await scenario('one worker SIGKILLed', 37, async (going) => {
      await sleep(3000);
      going();
      await cluster.workers[1]!.stop('SIGKILL');
      await sleep(5000);
      await cluster.workers[1]!.start();
    });
    expect(invariants(summary)).toEqual(ZERO_INVARIANTS);
  }, 900_000);

  it('the Temporal server process restarted', async () => {
    const summary = await scenario('Temporal server restarted', 41, async (going) => {
      await sleep(3000);
      going();
      await cluster.temporal.stop('SIGTERM', 60_000);
      await sleep(3000);
      await cluster.temporal.start();
    });
    expect(invariants(summary)).toEqual(ZERO_INVARIANTS);
  }, 900_000);

  it('npm run cluster prints TEMPORAL_ADDRESS once it serves, and Ctrl-C stops every process it started', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/dev/cluster/main.ts'), '--workers', '1', '--no-ui'], {
      cwd: ROOT,
      env: { ...process.env, CCS_SERVERS_FILE: '', CCS_BASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const address = await eventually(
        () => /^TEMPORAL_ADDRESS=(\S+)$/m.exec(output)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(output)) : undefined),
        180_000,
        'the TEMPORAL_ADDRESS line',
      );
      const dir = /^Logs: (\S+)$/m.exec(output)?.[1];
      expect(dir).toBeDefined();
      // It is a second cluster beside the suite's: its own ports, its own simulator with the default jobs.
      expect(address).not.toBe(cluster.address);
      const cli = join(cluster.dir, 'image', 'dist', 'src', 'cli', 'main.js');
      const run = await sh(process.execPath, [cli, 'run', DEFAULT_JOBS[0]!.JobID, '--wait'], { TEMPORAL_ADDRESS: address });
      expect(run.out).toContain(`Completed: job ${DEFAULT_JOBS[0]!.JobID}`);
      const postgresPort = Number(/PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      expect(await portOpen(postgresPort)).toBe(true);
      expect(await processesUnder(dir!)).toBeGreaterThanOrEqual(2); // the server and the worker (PostgreSQL's data is in the temp dir)
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('stopping...');
      expect(await processesUnder(dir!)).toBe(0);
      expect(await portOpen(postgresPort)).toBe(false);
      expect(await portOpen(Number(address.split(':')[1]))).toBe(false);
      expect(existsSync(dir!)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 300_000);

  it('PostgreSQL restarted', async () => {
    const summary = await scenario('PostgreSQL restarted', 43, async (going) => {
      await sleep(3000);
      going();
      await cluster.postgres.stop();
      await sleep(5000);
      await cluster.postgres.start();
    });
    expect(invariants(summary)).toEqual(ZERO_INVARIANTS);
  }, 900_000);
});
