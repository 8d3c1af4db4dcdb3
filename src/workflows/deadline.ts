/**
 * A workflow's deadline (its `timeout`), which a pause may hold: while a pause that holds it is in
 * effect the clock stops, and the deadline moves by the paused time when the pause ends. Shared by
 * `runCcsJob` and `runCcsPipeline`. Workflow code: deterministic, no I/O.
 */
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

export class Deadline {
  /**
   * @param at epoch milliseconds of the deadline, or null for none; a continuation passes the one
   *   its predecessor handed over, so the deadline is the same whatever the number of executions
   */
  constructor(private current: number | null) {}

  /** Epoch milliseconds of the deadline, or null for none. */
  get at(): number | null {
    return this.current;
  }

  /** Moves the deadline later by `ms` (the time a pause that held it lasted). */
  extend(ms: number): void {
    if (this.current !== null) this.current += Math.max(0, ms);
  }

  /**
   * Calls `onPassed` once the deadline passes (never without one). The timer runs outside the root
   * scope, so a native cancellation does not cancel the deadline itself; while `held()` is true the
   * deadline does not pass, and once it is no longer held the timer is armed again for the rest.
   */
  arm(held: () => boolean, onPassed: () => void): void {
    if (this.current === null) return;
    void CancellationScope.nonCancellable(async () => {
      for (;;) {
        const target = this.current!;
        await sleep(Math.max(1, target - Date.now()));
        if (held()) {
          await condition(() => !held());
          continue;
        }
        if (this.current === target) return;
      }
    }).then(onPassed);
  }
}
