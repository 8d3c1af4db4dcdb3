/**
 * Structured logs: one JSON object per line on stdout, for the SDK (workflow, activity, worker and
 * core logs) and our own. Keys that could carry a secret are dropped whatever logged them.
 */
import { DefaultLogger, type LogEntry, type Logger, type LogLevel } from '@temporalio/worker';

const SECRET_KEY = /pass(word)?|secret|token|authorization|api_?key|cookie/i;

function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(depth === 0 && value.stack ? { stack: value.stack } : {}) };
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || depth > 3) return value;
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  return Object.fromEntries(Object.entries(value).filter(([k]) => !SECRET_KEY.test(k)).map(([k, v]) => [k, plain(v, depth + 1)]));
}

/** The JSON line for one entry: time, level, message, then the entry's metadata flattened. */
export function formatLogLine(entry: LogEntry): string {
  const meta = plain(entry.meta ?? {}) as Record<string, unknown>;
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level.toLowerCase(), msg: entry.message, ...meta });
}

export function jsonLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return new DefaultLogger(level, (entry) => write(formatLogLine(entry)));
}
