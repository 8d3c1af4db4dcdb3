/**
 * Measurement helpers for the benchmark: an HDR-style histogram (log-linear buckets, 1 % relative
 * precision, constant memory however many samples), the median with its spread over repetitions,
 * and CPU/RSS readings of a process from /proc.
 */
import { readFileSync } from 'node:fs';

/** Values (ms or any unit ≥ 0) in buckets of 1 % width: percentiles within 1 % of the exact value. */
export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;
  min = Infinity;
  private sum = 0;

  record(value: number): void {
    const v = Math.max(0, value);
    const key = v < 1 ? Math.floor(v * 100) : 100 + Math.floor(Math.log(v) / Math.log(1.01));
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.count++;
    this.sum += v;
    this.max = Math.max(this.max, v);
    this.min = Math.min(this.min, v);
  }

  /** The value at percentile `p` (0–100): the upper edge of the bucket holding it, capped at the maximum. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const key of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(key) ?? 0;
      if (seen >= rank) return Math.min(this.max, key < 100 ? (key + 1) / 100 : 1.01 ** (key - 100 + 1));
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  summary(digits = 0): { count: number; p50: number; p90: number; p99: number; max: number; mean: number } {
    const r = (x: number): number => Number(x.toFixed(digits));
    return {
      count: this.count,
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      max: r(this.max),
      mean: r(this.mean()),
    };
  }
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** The median of repeated measurements, with the lowest and highest. */
export function spread(values: number[], digits = 2): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const r = (x: number): number => Number(x.toFixed(digits));
  return { median: r(median), min: r(sorted[0] ?? NaN), max: r(sorted[sorted.length - 1] ?? NaN), values: values.map(r) };
}

export function formatSpread(s: Spread, unit = ''): string {
  if (s.values.length <= 1) return `${s.median}${unit}`;
  return `${s.median}${unit} (${s.min}–${s.max})`;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident and peak resident memory of a process, in MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** CPU used by a process between two readings, in seconds and as a share of one core. */
export class CpuMeter {
  private cpu0: number;
  private t0: number;

  constructor(private readonly pid: number) {
    this.cpu0 = cpuSeconds(pid);
    this.t0 = performance.now();
  }

  read(): { seconds: number; corePercent: number } {
    const seconds = cpuSeconds(this.pid) - this.cpu0;
    const wall = (performance.now() - this.t0) / 1000;
    return { seconds: Number(seconds.toFixed(2)), corePercent: Number(((100 * seconds) / wall).toFixed(1)) };
  }
}

/** The Temporal server's own frontend request counts by operation, from its Prometheus endpoint. */
export async function serverRequests(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!/service_name="frontend"/.test(labels)) continue;
    const operation = /operation="([^"]+)"/.exec(labels)?.[1];
    if (!operation) continue;
    counts[operation] = (counts[operation] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** `after - before`, by key. */
export function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
