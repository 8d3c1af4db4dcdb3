/** `--until` for pause and maintenance: a duration from now, or an ISO time. */
import { parseDuration } from '../domain/validation';
import { CliError } from './output';

const HINT = 'a duration such as 2h or an ISO time such as 2026-12-01T06:00:00Z';

/** `--until` as an ISO time: a duration from `nowMs`, or an ISO time as given. Throws `CliError`. */
export function untilFrom(text: string | undefined, nowMs = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (!Number.isFinite(at)) throw new CliError(`--until must be ${HINT}; got ${JSON.stringify(text)}`);
    return new Date(at).toISOString();
  }
  try {
    return new Date(nowMs + parseDuration('--until', trimmed)).toISOString();
  } catch {
    throw new CliError(`--until must be ${HINT}; got ${JSON.stringify(text)}`);
  }
}
