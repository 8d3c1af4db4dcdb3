/**
 * Strict readers for configuration values: each adds a one-line problem naming the variable (never
 * its secret value) and returns undefined or a safe default, so every problem is reported together.
 */
import { readFileSync } from 'node:fs';

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export type Env = Record<string, string | undefined>;

/** Reads `true`/`false` (any case, also 1/0, yes/no) strictly; anything else is a problem. */
export function parseBoolean(name: string, value: unknown, problems: string[]): boolean {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return false;
  if (typeof value === 'boolean') return value;
  const v = typeof value === 'string' || typeof value === 'number' ? String(value).trim().toLowerCase() : '';
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  problems.push(`${name} must be true or false; got ${JSON.stringify(value)}`);
  return false;
}

/** A positive number (integer when asked); undefined when unset. */
export function parsePositive(name: string, value: unknown, problems: string[], integer: boolean): number | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    problems.push(`${name} must be a positive ${integer ? 'whole number' : 'number'}; got ${JSON.stringify(value)}`);
    return undefined;
  }
  return n;
}

/** A password file's content without its trailing newline (editors and `echo` add one). */
export function readPassword(name: string, path: string, problems: string[]): string | undefined {
  return readFile(name, path, problems)?.replace(/\r?\n$/, '');
}

export function readFile(name: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** host:port, e.g. 0.0.0.0:9464. */
export function bindAddress(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const m = HOST_PORT.exec(value);
  if (!m || Number(m[2]) > 65535) problems.push(`${name} must be host:port, e.g. 0.0.0.0:9464; got ${JSON.stringify(value)}`);
  return value;
}
