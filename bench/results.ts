/** The shapes of benchmark results, as written to bench/results/<date>.json and read by the report. */
import type { WorkerTuning } from '../src/hosting/config';
import type { BenchSettings } from './settings';
import type { Histogram, Spread } from './stats';

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
  /** Lateness beyond the deliberate ±jitter band (CCS_POLL_JITTER): read later than interval × (1 + jitter). */
  latenessBeyondJitterMs?: ReturnType<Histogram['summary']>;
  workerCpuPercent: number;
  serverCpuPercent: number;
  simulatorCpuPercent: number;
  workerRssMiB: number;
  /** The Temporal server's frontend requests in the window, per second, by operation. */
  serverRequestsPerSecond: Record<string, number>;
  /** All of them per CCS read. */
  serverRequestsPerPoll: number;
  /**
   * Temporal Cloud actions per tracked run-hour, estimated from those counts: an activity attempt
   * started after a failure (RespondActivityTaskFailed) and a heartbeat that reached the server
   * (RecordActivityTaskHeartbeat) are one action each.
   */
  cloudActionsPerRunHour: number;
}

export interface ConcurrencyResult {
  /** held (this design) or retry (the previous design, kept as a baseline). */
  design?: 'held' | 'retry';
  level: number;
  intervalSeconds: number;
  startRatePerSecond: number;
  allExecutedAfterSeconds: number;
  windows: WindowResult[];
  latenessP99Ms: Spread;
  workerCpuPercent: Spread;
  readsPerSecond: Spread;
  workerPeakRssMiB: number;
  /** A sample of runs cancelled after the windows: signal sent → abort request received by CCS. */
  cancelToAbortMs?: { sampled: number; aborted: number } & ReturnType<Histogram['summary']>;
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
  /** With --cluster: the same throughput and concurrency phases on the PostgreSQL-backed cluster. */
  cluster?: ClusterResults;
}

export interface ClusterResults {
  layout: string;
  startSeconds: number;
  /** Binaries built during this run (seconds each); empty when all were cached. */
  builds: Record<string, number>;
  throughput: BenchResults['throughput'];
  concurrency: ConcurrencyResult[];
}
