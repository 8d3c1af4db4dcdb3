/**
 * `npm run bench [-- --quick]`: the performance benchmark. This process is the load generator and
 * hosts the CCS simulator; the Temporal dev server, our worker and the baselines run as their own
 * processes so that their CPU and memory are measured apart. Writes bench/results/<date>.json and
 * .md (with --quick: a temporary directory, unless --out is given). See docs/performance.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig, type WorkerTuning } from '../src/config';
import { WorkflowName, type RunCcsJobResult } from '../src/contract';
import { freePort, startDevServer, type DevServer } from '../src/dev/dev-server';
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { startSimulator, type SimRequestEvent, type Simulator } from '../src/sim/server';
import type { SimJob } from '../src/sim/state';
import { CpuMeter, Histogram, memoryMiB, spread, type Spread } from './stats';
import { renderMarkdown } from './report';

const ROOT = join(__dirname, '..');
const USERS = { ours: 'bench-ours', timer: 'bench-timer', vendor: 'bench-vendor' } as const;
const PASSWORD = 'bench-password';
const QUEUE = { ours: 'bench-ours', timer: 'bench-timer' } as const;

export interface BenchSettings {
  quick: boolean;
  repetitions: number;
  throughputRuns: number;
  lagRuns: number;
  lagIntervalMs: number;
  lagDurationS: [number, number];
  baselineRuns: number;
  baselineDurationS: number;
  baselineIntervalMs: number;
  historyPolls: number[];
  concurrencyLevels: number[];
  concurrencyIntervalMs: number;
  windows: number;
  windowMs: number;
  startConcurrency: number;
  tokenTtlSeconds: number;
}

function settingsFor(quick: boolean, levels: number[] | undefined): BenchSettings {
  return quick
    ? {
        quick, repetitions: 1, throughputRuns: 30, lagRuns: 10, lagIntervalMs: 2_000, lagDurationS: [2, 6], baselineRuns: 8, baselineDurationS: 8,
        baselineIntervalMs: 2_000, historyPolls: [1, 10], concurrencyLevels: levels ?? [100], concurrencyIntervalMs: 5_000, windows: 1, windowMs: 10_000,
        startConcurrency: 50, tokenTtlSeconds: 30,
      }
    : {
        quick, repetitions: 3, throughputRuns: 500, lagRuns: 200, lagIntervalMs: 5_000, lagDurationS: [5, 35], baselineRuns: 100, baselineDurationS: 40,
        baselineIntervalMs: 5_000, historyPolls: [1, 10, 100, 1000], concurrencyLevels: levels ?? [1000, 5000, 10000], concurrencyIntervalMs: 30_000,
        windows: 3, windowMs: 60_000, startConcurrency: 100, tokenTtlSeconds: 600,
      };
}

/** Counts of simulator requests by user and endpoint, and (when asked) the times of status reads by job. */
class RequestLog {
  counts = new Map<string, Map<string, number>>();
  reads: Map<string, number[]> | undefined;

  onRequest = (e: SimRequestEvent): void => {
    const user = e.user ?? 'unknown';
    const row = this.counts.get(user) ?? new Map<string, number>();
    row.set(e.endpoint, (row.get(e.endpoint) ?? 0) + 1);
    this.counts.set(user, row);
    if (this.reads && e.endpoint === 'jobruns' && e.status === 200 && e.id) {
      const list = this.reads.get(e.id);
      if (list) list.push(e.at);
      else this.reads.set(e.id, [e.at]);
    }
  };

  snapshot(user: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(user) ?? []);
  }
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

interface Processes {
  temporal: DevServer;
  ours: ChildProcess;
  timer: ChildProcess;
}

let stopping = false;
let announceDeath: (err: Error) => void = () => undefined;
/** Rejects when a worker process dies before the benchmark stops it (a hang otherwise). */
const workerDied = new Promise<never>((_, reject) => (announceDeath = reject));
workerDied.catch(() => undefined);

/**
 * Starts a TypeScript entry point, its output kept in `logFile`; resolves when `ready` appears in
 * its output or `ready()` says so.
 */
function spawnTs(script: string, env: Record<string, string>, ready: string | (() => Promise<boolean>), logFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a signal meant for the terminal's job must not stop a measured worker.
    detached: true,
  });
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  child.once('exit', (code, signal) => {
    if (stopping) return;
    const err = new Error(`${script} exited (${code ?? signal}) during the benchmark: ${output.slice(-3000)}`);
    console.error(err.message);
    announceDeath(err);
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (!settled) fn();
      settled = true;
    };
    const onData = (c: Buffer): void => {
      appendFileSync(logFile, c);
      output = (output + c.toString()).slice(-20_000);
      if (typeof ready === 'string' && output.includes(ready)) settle(() => resolve(child));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => settle(() => reject(new Error(`${script} exited with ${code}: ${output.slice(-2000)}`))));
    const deadline = Date.now() + 120_000;
    const check = async (): Promise<void> => {
      if (settled) return;
      if (typeof ready !== 'string' && (await ready())) return settle(() => resolve(child));
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        return settle(() => reject(new Error(`${script} was not ready within 120 s: ${output.slice(-2000)}`)));
      }
      setTimeout(() => void check(), 500);
    };
    void check();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

class Bench {
  private jobsMade = 0;
  /** Our history runs still going in the background (they share the task queue with the concurrency runs). */
  private backgroundOurs = 0;

  constructor(
    readonly s: BenchSettings,
    readonly sim: Simulator,
    readonly log: RequestLog,
    readonly client: Client,
    readonly procs: Processes,
    readonly say: (line: string) => void,
  ) {}

  job(steps: SimJob['steps']): string {
    const job = this.sim.state.addJob({ JobID: randomUUID(), JobName: `bench ${++this.jobsMade}`, steps });
    return job.JobID;
  }

  startOurs(jobId: string, intervalMs: number): Promise<WorkflowHandle> {
    return this.client.workflow.start(WorkflowName.runCcsJob, {
      taskQueue: QUEUE.ours,
      workflowId: `bench-${jobId}`,
      args: [{ jobId, pollInterval: intervalMs, maxPollInterval: intervalMs }],
    });
  }

  startTimerLoop(jobId: string, intervalMs: number): Promise<WorkflowHandle> {
    return this.client.workflow.start('timerLoopRun', { taskQueue: QUEUE.timer, workflowId: `bench-timer-${jobId}`, args: [{ jobId, pollIntervalMs: intervalMs }] });
  }

  /** When the simulator says the job's (only) run ended. */
  endedAt(jobId: string): number {
    const run = this.sim.state.runsOf(jobId)[0];
    const view = run ? this.sim.state.view(run) : undefined;
    if (!view?.endedAt) throw new Error(`run of job ${jobId} has not ended`);
    return view.endedAt;
  }

  async closeTime(handle: WorkflowHandle): Promise<number> {
    const d = await handle.describe();
    if (!d.closeTime) throw new Error(`${handle.workflowId} is not closed`);
    return d.closeTime.getTime();
  }

  /** Short runs (already Completed when executed) from start to close, all at once. */
  async throughput(runs: number): Promise<{ runsPerSecond: number; latencyMs: ReturnType<Histogram['summary']> }> {
    const jobs = Array.from({ length: runs }, () => this.job([['Completed', 0]]));
    const latency = new Histogram();
    const t0 = performance.now();
    await pool(jobs, this.s.startConcurrency, async (jobId) => {
      const started = performance.now();
      const handle = await this.startOurs(jobId, 1_000);
      await handle.result();
      latency.record(performance.now() - started);
    });
    const seconds = (performance.now() - t0) / 1000;
    return { runsPerSecond: round(runs / seconds, 1), latencyMs: latency.summary() };
  }

  /** Time from the simulator's terminal transition to the workflow's close, at a fixed poll interval. */
  async detectionLag(runs: number): Promise<ReturnType<Histogram['summary']>> {
    const [lo, hi] = this.s.lagDurationS;
    const jobs = Array.from({ length: runs }, () => this.job([['Executing', lo + Math.random() * (hi - lo)], ['Completed', 0]]));
    const lag = new Histogram();
    await pool(jobs, this.s.startConcurrency, async (jobId) => {
      const handle = await this.startOurs(jobId, this.s.lagIntervalMs);
      await handle.result();
      lag.record((await this.closeTime(handle)) - this.endedAt(jobId));
    });
    return lag.summary();
  }

  /** One approach on the baseline workload: requests, polls, history, CPU, detection lag. */
  async approach(kind: 'ours' | 'timer' | 'vendor'): Promise<ApproachResult> {
    const { baselineRuns: runs, baselineDurationS: duration, baselineIntervalMs: interval } = this.s;
    const jobs = Array.from({ length: runs }, () => this.job([['Executing', duration], ['Completed', 0]]));
    const user = USERS[kind];
    const before = this.log.snapshot(user);
    let vendor: ChildProcess | undefined;
    const workerPid = kind === 'vendor' ? undefined : this.procs[kind].pid!;
    const serverCpu = new CpuMeter(this.procs.temporal.process.pid!);
    const harnessCpu = new CpuMeter(process.pid);
    const workerCpu = workerPid ? new CpuMeter(workerPid) : undefined;
    let polls = 0;
    const events: number[] = [];
    const lag = new Histogram();
    let vendorCpu: { seconds: number } | undefined;
    if (kind === 'vendor') {
      const out = await new Promise<string>((resolve, reject) => {
        vendor = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/baselines/vendor-script.ts')], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', BENCH_VENDOR: JSON.stringify({ baseUrl: this.sim.baseUrl, username: user, password: PASSWORD, jobIds: jobs, intervalMs: interval }) },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const meter = new CpuMeter(vendor.pid!);
        let text = '';
        vendor.stdout!.on('data', (c: Buffer) => {
          text += c.toString();
          // Read its CPU while it still exists: once it exits /proc forgets it.
          if (text.includes('\n')) vendorCpu = meter.read();
        });
        vendor.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`vendor script exited with ${code}`))));
      });
      const result = JSON.parse(out.trim()) as { runs: { jobId: string; polls: number; detectedAt: number }[] };
      for (const r of result.runs) {
        polls += r.polls;
        lag.record(r.detectedAt - this.endedAt(r.jobId));
      }
    } else {
      const handles = await pool(jobs, this.s.startConcurrency, (jobId) => (kind === 'ours' ? this.startOurs(jobId, interval) : this.startTimerLoop(jobId, interval)));
      await pool(handles, runs, async (handle, i) => {
        const result = (await handle.result()) as RunCcsJobResult | { polls: number };
        polls += result.polls;
        lag.record((await this.closeTime(handle)) - this.endedAt(jobs[i]!));
      });
      for (const handle of handles) events.push((await handle.fetchHistory()).events?.length ?? 0);
    }
    const requests = diff(this.log.snapshot(user), before);
    const cpu = kind === 'vendor' ? (vendorCpu?.seconds ?? NaN) : workerCpu!.read().seconds;
    const server = kind === 'vendor' ? 0 : serverCpu.read().seconds;
    return {
      runs,
      polls,
      requestsPerRun: round(total(requests) / runs),
      tokenRequestsPerRun: round((requests.token ?? 0) / runs),
      requests,
      historyEventsPerRun: events.length ? round(events.reduce((a, b) => a + b, 0) / events.length, 1) : null,
      clientCpuMsPerPoll: round((1000 * cpu) / polls, 3),
      serverCpuMsPerPoll: round((1000 * server) / polls, 3),
      simulatorCpuMsPerPoll: round((1000 * harnessCpu.read().seconds) / polls, 3),
      detectionLagMs: lag.summary(),
    };
  }

  /** History length of runs with about `polls` polls at a 1 s interval, ours and the timer loop. */
  async history(pollCounts: number[]): Promise<HistoryRow[]> {
    const rows = await Promise.all(
      pollCounts.flatMap((n) =>
        (['ours', 'timer'] as const).map(async (kind): Promise<HistoryRow> => {
          const jobId = this.job([['Executing', n], ['Completed', 0]]);
          if (kind === 'ours') this.backgroundOurs++;
          const handle = kind === 'ours' ? await this.startOurs(jobId, 1_000) : await this.startTimerLoop(jobId, 1_000);
          const result = (await handle.result().finally(() => kind === 'ours' && this.backgroundOurs--)) as { polls: number };
          const history = await handle.fetchHistory();
          return { approach: kind, targetPolls: n, polls: result.polls, historyEvents: history.events?.length ?? 0 };
        }),
      ),
    );
    return rows;
  }

  /** `level` runs tracked at once: start them, watch steady-state polling, then end them all. */
  async concurrency(level: number): Promise<ConcurrencyResult> {
    const interval = this.s.concurrencyIntervalMs;
    const jobs = Array.from({ length: level }, () => this.job([['Executing', 10 * 24 * 3600]]));
    const jobSet = new Set(jobs);
    const workerPid = this.procs.ours.pid!;
    this.say(`  starting ${level} runs (${interval / 1000} s poll interval)...`);
    const t0 = performance.now();
    await pool(jobs, this.s.startConcurrency, (jobId) => this.startOurs(jobId, interval));
    const startSeconds = (performance.now() - t0) / 1000;
    let lastSaid = performance.now();
    for (;;) {
      const executed = jobs.filter((j) => this.sim.state.runsOf(j).length > 0).length;
      if (executed === level) break;
      if (performance.now() - lastSaid > 30_000) {
        this.say(`  ${executed}/${level} executed`);
        lastSaid = performance.now();
      }
      await sleep(1_000);
    }
    const allExecutedSeconds = (performance.now() - t0) / 1000;
    this.say(`  all ${level} executed after ${round(allExecutedSeconds, 1)} s; waiting one interval for steady polling`);
    this.log.reads = new Map();
    await sleep(interval + 2_000);

    const windows: WindowResult[] = [];
    for (let w = 0; w < this.s.windows; w++) {
      const from = Date.now();
      const worker = new CpuMeter(workerPid);
      const server = new CpuMeter(this.procs.temporal.process.pid!);
      const harness = new CpuMeter(process.pid);
      let rssMax = 0;
      while (Date.now() - from < this.s.windowMs) {
        await sleep(1_000);
        rssMax = Math.max(rssMax, memoryMiB(workerPid).rss);
      }
      const to = Date.now();
      const lateness = new Histogram();
      let reads = 0;
      for (const [jobId, times] of this.log.reads) {
        if (!jobSet.has(jobId)) continue;
        for (let i = 0; i < times.length; i++) {
          const t = times[i]!;
          if (t < from || t >= to) continue;
          reads++;
          if (i > 0) lateness.record(t - times[i - 1]! - interval);
        }
      }
      const windowResult: WindowResult = {
        seconds: round((to - from) / 1000, 1),
        readsPerSecond: round(reads / ((to - from) / 1000), 1),
        expectedReadsPerSecond: round(level / (interval / 1000), 1),
        latenessMs: lateness.summary(),
        workerCpuPercent: worker.read().corePercent,
        serverCpuPercent: server.read().corePercent,
        simulatorCpuPercent: harness.read().corePercent,
        workerRssMiB: rssMax,
      };
      windows.push(windowResult);
      this.say(`  window ${w + 1}: ${windowResult.readsPerSecond} reads/s, lateness p99 ${windowResult.latenessMs.p99} ms, worker ${windowResult.workerCpuPercent}% CPU ${rssMax} MiB`);
    }
    this.log.reads = undefined;

    // End every run now; the workflows notice at their next poll.
    const endAt = Date.now();
    for (const jobId of jobs) {
      const run = this.sim.state.runsOf(jobId)[0]!;
      run.plan = { ...run.plan, steps: [['Executing', (endAt - run.startedAt) / 1000], ['Completed', 0]] };
    }
    const query = `WorkflowType = '${WorkflowName.runCcsJob}' AND TaskQueue = '${QUEUE.ours}' AND ExecutionStatus = 'Running'`;
    while ((await this.client.workflow.count(query)).count > this.backgroundOurs) await sleep(2_000);
    const drainSeconds = (Date.now() - endAt) / 1000;
    return {
      level,
      intervalSeconds: interval / 1000,
      startRatePerSecond: round(level / startSeconds, 1),
      allExecutedAfterSeconds: round(allExecutedSeconds, 1),
      windows,
      latenessP99Ms: spread(windows.map((w) => w.latenessMs.p99).filter((x) => !Number.isNaN(x)), 0),
      workerCpuPercent: spread(windows.map((w) => w.workerCpuPercent), 1),
      readsPerSecond: spread(windows.map((w) => w.readsPerSecond), 1),
      workerPeakRssMiB: memoryMiB(workerPid).peak,
      drainSeconds: round(drainSeconds, 1),
    };
  }
}

export interface ApproachResult {
  runs: number;
  polls: number;
  requestsPerRun: number;
  tokenRequestsPerRun: number;
  requests: Record<string, number>;
  historyEventsPerRun: number | null;
  clientCpuMsPerPoll: number;
  serverCpuMsPerPoll: number;
  simulatorCpuMsPerPoll: number;
  detectionLagMs: ReturnType<Histogram['summary']>;
}

export interface HistoryRow {
  approach: 'ours' | 'timer';
  targetPolls: number;
  polls: number;
  historyEvents: number;
}

export interface WindowResult {
  seconds: number;
  readsPerSecond: number;
  expectedReadsPerSecond: number;
  latenessMs: ReturnType<Histogram['summary']>;
  workerCpuPercent: number;
  serverCpuPercent: number;
  simulatorCpuPercent: number;
  workerRssMiB: number;
}

export interface ConcurrencyResult {
  level: number;
  intervalSeconds: number;
  startRatePerSecond: number;
  allExecutedAfterSeconds: number;
  windows: WindowResult[];
  latenessP99Ms: Spread;
  workerCpuPercent: Spread;
  readsPerSecond: Spread;
  workerPeakRssMiB: number;
  drainSeconds: number;
}

export interface BenchResults {
  date: string;
  settings: BenchSettings;
  machine: Record<string, unknown>;
  workerTuning: WorkerTuning;
  durationSeconds: number;
  throughput: { repetitions: { runsPerSecond: number; latencyMs: ReturnType<Histogram['summary']> }[]; runsPerSecond: Spread };
  detectionLag: { intervalMs: number; repetitions: ReturnType<Histogram['summary']>[]; p50Ms: Spread; p99Ms: Spread };
  baselines: Record<'ours' | 'timer' | 'vendor', ApproachResult[]>;
  history: HistoryRow[];
  concurrency: ConcurrencyResult[];
  tokens: { requests: number; workerHours: number; tokenLifetimeSeconds: number; lifetimesElapsed: number; perWorkerHour: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      levels: { type: 'string' },
      diagnose: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const levels = values.levels?.split(',').map(Number);
  if (levels?.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--levels must be whole numbers like 1000,5000; got ${values.levels}`);
  const s = settingsFor(quick, levels);
  const say = (line: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const began = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'ccs-bench-'));

  say(`${quick ? 'quick' : 'full'} benchmark; starting the Temporal dev server, the simulator and the workers`);
  const cli = await ensureTemporalCli(say);
  const temporal = await startDevServer({ log: say });
  const log = new RequestLog();
  const users = Object.fromEntries(Object.values(USERS).map((u) => [u, { password: PASSWORD, role: 'operator' as const }]));
  const sim = await startSimulator({ port: 0, users, tokenTtlSeconds: s.tokenTtlSeconds, refreshTtlSeconds: s.tokenTtlSeconds * 1.5, onRequest: log.onRequest });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, sim.caPem ?? '');
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, bundle.code);

  const tuningEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('WORKER_') && e[1] !== undefined));
  const baseEnv = { TEMPORAL_ADDRESS: temporal.address, CCS_BASE_URL: sim.baseUrl, CCS_PASSWORD: PASSWORD, CCS_CA_FILE: caFile, LOG_LEVEL: 'WARN', ...tuningEnv };
  const healthPort = await freePort();
  const workerEnv = { ...baseEnv, TEMPORAL_TASK_QUEUE: QUEUE.ours, CCS_USERNAME: USERS.ours, WORKFLOW_BUNDLE_PATH: bundlePath, HEALTH_BIND_ADDRESS: `127.0.0.1:${healthPort}` };
  const workerTuning = loadConfig(workerEnv).tuning;
  const ours = await spawnTs('src/worker.ts', workerEnv, () => fetch(`http://127.0.0.1:${healthPort}/readyz`).then((res) => res.ok, () => false), join(dir, 'worker.log'));
  const timer = await spawnTs(
    'bench/baselines/timer-loop-worker.ts',
    { ...baseEnv, TEMPORAL_TASK_QUEUE: QUEUE.timer, CCS_USERNAME: USERS.timer },
    'timer-loop worker started',
    join(dir, 'timer-loop-worker.log'),
  );
  say(`worker logs in ${dir}`);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const bench = new Bench(s, sim, log, client, { temporal, ours, timer }, say);
  const oursStartedAt = Date.now();

  try {
    await Promise.race([workerDied, measure()]);
  } finally {
    stopping = true;
    await connection.close();
    await stopChild(ours);
    await stopChild(timer);
    await sim.close();
    await temporal.stop();
  }

  async function measure(): Promise<void> {
    if (values.diagnose) {
      // One phase once, printed, nothing written: for looking into a single measurement.
      const phase = values.diagnose;
      if (phase === 'throughput') say(JSON.stringify(await bench.throughput(s.throughputRuns)));
      else if (phase === 'lag') say(JSON.stringify(await bench.detectionLag(s.lagRuns)));
      else if (phase === 'ours' || phase === 'timer' || phase === 'vendor') say(JSON.stringify(await bench.approach(phase)));
      else if (phase === 'concurrency') say(JSON.stringify(await bench.concurrency(s.concurrencyLevels[0]!)));
      else throw new Error('--diagnose takes throughput, lag, ours, timer, vendor or concurrency');
      return;
    }
    say('warm-up');
    await bench.throughput(quick ? 10 : 50);

    const throughputReps = [];
    for (let r = 0; r < s.repetitions; r++) {
      throughputReps.push(await bench.throughput(s.throughputRuns));
      say(`throughput ${r + 1}/${s.repetitions}: ${throughputReps.at(-1)!.runsPerSecond} runs/s`);
    }

    const lagReps = [];
    for (let r = 0; r < s.repetitions; r++) {
      lagReps.push(await bench.detectionLag(s.lagRuns));
      say(`detection lag ${r + 1}/${s.repetitions}: p50 ${lagReps.at(-1)!.p50} ms, p99 ${lagReps.at(-1)!.p99} ms`);
    }

    const baselines: BenchResults['baselines'] = { ours: [], timer: [], vendor: [] };
    for (let r = 0; r < s.repetitions; r++) {
      for (const kind of ['ours', 'timer', 'vendor'] as const) {
        const result = await bench.approach(kind);
        baselines[kind].push(result);
        say(`baseline ${kind} ${r + 1}/${s.repetitions}: ${result.requestsPerRun} requests/run, ${result.historyEventsPerRun ?? '-'} events/run, ${result.clientCpuMsPerPoll} ms CPU/poll`);
      }
    }

    // The long history runs (up to 1,000 polls at 1 s) go on while the concurrency levels are measured.
    say(`history runs with ${s.historyPolls.join(', ')} polls started in the background`);
    const historyPromise = bench.history(s.historyPolls);
    const concurrency: ConcurrencyResult[] = [];
    for (const level of s.concurrencyLevels) {
      say(`concurrency ${level}`);
      concurrency.push(await bench.concurrency(level));
    }
    say('waiting for the history runs');
    const history = await historyPromise;

    const workerHours = (Date.now() - oursStartedAt) / 3_600_000;
    const tokenRequests = log.snapshot(USERS.ours).token ?? 0;
    const results: BenchResults = {
      date: new Date().toISOString(),
      settings: s,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: round(os.totalmem() / 2 ** 30, 1),
        platform: `${os.platform()} ${os.release()}`,
        node: process.version,
        temporalCli: cli,
        layout: 'dev server (SQLite in memory), simulator in the load-generator process, worker process(es), all on this machine',
      },
      workerTuning,
      durationSeconds: Math.round((Date.now() - began) / 1000),
      throughput: { repetitions: throughputReps, runsPerSecond: spread(throughputReps.map((r) => r.runsPerSecond), 1) },
      detectionLag: { intervalMs: s.lagIntervalMs, repetitions: lagReps, p50Ms: spread(lagReps.map((r) => r.p50), 0), p99Ms: spread(lagReps.map((r) => r.p99), 0) },
      baselines,
      history,
      concurrency,
      tokens: {
        requests: tokenRequests,
        workerHours: round(workerHours, 3),
        tokenLifetimeSeconds: s.tokenTtlSeconds,
        lifetimesElapsed: round((workerHours * 3600) / s.tokenTtlSeconds, 2),
        perWorkerHour: round(tokenRequests / workerHours, 1),
      },
    };
    const outDir = values.out ?? (quick ? dir : join(ROOT, 'bench/results'));
    mkdirSync(outDir, { recursive: true });
    const stem = quick ? `quick-${results.date.slice(0, 10)}` : results.date.slice(0, 10);
    writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify(results, null, 2)}\n`);
    const markdown = renderMarkdown(results);
    writeFileSync(join(outDir, `${stem}.md`), markdown);
    console.log(`\n${markdown}`);
    say(`results in ${join(outDir, `${stem}.json`)} and .md (${results.durationSeconds} s)`);
  }
}

/** `tsx bench/bench.ts --render <results.json>`: prints the Markdown summary of saved results again. */
function render(file: string): void {
  console.log(renderMarkdown(JSON.parse(readFileSync(file, 'utf8')) as BenchResults));
}

if (require.main === module && process.argv[2] === '--render') {
  render(process.argv[3] ?? '');
} else if (require.main === module) {
  // The Temporal client retries a call on a timer; one that fires after the connection closed at the end must not crash the report.
  process.on('uncaughtException', (err) => {
    if (err.message === 'Channel has been shut down') return;
    console.error(err);
    process.exit(1);
  });
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
