/**
 * Pause and resume, shared by `runCcsJob` and `runCcsPipeline`: the pause in effect, the `pause` and
 * `resume` signals' effect on it, the `CcsPaused` search attribute, and the holdable deadline. What a
 * pause means to each workflow (no CCS request; no new job) is the workflow's own: it asks `hold()`
 * where it must not go on. Workflow code: deterministic, no I/O.
 */
import { condition, upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute, type PauseState } from '../domain/contract';
import { pauseFrom } from '../domain/pause';
import type { Deadline } from './deadline';

/** A maintenance pause looks again this often, so it ends even if the window's own resume missed it. */
export const MAINTENANCE_RECHECK_MS = 60_000;
/** Longest resume reason kept from a signal. */
const MAX_REASON = 500;

/** What a workflow does around a pause: whether it takes one, and what it tells (logs, children). */
export interface PauseHooks {
  /** False once the workflow no longer takes a pause (it finished, or a cancel was accepted). */
  accepting: () => boolean;
  /** Told after a pause began or changed; `was` is the pause it replaced. */
  onPause: (pause: PauseState, was: PauseState | undefined) => void;
  /** Told after the pause ended, and why. */
  onResume: (was: PauseState, why: string) => void;
  /** Told of a `pause` signal whose input was refused (a signal cannot be refused to its sender). */
  onIgnored: (message: string) => void;
}

/** The reason a `resume` signal gives, bounded. */
export function resumeReason(arg: unknown): string {
  const reason = (arg as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason.slice(0, MAX_REASON) : 'resume signal';
}

export class PauseControl {
  private current: PauseState | undefined;
  private trigger!: Promise<void>;
  private announce: () => void = () => undefined;

  /** `carried`: the pause a continuation inherits from its predecessor (in effect from the start). */
  constructor(
    private readonly deadline: Deadline,
    private readonly hooks: PauseHooks,
    carried?: PauseState,
  ) {
    this.rearm();
    this.current = carried;
    if (carried) this.announce();
  }

  /** The pause in effect, if any. */
  get state(): PauseState | undefined {
    return this.current;
  }

  /** Settles once a pause is requested (at once while one is in effect); a fresh promise after each resume. */
  get requested(): Promise<void> {
    return this.trigger;
  }

  /** True while a pause that holds the deadline is in effect. */
  holdsDeadline(): boolean {
    return this.current?.holdDeadline === true;
  }

  /** The `pause` signal (or a maintenance window found open): a bad input is reported to `onIgnored` and changes nothing. */
  request(arg: unknown): void {
    if (!this.hooks.accepting()) return;
    let next: PauseState;
    try {
      next = pauseFrom(arg, Date.now());
    } catch (err) {
      this.hooks.onIgnored((err as Error).message);
      return;
    }
    const was = this.current;
    this.current = was ? { ...next, since: was.since } : next;
    if (was?.by !== next.by) upsertSearchAttributes([{ key: SearchAttribute.paused, value: next.by }]);
    this.hooks.onPause(this.current, was);
    this.announce();
  }

  /** Ends the pause (a `resume` signal, its `until` passed, its window closed); a held deadline moves by the paused time. */
  end(why: string): void {
    const was = this.current;
    if (!was) return;
    if (was.holdDeadline) this.deadline.extend(Date.now() - Date.parse(was.since));
    this.current = undefined;
    this.rearm();
    upsertSearchAttributes([{ key: SearchAttribute.paused, value: null }]);
    this.hooks.onResume(was, why);
  }

  /**
   * Returns once no pause is in effect (resumed, or its `until` passed) or at once when `stop()` is
   * true (a cancel). With `windowClosed`, a pause by maintenance also ends when that look, made every
   * {@link MAINTENANCE_RECHECK_MS}, finds the server's window closed.
   */
  async hold(stop: () => boolean, windowClosed?: () => Promise<boolean>): Promise<void> {
    while (this.current && !stop()) {
      const pause = this.current;
      const untilAt = pause.until === null ? Infinity : Date.parse(pause.until);
      const recheck = pause.by === 'maintenance' && windowClosed !== undefined;
      const waitMs = Math.min(untilAt - Date.now(), recheck ? MAINTENANCE_RECHECK_MS : Infinity);
      const woken = (): boolean => this.current !== pause || stop();
      const changed = waitMs === Infinity ? await condition(woken).then(() => true) : await condition(woken, Math.max(1, waitMs));
      if (changed) continue;
      if (Date.now() >= untilAt) this.end(`until ${pause.until} passed`);
      else if (recheck && (await windowClosed()) && this.current === pause) this.end('maintenance window ended');
    }
  }

  private rearm(): void {
    this.trigger = new Promise<void>((resolve) => (this.announce = resolve));
  }
}
