/**
 * Maintenance windows of a CCS server: CCS application servers are patched and restarted on a
 * calendar. While a window is open every run on that server holds (no CCS request, no abort) and no
 * new run executes there; when it ends (by a person or its `until`), everything resumes by itself.
 * Pure: workflows import it.
 */
import { invalidInput, preview } from './validation';

export interface MaintenanceInput {
  reason?: string;
  /** ISO-8601 time the window ends by itself; absent: until `ccs-jobs maintenance end`. */
  until?: string;
  /** Who opened it (the CLI sends the user), for the record. */
  requestedBy?: string;
}

export interface MaintenanceStatus {
  ccs: string;
  state: 'open' | 'ended';
  reason: string | null;
  since: string;
  until: string | null;
  requestedBy: string | null;
  /** Runs signalled to pause / to resume so far. */
  paused: number;
  resumed: number;
  endedAt?: string;
  endedBy?: string;
}

/** What an open window asks of a run that checks it (the same fields as a `pause` signal). */
export interface MaintenanceWindowView {
  reason: string | null;
  until: string | null;
}

const MAX_TEXT = 500;
const MAX_WINDOW_MS = 31 * 86_400_000;

/** A checked maintenance input; throws `CcsInvalidInput` naming the field. */
export function checkedMaintenance(
  input: unknown,
  nowMs: number,
): { reason: string | null; until: string | null; requestedBy: string | null } {
  const given = (input ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given))
    throw invalidInput(
      `maintenance input must be an object like {"reason": "patching", "until": "2026-12-01T06:00:00Z"}; got ${preview(input)}`,
    );
  const text = (field: string): string | null => {
    const value = given[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw invalidInput(`maintenance ${field} must be text; got ${preview(value)}`);
    return value.slice(0, MAX_TEXT);
  };
  let until: string | null = null;
  if (given.until !== undefined && given.until !== null) {
    const at = typeof given.until === 'string' && given.until.length <= 40 ? Date.parse(given.until) : NaN;
    if (!Number.isFinite(at))
      throw invalidInput(`maintenance until must be an ISO-8601 time such as "2026-12-01T06:00:00Z"; got ${preview(given.until)}`);
    if (at <= nowMs) throw invalidInput(`maintenance until must be in the future; got ${preview(given.until)}`);
    if (at - nowMs > MAX_WINDOW_MS) throw invalidInput(`maintenance until must be within 31 days; got ${preview(given.until)}`);
    until = new Date(at).toISOString();
  }
  return { reason: text('reason'), until, requestedBy: text('requestedBy') };
}
