/** The Markdown summary of a benchmark run: targets first, then each measurement with its spread. */
import type { ApproachResult, BenchResults, ConcurrencyResult } from './results';
import { formatSpread, spread, type Spread } from './stats';

type Row = (string | number)[];

/** NaN (a window with no lateness sample) is saved as null in JSON: both mean "no value". */
const isNumber = (x: number | null): x is number => typeof x === 'number' && Number.isFinite(x);

function table(head: string[], rows: Row[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function over(reps: ApproachResult[], pick: (r: ApproachResult) => number | null, digits = 2): Spread {
  return spread(
    reps.map((r) => pick(r) ?? NaN),
    digits,
  );
}

function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

export function renderMarkdown(r: BenchResults): string {
  const s = r.settings;
  const maxLevel = r.concurrency.filter((c) => c.design !== 'retry').at(-1);
  const ours = r.baselines.ours;
  const oursHistory = r.history.filter((h) => h.approach === 'ours');
  const maxOursEvents = Math.max(...oursHistory.map((h) => h.historyEvents));
  const lagTarget = s.lagIntervalMs + 1000;
  const tokenTarget = Math.ceil(r.tokens.lifetimesElapsed) + 1;
  const yes = (ok: boolean): string => (ok ? 'met' : '**missed**');
  // The concurrency targets are stated for 10,000 runs; smaller runs (quick mode) are not judged.
  const atTen = (ok: boolean): string => (maxLevel && maxLevel.level >= 10_000 ? yes(ok) : 'not judged below 10,000 runs');

  const targets: Row[] = [
    [
      'History events per run, any run length',
      '≤ 60, constant',
      `${Math.min(...oursHistory.map((h) => h.historyEvents))}–${maxOursEvents} for ${oursHistory.map((h) => h.polls).join(' / ')} polls`,
      yes(maxOursEvents <= 60),
    ],
    [
      'Token requests, whole run (one worker)',
      `≤ 1 per token lifetime (${r.tokens.lifetimesElapsed} lifetimes of ${r.tokens.tokenLifetimeSeconds} s elapsed)`,
      `${r.tokens.requests}`,
      yes(r.tokens.requests <= tokenTarget),
    ],
    [
      'Detection lag p99',
      `≤ poll interval + 1 s = ${lagTarget} ms`,
      formatSpread(r.detectionLag.p99Ms, ' ms'),
      yes(r.detectionLag.p99Ms.median <= lagTarget),
    ],
    [
      'Short-run throughput',
      '≥ 50 runs/s',
      formatSpread(r.throughput.runsPerSecond, ' runs/s'),
      yes(r.throughput.runsPerSecond.median >= 50),
    ],
  ];
  if (maxLevel) {
    targets.push(
      [
        `${maxLevel.level} runs at ${maxLevel.intervalSeconds} s: poll lateness p99 beyond the ±jitter band (raw)`,
        '< 2,000 ms',
        `${formatSpread(spread(maxLevel.windows.map((w) => w.latenessBeyondJitterMs?.p99 ?? NaN).filter(isNumber), 0), ' ms')} (${formatSpread(spread(maxLevel.windows.map((w) => w.latenessMs.p99).filter(isNumber), 0), ' ms')})`,
        atTen(spread(maxLevel.windows.map((w) => w.latenessBeyondJitterMs?.p99 ?? w.latenessMs.p99).filter(isNumber), 0).median < 2000),
      ],
      [
        `${maxLevel.level} runs: worker peak RSS`,
        '< 1,024 MiB',
        `${maxLevel.workerPeakRssMiB} MiB`,
        atTen(maxLevel.workerPeakRssMiB < 1024),
      ],
      [
        `${maxLevel.level} runs: polls done of asked`,
        'all',
        `${formatSpread(maxLevel.readsPerSecond)} of ${maxLevel.windows[0]?.expectedReadsPerSecond ?? '–'} /s`,
        atTen(maxLevel.readsPerSecond.median >= 0.98 * (maxLevel.windows[0]?.expectedReadsPerSecond ?? Infinity)),
      ],
      [
        `${maxLevel.level} runs: cancel signal → abort at CCS, p99`,
        '< 2,000 ms',
        maxLevel.cancelToAbortMs
          ? `${maxLevel.cancelToAbortMs.p99} ms (${maxLevel.cancelToAbortMs.aborted} of ${maxLevel.cancelToAbortMs.sampled} sampled)`
          : 'not measured',
        atTen(
          (maxLevel.cancelToAbortMs?.p99 ?? Infinity) < 2000 && maxLevel.cancelToAbortMs?.aborted === maxLevel.cancelToAbortMs?.sampled,
        ),
      ],
      [
        `${maxLevel.level} runs: Temporal server requests per poll`,
        '≤ 0.2',
        formatSpread(spread(maxLevel.windows.map((w) => w.serverRequestsPerPoll).filter(isNumber), 2)),
        atTen(spread(maxLevel.windows.map((w) => w.serverRequestsPerPoll).filter(isNumber), 2).median <= 0.2),
      ],
      [
        `${maxLevel.level} runs: Temporal Cloud actions per run-hour`,
        '≤ 20',
        formatSpread(spread(maxLevel.windows.map((w) => w.cloudActionsPerRunHour).filter(isNumber), 1)),
        atTen(spread(maxLevel.windows.map((w) => w.cloudActionsPerRunHour).filter(isNumber), 1).median <= 20),
      ],
    );
  }

  const approachRow = (name: string, reps: ApproachResult[]): Row => [
    name,
    formatSpread(over(reps, (x) => x.requestsPerRun)),
    formatSpread(over(reps, (x) => x.tokenRequestsPerRun)),
    reps[0]?.historyEventsPerRun === null ? '–' : formatSpread(over(reps, (x) => x.historyEventsPerRun, 1)),
    formatSpread(over(reps, (x) => x.clientCpuMsPerPoll, 3)),
    formatSpread(over(reps, (x) => x.serverCpuMsPerPoll, 3)),
    formatSpread(over(reps, (x) => x.simulatorCpuMsPerPoll, 3)),
    formatSpread(over(reps, (x) => x.detectionLagMs.p50, 0)),
    formatSpread(over(reps, (x) => x.detectionLagMs.p99, 0)),
  ];
  const med = (reps: ApproachResult[], pick: (x: ApproachResult) => number | null): number => over(reps, pick, 4).median;
  const ratioRow = (name: string, theirs: ApproachResult[]): Row => [
    name,
    ratio(
      med(ours, (x) => x.requestsPerRun),
      med(theirs, (x) => x.requestsPerRun),
    ),
    theirs[0]?.historyEventsPerRun === null
      ? '–'
      : ratio(
          med(ours, (x) => x.historyEventsPerRun),
          med(theirs, (x) => x.historyEventsPerRun),
        ),
    ratio(
      med(ours, (x) => x.clientCpuMsPerPoll),
      med(theirs, (x) => x.clientCpuMsPerPoll),
    ),
    ratio(
      med(ours, (x) => x.clientCpuMsPerPoll + x.serverCpuMsPerPoll),
      med(theirs, (x) => x.clientCpuMsPerPoll + x.serverCpuMsPerPoll),
    ),
    ratio(
      med(ours, (x) => x.simulatorCpuMsPerPoll),
      med(theirs, (x) => x.simulatorCpuMsPerPoll),
    ),
  ];

  return `# Benchmark ${r.date.slice(0, 10)}${s.quick ? ' (quick mode: a smoke test, not figures to quote)' : ''}

Machine: ${String(r.machine.cpus)} × ${String(r.machine.cpuModel)}, ${String(r.machine.memoryGiB)} GiB, ${String(r.machine.platform)}, Node ${String(r.machine.node)}.
${String(r.machine.layout)}. Took ${r.durationSeconds} s; ${s.repetitions} repetition(s): medians with (min–max).

Worker settings: ${Object.entries(r.workerTuning)
    .map(([k, v]) => `${k}=${v ?? 'unlimited'}`)
    .join(', ')}.

## Targets

${table(['Measure', 'Target', 'Measured', ''], targets)}

## Short-run throughput

${s.throughputRuns} runs already Completed when executed (list, execute, one read), ${s.startConcurrency} starts in flight.

${table(
  ['Repetition', 'Runs/s', 'Start→close p50 ms', 'p99 ms'],
  r.throughput.repetitions.map((x, i) => [i + 1, x.runsPerSecond, x.latencyMs.p50, x.latencyMs.p99]),
)}

## Detection lag

${s.lagRuns} runs of ${s.lagDurationS[0]}–${s.lagDurationS[1]} s, polled every ${s.lagIntervalMs / 1000} s (no growth): time from the simulator's terminal transition to the workflow's close.

${table(
  ['Repetition', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
  r.detectionLag.repetitions.map((x, i) => [i + 1, x.p50, x.p90, x.p99, x.max]),
)}

## Side by side: ours, a workflow timer loop, the vendor-sample script

${s.baselineRuns} runs of ${s.baselineDurationS} s each, polled every ${s.baselineIntervalMs / 1000} s, one approach at a time on the same simulator.
CPU per poll: the client process (worker or script), the Temporal server, and the simulator (the load generator's process, i.e. the CCS side).

${table(
  [
    'Approach',
    'Requests/run',
    'Token requests/run',
    'History events/run',
    'Client CPU ms/poll',
    'Temporal CPU ms/poll',
    'CCS-side CPU ms/poll',
    'Lag p50 ms',
    'Lag p99 ms',
  ],
  [
    approachRow('ours (retry-as-poll activity)', ours),
    approachRow('timer loop workflow', r.baselines.timer),
    approachRow('vendor-sample script', r.baselines.vendor),
  ],
)}

Ratios ours/theirs (medians; below 1× means ours uses less):

${table(['Versus', 'Requests/run', 'History events/run', 'Client CPU/poll', 'Client + Temporal CPU/poll', 'CCS-side CPU/poll'], [ratioRow('timer loop', r.baselines.timer), ratioRow('vendor script', r.baselines.vendor)])}

## History length against run length (1 s polls)

${table(
  ['Approach', 'Polls asked', 'Polls made', 'History events'],
  r.history.map((h) => [h.approach === 'ours' ? 'ours' : 'timer loop', h.targetPolls, h.polls, h.historyEvents]),
)}

## Runs tracked at once

${table(
  [
    'Runs',
    'Polling',
    'Interval',
    'Start rate /s',
    'All executed after s',
    'Reads/s (expected)',
    'Effective interval s',
    'Lateness p50 / p99 / max ms',
    'Worker CPU %',
    'Temporal CPU %',
    'Simulator CPU %',
    'Worker peak RSS MiB',
    'Server requests/poll',
    'Cloud actions/run-hour',
    'Drain s',
  ],
  r.concurrency.map((c) => {
    const w = c.windows;
    const lat = (k: 'p50' | 'p99' | 'max'): string =>
      formatSpread(
        spread(
          w
            .filter((x) => x.latenessMs.count > 0)
            .map((x) => x.latenessMs[k])
            .filter(isNumber),
          0,
        ),
      );
    const perPoll = w.map((x) => x.serverRequestsPerPoll).filter(isNumber);
    const actions = w.map((x) => x.cloudActionsPerRunHour).filter(isNumber);
    return [
      c.level,
      c.design === 'retry' ? 'retry-as-poll (previous)' : 'held',
      `${c.intervalSeconds} s`,
      c.startRatePerSecond,
      c.allExecutedAfterSeconds,
      `${formatSpread(c.readsPerSecond)} (${w[0]?.expectedReadsPerSecond ?? '–'})`,
      formatSpread(
        spread(
          w.map((x) => c.level / x.readsPerSecond),
          1,
        ),
      ),
      `${lat('p50')} / ${lat('p99')} / ${lat('max')}`,
      formatSpread(c.workerCpuPercent),
      formatSpread(
        spread(
          w.map((x) => x.serverCpuPercent),
          1,
        ),
      ),
      formatSpread(
        spread(
          w.map((x) => x.simulatorCpuPercent),
          1,
        ),
      ),
      c.workerPeakRssMiB,
      perPoll.length ? formatSpread(spread(perPoll, 2)) : '–',
      actions.length ? formatSpread(spread(actions, 1)) : '–',
      c.drainSeconds,
    ];
  }),
)}

The effective interval is runs ÷ reads per second: the poll interval the runs actually got. Where it
exceeds the window, few runs are read twice within a window and the lateness percentiles only see
those (they understate); the effective interval does not.

${r.cluster ? clusterSection(r) : ''}## Tokens

Our worker made ${r.tokens.requests} token requests in ${r.tokens.workerHours} worker-hours (${r.tokens.perWorkerHour}/hour) with ${r.tokens.tokenLifetimeSeconds} s token lifetimes (${r.tokens.lifetimesElapsed} lifetimes elapsed), whatever the number of runs.
`;
}

/** The level at which polls done fall below 98 % of those asked, or "none up to N". */
function saturation(levels: ConcurrencyResult[]): string {
  const first = levels.find((c) => c.readsPerSecond.median < 0.98 * (c.windows[0]?.expectedReadsPerSecond ?? 0));
  return first
    ? `${first.level} runs (${first.readsPerSecond.median} of ${first.windows[0]?.expectedReadsPerSecond} reads/s)`
    : `none up to ${levels.at(-1)?.level ?? 0} runs`;
}

/** The same phases on the dev server and on the PostgreSQL cluster, side by side. */
export function clusterSection(r: Pick<BenchResults, 'throughput' | 'concurrency' | 'cluster'>): string {
  const c = r.cluster!;
  const dev = r.concurrency.filter((x) => x.design !== 'retry');
  const median = (values: number[]): number => spread(values.filter(isNumber), 1).median;
  const rows: Row[] = c.concurrency.map((on) => {
    const off = dev.find((x) => x.level === on.level);
    const beyond = (x: ConcurrencyResult | undefined): number => median(x?.windows.map((w) => w.latenessBeyondJitterMs?.p99 ?? NaN) ?? []);
    const cpu = (x: ConcurrencyResult | undefined): number => median(x?.windows.map((w) => w.serverCpuPercent) ?? []);
    const perPoll = (x: ConcurrencyResult | undefined): number => median(x?.windows.map((w) => w.serverRequestsPerPoll) ?? []);
    return [
      on.level,
      `${off?.readsPerSecond.median ?? '–'} / ${on.readsPerSecond.median} (${on.windows[0]?.expectedReadsPerSecond ?? '–'})`,
      ratio(on.readsPerSecond.median, off?.readsPerSecond.median ?? NaN),
      `${beyond(off)} / ${beyond(on)}`,
      `${cpu(off)} / ${cpu(on)}`,
      `${perPoll(off)} / ${perPoll(on)}`,
      `${off?.startRatePerSecond ?? '–'} / ${on.startRatePerSecond}`,
      `${off?.workerPeakRssMiB ?? '–'} / ${on.workerPeakRssMiB}`,
    ];
  });
  return `## Dev server and PostgreSQL cluster, side by side

${c.layout}. Cluster started in ${c.startSeconds} s${
    Object.keys(c.builds).length
      ? ` (built during this run: ${Object.entries(c.builds)
          .map(([k, v]) => `${k} ${v} s`)
          .join(', ')})`
      : ''
  }.
Each cell is dev server / cluster. Temporal CPU is the server process alone (PostgreSQL's own processes are not counted).

${table(['Measure', 'Dev server', 'Cluster', 'Cluster ÷ dev'], [['Short-run throughput, runs/s', formatSpread(r.throughput.runsPerSecond), formatSpread(c.throughput.runsPerSecond), ratio(c.throughput.runsPerSecond.median, r.throughput.runsPerSecond.median)]])}

${table(['Runs (held, ' + (c.concurrency[0]?.intervalSeconds ?? '–') + ' s)', 'Reads/s dev / cluster (asked)', 'Cluster ÷ dev', 'Lateness p99 beyond jitter ms', 'Temporal CPU %', 'Server requests/poll', 'Start rate /s', 'Worker peak RSS MiB'], rows)}

Saturation (first level where polls done fall below 98 % of those asked): dev server ${saturation(dev)}; cluster ${saturation(c.concurrency)}.

`;
}
