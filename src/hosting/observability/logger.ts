/**
 * Structured logs: one JSON object per line on stdout, for the SDK (workflow, activity, worker and
 * core logs) and our own. Keys that could carry a secret are dropped at any depth, and every text is
 * scrubbed of credential-shaped values and URL userinfo, whatever logged them.
 */
import { DefaultLogger, type LogEntry, type Logger, type LogLevel } from '@temporalio/worker';
import { scrub } from '../../ccs/scrub';

const SECRET_KEY = /pass(word)?|secret|token|authorization|api_?key|cookie/i;
/** Deeper than this, a value is summarised, never written raw (it could hold anything). */
const MAX_DEPTH = 8;
/** `scheme://user:password@host` in any text: the userinfo is never logged. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi;

/** A text with credential-shaped parts removed: URL userinfo, bearer and basic credentials, secret fields. */
function scrubText(text: string): string {
  return scrub(text.replace(URL_USERINFO, '$1[redacted]@'));
}

function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error)
    return {
      name: value.name,
      message: scrubText(value.message),
      ...(depth === 0 && value.stack ? { stack: scrubText(value.stack) } : {}),
    };
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  // Secret-named keys are dropped at every depth, not only near the top.
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !SECRET_KEY.test(k))
      .map(([k, v]) => [k, plain(v, depth + 1)]),
  );
}

/** The JSON line for one entry: time, level, message, then the entry's metadata flattened. */
export function formatLogLine(entry: LogEntry): string {
  const meta = plain(entry.meta ?? {}) as Record<string, unknown>;
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level.toLowerCase(), msg: scrubText(entry.message), ...meta });
}

export function jsonLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  return new DefaultLogger(level, (entry) => write(formatLogLine(entry)));
}
