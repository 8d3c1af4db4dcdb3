/**
 * `npm run bench -- --cluster`: after the dev-server measurements, the same short-run throughput and
 * concurrency levels against the production-shaped cluster (PostgreSQL, the real Temporal server with
 * compose's settings, one worker from the compiled image build, same tuning), in the same run, against
 * the same simulator. One worker on each side, so the difference is the server and its persistence.
 */
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { startCluster } from '../src/dev/cluster';
import type { Simulator } from '../src/sim/server';
import { BenchContext, PASSWORD, QUEUE, USERS } from './context';
import * as phases from './phases';
import type { Processes } from './processes';
import type { RequestLog } from './request-log';
import type { ClusterResults, ConcurrencyResult } from './results';
import type { BenchSettings } from './settings';
import { spread } from './stats';

export interface ClusterBenchOptions {
  s: BenchSettings;
  sim: Simulator;
  log: RequestLog;
  caFile: string;
  /** WORKER_* tuning given to the dev-server worker, given to the cluster's worker too. */
  tuningEnv: Record<string, string>;
  heartbeatTimeout: string | undefined;
  say: (line: string) => void;
}

export async function measureOnCluster(o: ClusterBenchOptions): Promise<ClusterResults> {
  o.say('starting the cluster: PostgreSQL, the Temporal server (compose settings, 512 shards), 1 worker from the compiled build');
  const cluster = await startCluster({
    workers: 1,
    ui: false,
    log: (line) => o.say(`  ${line}`),
    ccsEnv: { CCS_BASE_URL: o.sim.baseUrl, CCS_USERNAME: USERS.cluster, CCS_PASSWORD: PASSWORD, CCS_CA_FILE: o.caFile },
    workerEnv: { TEMPORAL_TASK_QUEUE: QUEUE.ours, LOG_LEVEL: 'WARN', ...o.tuningEnv },
  });
  const connection = await Connection.connect({ address: cluster.address });
  try {
    const worker = cluster.workers[0]!.child as ChildProcess;
    const procs: Processes = {
      temporal: {
        address: cluster.address,
        metricsUrl: cluster.metricsUrl,
        uiUrl: undefined,
        process: cluster.temporal.child as ChildProcess,
        stop: () => Promise.resolve(),
      },
      ours: worker,
      retry: worker,
      timer: worker,
    };
    const ctx = new BenchContext(o.s, o.sim, o.log, new Client({ connection, namespace: cluster.namespace }), procs, o.say);
    ctx.heartbeatTimeout = o.heartbeatTimeout;
    o.say(`cluster up in ${cluster.timings.start} s; warm-up`);
    await phases.throughput(ctx, o.s.quick ? 10 : 50);
    const reps = [];
    for (let r = 0; r < o.s.repetitions; r++) {
      reps.push(await phases.throughput(ctx, o.s.throughputRuns));
      o.say(`cluster throughput ${r + 1}/${o.s.repetitions}: ${reps.at(-1)!.runsPerSecond} runs/s`);
    }
    const concurrency: ConcurrencyResult[] = [];
    for (const level of o.s.concurrencyLevels) {
      o.say(`cluster concurrency ${level}, held polling`);
      concurrency.push(await phases.concurrency(ctx, level, 'held'));
    }
    return {
      layout:
        'PostgreSQL 15 from Debian packages (fsync on), Temporal server built from go.temporal.io/server with docker-compose.yml settings (512 history shards), 1 worker from the compiled image build; same machine, same simulator',
      startSeconds: cluster.timings.start,
      builds: cluster.timings.builds,
      throughput: {
        repetitions: reps,
        runsPerSecond: spread(
          reps.map((r) => r.runsPerSecond),
          1,
        ),
      },
      concurrency,
    };
  } finally {
    await connection.close();
    await cluster.stop();
  }
}
