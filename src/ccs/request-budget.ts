/**
 * The client-side request budget of one CCS server (CCS_REQUESTS_PER_SECOND, or this worker's share
 * of it): requests wait in line for evenly spaced turns instead of overrunning the server.
 */

/**
 * Spaces requests evenly at `perSecond` (a small burst allowed after a quiet spell): callers wait in
 * line for their turn, so a thousand runs polling at once queue here instead of overrunning the CCS
 * server. A turn is spaced from when the one before it was actually given, so a process that was
 * busy or descheduled does not send the turns it missed all at once when it wakes.
 */
export class RequestBudget {
  private nextSlot = 0;
  private gapMs = 0;
  private burstMs = 0;
  private readonly line: (() => void)[] = [];
  /** Callers served before `line`, in the order they came. */
  private readonly urgentLine: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    perSecond: number,
    private readonly burst?: number,
  ) {
    this.setRate(perSecond);
  }

  /**
   * Spaces the turns given from now on at `perSecond`: a worker's share of a deployment-wide budget
   * changes as workers come and go.
   */
  setRate(perSecond: number): void {
    this.gapMs = 1000 / perSecond;
    this.burstMs = this.gapMs * (this.burst ?? Math.max(1, Math.ceil(perSecond / 10)));
  }

  /**
   * Resolves at this caller's turn; rejects with the signal's reason (leaving the line) when it is
   * aborted first. An `urgent` caller goes ahead of every caller that is not (still at the budget's pace).
   */
  take(signal?: AbortSignal, urgent = false): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const now = performance.now();
    const slot = Math.max(this.nextSlot, now - this.burstMs + this.gapMs);
    if (this.line.length === 0 && this.urgentLine.length === 0 && slot <= now) {
      this.nextSlot = slot + this.gapMs;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const queue = urgent ? this.urgentLine : this.line;
      const onAbort = (): void => {
        queue.splice(queue.indexOf(turn), 1);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(turn);
      this.wake();
    });
  }

  /** One timer for the whole line: it gives the first caller its turn and sets itself for the next. */
  private wake(): void {
    if (this.timer || (this.line.length === 0 && this.urgentLine.length === 0)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const turn = this.urgentLine.shift() ?? this.line.shift();
        if (turn) {
          this.nextSlot = Math.max(this.nextSlot, performance.now()) + this.gapMs;
          turn();
        }
        this.wake();
      },
      Math.max(0, this.nextSlot - performance.now()),
    );
  }
}
