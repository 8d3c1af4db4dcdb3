/**
 * Pure checks for values that users hand to the orchestrator (workflow inputs, CLI arguments,
 * pipeline files). Each failure is a one-line message naming the field and the fix. No Node APIs:
 * workflows import this module.
 */
import { CcsError, ErrorType } from './errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_PREVIEW = 60;

/** A duration: milliseconds, or text such as "30s", "5m", "1h30m". */
export type DurationInput = string | number;

/** A CCS server name as the worker's configuration file may define it. */
export const CCS_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * Thrown for bad input: a {@link CcsError} of type `CcsInvalidInput`. `field`, when given, names the
 * input field at fault, so a caller can show it under its own name (the CLI's flags).
 */
export function invalidInput(message: string, field?: string): CcsError & { readonly field?: string } {
  const err = new CcsError(ErrorType.InvalidInput, message, { mayHaveReachedServer: false });
  return field === undefined ? err : Object.assign(err, { field });
}

/** A short, printable rendering of a bad value for error messages (huge strings are cut). */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > MAX_PREVIEW ? `${text.slice(0, MAX_PREVIEW)}… (${text.length} chars)` : text;
}

/** A `ccs` server name, or "default" when absent; throws `CcsInvalidInput` naming `field`. */
export function validateServerName(field: string, value: unknown): string {
  if (value === undefined) return 'default';
  if (typeof value !== 'string' || !CCS_SERVER_NAME.test(value)) {
    throw invalidInput(
      `${field} must name a configured CCS server (letters, digits, '.', '_' or '-', e.g. "default" or "emea"); got ${preview(value)}`,
      field,
    );
  }
  return value;
}

/** True for the 36-character hyphenated GUID form CCS uses, in any case. */
export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}

/**
 * A GUID as CCS or a proxy may write it (braces, any case, with or without hyphens) in the one form
 * this project compares: 36 characters, hyphenated, lower case. Null when it is not a GUID.
 */
export function normalizeGuid(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const hex = value
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/-/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  const dashed = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  // Hyphens, when present, must be where a GUID has them.
  return value.includes('-') && !GUID.test(value.trim().replace(/^\{(.*)\}$/, '$1')) ? null : dashed;
}

/** Returns the GUID in lower case, or throws `CcsInvalidInput` naming `field`. */
export function requireGuid(field: string, value: unknown): string {
  if (!isGuid(value)) {
    throw invalidInput(
      `${field} must be a GUID like 24f58e54-5d94-45f8-97a8-ccb6d959233a (36 characters, hyphenated, no braces); got ${preview(value)}`,
      field,
    );
  }
  return value.toLowerCase();
}

/**
 * Parses a duration: a non-negative number of milliseconds, or a string such as `500ms`, `30s`,
 * `5m`, `1h30m`, `2d`. Returns milliseconds; throws `CcsInvalidInput` naming `field`.
 */
export function parseDuration(field: string, value: unknown): number {
  const fail = (): never => {
    throw invalidInput(
      `${field} must be a duration such as "30s", "5m", "1h30m" or a number of milliseconds; got ${preview(value)}`,
      field,
    );
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail();
    return value;
  }
  if (typeof value !== 'string') return fail();
  const text = value.trim();
  if (text === '' || text.length > 40) return fail();
  if (/^\d+$/.test(text)) return Number(text);
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(text); match; match = DURATION_PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? NaN);
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed !== text.length || !Number.isFinite(total)) fail();
  return total;
}

/** Formats milliseconds the way {@link parseDuration} reads them, e.g. 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
