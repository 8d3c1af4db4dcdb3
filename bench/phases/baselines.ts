/** Phase: one approach (ours, the timer loop, the vendor script) on the baseline workload. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunCcsJobResult } from '../../src/domain/contract';
import { PASSWORD, USERS, type BenchContext } from '../context';
import { ROOT } from '../processes';
import { diff, total } from '../request-log';
import type { ApproachResult } from '../results';
import { CpuMeter, Histogram } from '../stats';
import { pool, round } from '../util';

export async function approach(ctx: BenchContext, kind: 'ours' | 'timer' | 'vendor'): Promise<ApproachResult> {
  const { baselineRuns: runs, baselineDurationS: duration, baselineIntervalMs: interval } = ctx.s;
  const jobs = Array.from({ length: runs }, () =>
    ctx.job([
      ['Executing', duration],
      ['Completed', 0],
    ]),
  );
  const user = USERS[kind];
  const before = ctx.log.snapshot(user);
  let vendor: ChildProcess | undefined;
  const workerPid = kind === 'vendor' ? undefined : ctx.procs[kind].pid!;
  const serverCpu = new CpuMeter(ctx.procs.temporal.process.pid!);
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
        env: {
          PATH: process.env.PATH ?? '',
          BENCH_VENDOR: JSON.stringify({
            baseUrl: ctx.sim.baseUrl,
            username: user,
            password: PASSWORD,
            jobIds: jobs,
            intervalMs: interval,
          }),
        },
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
      lag.record(r.detectedAt - ctx.endedAt(r.jobId));
    }
  } else {
    const handles = await pool(jobs, ctx.s.startConcurrency, (jobId) =>
      kind === 'ours' ? ctx.startOurs(jobId, interval) : ctx.startTimerLoop(jobId, interval),
    );
    await pool(handles, runs, async (handle, i) => {
      const result = (await handle.result()) as RunCcsJobResult | { polls: number };
      polls += result.polls;
      lag.record((await ctx.closeTime(handle)) - ctx.endedAt(jobs[i]!));
    });
    for (const handle of handles) events.push((await handle.fetchHistory()).events?.length ?? 0);
  }
  const requests = diff(ctx.log.snapshot(user), before);
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
