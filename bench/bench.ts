/**
 * `npm run bench [-- --quick] [--cluster]`: the performance benchmark (`-- --scrub`: only the cost of scrubbing a large answer). This process is the load generator and
 * hosts the CCS simulator; the Temporal dev server, our worker and the baselines run as their own
 * processes so that their CPU and memory are measured apart. Writes bench/results/<date>.json and
 * .md (with --quick: a temporary directory, unless --out is given). See docs/performance.md.
 * The phases are in bench/phases, one file each.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../src/hosting/config';
import { freePort, startDevServer } from '../src/dev/dev-server';
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { startSimulator } from '../src/sim/server';
import { measureOnCluster } from './cluster';
import { BenchContext, PASSWORD, USERS, QUEUE } from './context';
import * as phases from './phases';
import { markStopping, ROOT, spawnTs, stopChild, workerDied } from './processes';
import { clusterSection, renderMarkdown } from './report';
import { RequestLog } from './request-log';
import type { BenchResults, ConcurrencyResult } from './results';
import { settingsFor } from './settings';
import { spread } from './stats';
import { round } from './util';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      levels: { type: 'string' },
      diagnose: { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      designs: { type: 'string' },
      cluster: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const levels = values.levels?.split(',').map(Number);
  if (levels?.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--levels must be whole numbers like 1000,5000; got ${values.levels}`);
  const s = settingsFor(quick, levels);
  const say = (line: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const began = Date.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'ccs-bench-'));

  say(`${quick ? 'quick' : 'full'} benchmark; starting the Temporal dev server, the simulator and the workers`);
  const cli = await ensureTemporalCli(say);
  const temporal = await startDevServer({ log: say });
  const log = new RequestLog();
  const users = Object.fromEntries(Object.values(USERS).map((u) => [u, { password: PASSWORD, role: 'operator' as const }]));
  const sim = await startSimulator({
    port: 0,
    users,
    tokenTtlSeconds: s.tokenTtlSeconds,
    refreshTtlSeconds: s.tokenTtlSeconds * 1.5,
    onRequest: log.onRequest,
  });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, sim.caPem ?? '');
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, bundle.code);

  const tuningEnv = Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('WORKER_') && e[1] !== undefined),
  );
  const baseEnv = {
    TEMPORAL_ADDRESS: temporal.address,
    CCS_BASE_URL: sim.baseUrl,
    CCS_PASSWORD: PASSWORD,
    CCS_CA_FILE: caFile,
    LOG_LEVEL: 'WARN',
    ...tuningEnv,
  };
  const healthPort = await freePort();
  // The benchmark's evidence chain stays in its own directory, not in the checkout's ./evidence.
  const workerEnv = {
    ...baseEnv,
    TEMPORAL_TASK_QUEUE: QUEUE.ours,
    CCS_USERNAME: USERS.ours,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    HEALTH_BIND_ADDRESS: `127.0.0.1:${healthPort}`,
    EVIDENCE_DIR: join(dir, 'evidence'),
  };
  const workerTuning = loadConfig(workerEnv).tuning;
  const ours = await spawnTs(
    'src/worker.ts',
    workerEnv,
    () =>
      fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
        (res) => res.ok,
        () => false,
      ),
    join(dir, 'worker.log'),
  );
  const retryHealthPort = await freePort();
  const retry = await spawnTs(
    'src/worker.ts',
    {
      ...workerEnv,
      TEMPORAL_TASK_QUEUE: QUEUE.retry,
      CCS_USERNAME: USERS.retry,
      CCS_WATCH_THRESHOLD: '0',
      HEALTH_BIND_ADDRESS: `127.0.0.1:${retryHealthPort}`,
    },
    () =>
      fetch(`http://127.0.0.1:${retryHealthPort}/readyz`).then(
        (res) => res.ok,
        () => false,
      ),
    join(dir, 'retry-worker.log'),
  );
  const timer = await spawnTs(
    'bench/baselines/timer-loop-worker.ts',
    { ...baseEnv, TEMPORAL_TASK_QUEUE: QUEUE.timer, CCS_USERNAME: USERS.timer },
    'timer-loop worker started',
    join(dir, 'timer-loop-worker.log'),
  );
  say(`worker logs in ${dir}`);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const bench = new BenchContext(s, sim, log, client, { temporal, ours, retry, timer }, say);
  bench.heartbeatTimeout = values['heartbeat-timeout'];
  const designs = (values.designs?.split(',') ?? ['held', 'retry']) as ('held' | 'retry')[];
  if (designs.some((d) => d !== 'held' && d !== 'retry')) throw new Error(`--designs takes held and/or retry; got ${values.designs}`);
  const oursStartedAt = Date.now();

  try {
    await Promise.race([workerDied, measure()]);
  } finally {
    markStopping();
    await connection.close();
    await stopChild(ours);
    await stopChild(retry);
    await stopChild(timer);
    await sim.close();
    await temporal.stop();
  }

  async function measure(): Promise<void> {
    if (values.diagnose) {
      // One phase once, printed, nothing written: for looking into a single measurement.
      const phase = values.diagnose;
      if (phase === 'throughput') say(JSON.stringify(await phases.throughput(bench, s.throughputRuns)));
      else if (phase === 'lag') say(JSON.stringify(await phases.detectionLag(bench, s.lagRuns)));
      else if (phase === 'ours' || phase === 'timer' || phase === 'vendor') say(JSON.stringify(await phases.approach(bench, phase)));
      else if (phase === 'concurrency') {
        // Each level, this design then the previous one, side by side; recorded beside the full results.
        const side: ConcurrencyResult[] = [];
        for (const level of s.concurrencyLevels) for (const design of designs) side.push(await phases.concurrency(bench, level, design));
        const file = join(
          values.out ?? join(ROOT, 'bench/results'),
          `${new Date().toISOString().slice(0, 10)}-concurrency${values['heartbeat-timeout'] ? `-heartbeat-${values['heartbeat-timeout']}` : ''}.json`,
        );
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(
          file,
          `${JSON.stringify({ date: new Date().toISOString(), settings: s, workerTuning, heartbeatTimeout: values['heartbeat-timeout'] ?? '60s (default)', concurrency: side }, null, 2)}\n`,
        );
        say(`side by side written to ${file}`);
      } else if (phase === 'cluster') {
        // Short-run throughput and the held concurrency levels, dev server then cluster, nothing else:
        // the side by side of docs/performance.md without the hour the other phases take.
        await phases.throughput(bench, quick ? 10 : 50);
        const reps = [];
        for (let r = 0; r < s.repetitions; r++) reps.push(await phases.throughput(bench, s.throughputRuns));
        say(`dev server throughput: ${reps.map((r) => r.runsPerSecond).join(', ')} runs/s`);
        const dev: ConcurrencyResult[] = [];
        for (const level of s.concurrencyLevels) dev.push(await phases.concurrency(bench, level, 'held'));
        const cluster = await measureOnCluster({ s, sim, log, caFile, tuningEnv, heartbeatTimeout: values['heartbeat-timeout'], say });
        const side = {
          date: new Date().toISOString(),
          settings: s,
          workerTuning,
          throughput: {
            repetitions: reps,
            runsPerSecond: spread(
              reps.map((r) => r.runsPerSecond),
              1,
            ),
          },
          concurrency: dev,
          cluster,
        };
        const file = join(values.out ?? join(ROOT, 'bench/results'), `${side.date.slice(0, 10)}-cluster.json`);
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(file, `${JSON.stringify(side, null, 2)}\n`);
        console.log(`\n${clusterSection(side)}`);
        say(`side by side written to ${file}`);
      } else throw new Error('--diagnose takes throughput, lag, ours, timer, vendor, concurrency or cluster');
      return;
    }
    say('warm-up');
    await phases.throughput(bench, quick ? 10 : 50);

    const throughputReps = [];
    for (let r = 0; r < s.repetitions; r++) {
      throughputReps.push(await phases.throughput(bench, s.throughputRuns));
      say(`throughput ${r + 1}/${s.repetitions}: ${throughputReps.at(-1)!.runsPerSecond} runs/s`);
    }

    const lagReps = [];
    for (let r = 0; r < s.repetitions; r++) {
      lagReps.push(await phases.detectionLag(bench, s.lagRuns));
      say(`detection lag ${r + 1}/${s.repetitions}: p50 ${lagReps.at(-1)!.p50} ms, p99 ${lagReps.at(-1)!.p99} ms`);
    }

    const baselines: BenchResults['baselines'] = { ours: [], timer: [], vendor: [] };
    for (let r = 0; r < s.repetitions; r++) {
      for (const kind of ['ours', 'timer', 'vendor'] as const) {
        const result = await phases.approach(bench, kind);
        baselines[kind].push(result);
        say(
          `baseline ${kind} ${r + 1}/${s.repetitions}: ${result.requestsPerRun} requests/run, ${result.historyEventsPerRun ?? '-'} events/run, ${result.clientCpuMsPerPoll} ms CPU/poll`,
        );
      }
    }

    // The long history runs (up to 1,000 polls at 1 s) go on while the concurrency levels are measured.
    say(`history runs with ${s.historyPolls.join(', ')} polls started in the background`);
    const historyPromise = phases.history(bench, s.historyPolls);
    const concurrency: ConcurrencyResult[] = [];
    for (const level of s.concurrencyLevels) {
      for (const design of designs) {
        say(`concurrency ${level}, ${design} polling`);
        concurrency.push(await phases.concurrency(bench, level, design));
      }
    }
    say('waiting for the history runs');
    const history = await historyPromise;
    // The dev server's processes stay up but idle while the cluster is measured.
    const cluster = values.cluster
      ? await measureOnCluster({ s, sim, log, caFile, tuningEnv, heartbeatTimeout: values['heartbeat-timeout'], say })
      : undefined;

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
      throughput: {
        repetitions: throughputReps,
        runsPerSecond: spread(
          throughputReps.map((r) => r.runsPerSecond),
          1,
        ),
      },
      detectionLag: {
        intervalMs: s.lagIntervalMs,
        repetitions: lagReps,
        p50Ms: spread(
          lagReps.map((r) => r.p50),
          0,
        ),
        p99Ms: spread(
          lagReps.map((r) => r.p99),
          0,
        ),
      },
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
      ...(cluster ? { cluster } : {}),
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
} else if (require.main === module && process.argv[2] === '--scrub') {
  // In process and without servers: the cost of reading one large answer (docs/performance.md).
  phases.scrubCost().then(
    (results) => console.log(phases.scrubTable(results)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
} else if (require.main === module) {
  // The Temporal client retries a call on a timer; one that fires after the connection closed at the end must not crash the report.
  process.on('uncaughtException', (err) => {
    if (err.message === 'Channel has been shut down') return;
    console.error(err);
    // eslint-disable-next-line n/no-process-exit -- entry point: after an unexpected uncaught exception the run must not go on
    process.exit(1);
  });
  main().catch((err: unknown) => {
    console.error(err);
    // A failure before main's try (a worker that never became ready) leaves the children already started
    // holding the event loop open; exiting runs the 'exit' hooks (processes.ts) that kill them.
    // eslint-disable-next-line n/no-process-exit -- entry point: ends a failed run whose children hold the loop open
    process.exit(1);
  });
}
