/**
 * Holding a run without aborting it: what the `pause` signal carries and the state it leaves. A
 * paused run sends nothing to CCS until it is resumed (or its `until` passes); a cancel still aborts
 * it. Pure: workflows import it.
 */
import { invalidInput, preview } from './validation';

export interface PauseInput {
  /** Why (shown by `status`, logged): "CCS patching, CHG0012345". At most 500 characters. */
  reason?: string;
  /** When the pause ends by itself, an ISO-8601 time ("2026-12-01T06:00:00Z"); absent: until `resume`. */
  until?: string;
  /** Stop the `timeout` clock while paused (default false: deadlines keep counting). */
  holdDeadline?: boolean;
  /** Who paused: a person's signal (default) or a maintenance window of the run's CCS server. */
  by?: 'signal' | 'maintenance';
}

export type ResumeInput = { reason?: string } | undefined;

export interface PauseState {
  reason: string | null;
  by: 'signal' | 'maintenance';
  since: string;
  /** ISO time the pause ends by itself, or null. */
  until: string | null;
  holdDeadline: boolean;
}

const MAX_REASON = 500;
/** A pause ends by itself within a year at most (inputs are bounded everywhere). */
const MAX_PAUSE_MS = 366 * 86_400_000;

/** The pause a signal asks for, at `nowMs`; throws `CcsInvalidInput` naming the field. */
export function pauseFrom(input: unknown, nowMs: number): PauseState {
  const given = (input ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || Array.isArray(given))
    throw invalidInput(
      `pause input must be an object like {"reason": "CCS patching", "until": "2026-12-01T06:00:00Z"}; got ${preview(input)}`,
    );
  const unknown = Object.keys(given).filter((k) => !['reason', 'until', 'holdDeadline', 'by'].includes(k));
  if (unknown.length > 0)
    throw invalidInput(`unknown field ${preview(unknown[0])} in pause input; allowed: reason, until, holdDeadline, by`);
  const { reason, until, holdDeadline, by } = given;
  if (reason !== undefined && typeof reason !== 'string') throw invalidInput(`pause reason must be text; got ${preview(reason)}`);
  if (holdDeadline !== undefined && typeof holdDeadline !== 'boolean')
    throw invalidInput(`pause holdDeadline must be true or false; got ${preview(holdDeadline)}`);
  if (by !== undefined && by !== 'signal' && by !== 'maintenance')
    throw invalidInput(`pause by must be "signal" or "maintenance"; got ${preview(by)}`);
  let untilIso: string | null = null;
  if (until !== undefined && until !== null) {
    const at = typeof until === 'string' && until.length <= 40 ? Date.parse(until) : NaN;
    if (!Number.isFinite(at))
      throw invalidInput(`pause until must be an ISO-8601 time such as "2026-12-01T06:00:00Z"; got ${preview(until)}`);
    if (at - nowMs > MAX_PAUSE_MS) throw invalidInput(`pause until must be within a year; got ${preview(until)}`);
    untilIso = new Date(at).toISOString();
  }
  return {
    reason: reason === undefined ? null : reason.slice(0, MAX_REASON),
    by: by ?? 'signal',
    since: new Date(nowMs).toISOString(),
    until: untilIso,
    holdDeadline: holdDeadline ?? false,
  };
}
