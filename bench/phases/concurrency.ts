/** Phase: N runs tracked at once: start them, watch steady-state polling, then end them all. */
import { WorkflowName, cancelSignal } from '../../src/domain/contract';
import { QUEUE, type BenchContext, type PollDesign } from '../context';
import type { ConcurrencyResult, WindowResult } from '../results';
import { CpuMeter, Histogram, difference, memoryMiB, serverRequests, spread } from '../stats';
import { pool, round, sleep } from '../util';

export async function concurrency(ctx: BenchContext, level: number, design: PollDesign = 'held'): Promise<ConcurrencyResult> {
  const interval = ctx.s.concurrencyIntervalMs;
  const jobs = Array.from({ length: level }, () => ctx.job([['Executing', 10 * 24 * 3600]]));
  const jobSet = new Set(jobs);
  const workerPid = (design === 'held' ? ctx.procs.ours : ctx.procs.retry).pid!;
  ctx.say(`  starting ${level} runs (${interval / 1000} s poll interval, ${design} polling)...`);
  const t0 = performance.now();
  await pool(jobs, ctx.s.startConcurrency, (jobId) => ctx.startOurs(jobId, interval, design));
  const startSeconds = (performance.now() - t0) / 1000;
  let lastSaid = performance.now();
  for (;;) {
    const executed = jobs.filter((j) => ctx.sim.state.runsOf(j).length > 0).length;
    if (executed === level) break;
    if (performance.now() - lastSaid > 30_000) {
      ctx.say(`  ${executed}/${level} executed`);
      lastSaid = performance.now();
    }
    await sleep(1_000);
  }
  const allExecutedSeconds = (performance.now() - t0) / 1000;
  ctx.say(`  all ${level} executed after ${round(allExecutedSeconds, 1)} s; waiting one interval for steady polling`);
  ctx.log.reads = new Map();
  await sleep(interval + 2_000);

  const windows: WindowResult[] = [];
  for (let w = 0; w < ctx.s.windows; w++) {
    const from = Date.now();
    const worker = new CpuMeter(workerPid);
    const server = new CpuMeter(ctx.procs.temporal.process.pid!);
    const harness = new CpuMeter(process.pid);
    let rssMax = 0;
    const requestsBefore = await serverRequests(ctx.procs.temporal.metricsUrl);
    while (Date.now() - from < ctx.s.windowMs) {
      await sleep(1_000);
      rssMax = Math.max(rssMax, memoryMiB(workerPid).rss);
    }
    const to = Date.now();
    const requests = difference(await serverRequests(ctx.procs.temporal.metricsUrl), requestsBefore);
    const lateness = new Histogram();
    // Reads are moved by up to ±jitter on purpose; lateness beyond that band is what the design owes.
    const jitter = 0.1; // the workers' default CCS_POLL_JITTER
    const beyondJitter = new Histogram();
    let reads = 0;
    for (const [jobId, times] of ctx.log.reads) {
      if (!jobSet.has(jobId)) continue;
      for (let i = 0; i < times.length; i++) {
        const t = times[i]!;
        if (t < from || t >= to) continue;
        reads++;
        if (i > 0) {
          lateness.record(t - times[i - 1]! - interval);
          beyondJitter.record(Math.max(0, t - times[i - 1]! - interval * (1 + jitter)));
        }
      }
    }
    const windowResult: WindowResult = {
      seconds: round((to - from) / 1000, 1),
      readsPerSecond: round(reads / ((to - from) / 1000), 1),
      expectedReadsPerSecond: round(level / (interval / 1000), 1),
      latenessMs: lateness.summary(),
      latenessBeyondJitterMs: beyondJitter.summary(),
      workerCpuPercent: worker.read().corePercent,
      serverCpuPercent: server.read().corePercent,
      simulatorCpuPercent: harness.read().corePercent,
      workerRssMiB: rssMax,
      serverRequestsPerSecond: Object.fromEntries(Object.entries(requests).map(([op, n]) => [op, round(n / ((to - from) / 1000), 1)])),
      serverRequestsPerPoll: reads ? round(Object.values(requests).reduce((a, b) => a + b, 0) / reads, 2) : NaN,
      cloudActionsPerRunHour: round(
        ((((requests.RespondActivityTaskFailed ?? 0) + (requests.RecordActivityTaskHeartbeat ?? 0)) / ((to - from) / 1000)) * 3600) / level,
        1,
      ),
    };
    windows.push(windowResult);
    ctx.say(
      `  window ${w + 1}: ${windowResult.readsPerSecond} of ${windowResult.expectedReadsPerSecond} reads/s, lateness p99 ${windowResult.latenessMs.p99} ms (${windowResult.latenessBeyondJitterMs?.p99 ?? '–'} ms beyond the ±${jitter * 100} % jitter), worker ${windowResult.workerCpuPercent}% CPU ${rssMax} MiB, Temporal ${windowResult.serverCpuPercent}% CPU, ${windowResult.serverRequestsPerPoll} server requests/poll, ${windowResult.cloudActionsPerRunHour} Cloud actions/run-hour`,
    );
  }
  ctx.log.reads = undefined;

  // Cancel latency under this load: a sample of runs is cancelled, spread over 10 s; each signal's
  // send time against the moment CCS receives that run's abort.
  const sample = jobs.filter((_, i) => i % Math.max(1, Math.floor(level / Math.min(200, level))) === 0).slice(0, 200);
  ctx.log.aborts = new Map();
  const sentAt = new Map<string, number>();
  await Promise.all(
    sample.map(async (jobId, i) => {
      await sleep((i / sample.length) * 10_000);
      sentAt.set(jobId, Date.now());
      await ctx.client.workflow.getHandle(`bench-${jobId}`).signal(cancelSignal, { reason: 'bench: cancel latency' });
    }),
  );
  const cancelLatency = new Histogram();
  const waitUntil = Date.now() + 60_000;
  for (;;) {
    const pending = sample.filter((jobId) => !ctx.log.aborts!.has(ctx.sim.state.runsOf(jobId)[0]!.JobRunID));
    if (pending.length === 0 || Date.now() > waitUntil) break;
    await sleep(500);
  }
  let aborted = 0;
  for (const jobId of sample) {
    const at = ctx.log.aborts.get(ctx.sim.state.runsOf(jobId)[0]!.JobRunID);
    if (at === undefined) continue;
    aborted++;
    cancelLatency.record(at - sentAt.get(jobId)!);
  }
  ctx.log.aborts = undefined;
  ctx.say(
    `  cancel → abort at CCS for ${aborted} of ${sample.length} sampled runs: p50 ${cancelLatency.summary().p50} ms, p99 ${cancelLatency.summary().p99} ms`,
  );

  // End every other run now; the workflows notice at their next poll.
  const endAt = Date.now();
  const cancelled = new Set(sample);
  for (const jobId of jobs) {
    if (cancelled.has(jobId)) continue;
    const run = ctx.sim.state.runsOf(jobId)[0]!;
    run.plan = {
      ...run.plan,
      steps: [
        ['Executing', (endAt - run.startedAt) / 1000],
        ['Completed', 0],
      ],
    };
  }
  const query = `WorkflowType = '${WorkflowName.runCcsJob}' AND TaskQueue = '${design === 'held' ? QUEUE.ours : QUEUE.retry}' AND ExecutionStatus = 'Running'`;
  while ((await ctx.client.workflow.count(query)).count > (design === 'held' ? ctx.backgroundOurs : 0)) await sleep(2_000);
  const drainSeconds = (Date.now() - endAt) / 1000;
  return {
    design,
    level,
    intervalSeconds: interval / 1000,
    startRatePerSecond: round(level / startSeconds, 1),
    allExecutedAfterSeconds: round(allExecutedSeconds, 1),
    windows,
    latenessP99Ms: spread(
      windows.map((w) => w.latenessMs.p99).filter((x) => !Number.isNaN(x)),
      0,
    ),
    workerCpuPercent: spread(
      windows.map((w) => w.workerCpuPercent),
      1,
    ),
    readsPerSecond: spread(
      windows.map((w) => w.readsPerSecond),
      1,
    ),
    workerPeakRssMiB: memoryMiB(workerPid).peak,
    cancelToAbortMs: { sampled: sample.length, aborted, ...cancelLatency.summary() },
    drainSeconds: round(drainSeconds, 1),
  };
}
