/**
 * The run's messages as they arrive (`liveMessagesEvery`): the total CCS listed and the newest
 * {@link LIVE_KEPT}, numbered in CCS's order, for the `status` query and the next execution.
 * Workflow code: deterministic, no I/O.
 */
import { log } from '@temporalio/workflow';
import type { LiveMessages, LiveMessagesWatch } from '../domain/activities';
import type { LiveMessage, RunCcsJobResume } from '../domain/contract';

/** Messages kept in the workflow's state (the newest): bounded whatever the run emits. */
export const LIVE_KEPT = 50;

export class LiveMessageLog {
  private total: number;
  private recent: LiveMessage[];

  /** `every`: the input's liveMessagesEvery (0: messages only at the end); `carried`: a predecessor's. */
  constructor(
    private readonly every: number,
    carried: RunCcsJobResume['messages'],
  ) {
    this.total = carried?.total ?? 0;
    this.recent = carried?.recent.slice(-LIVE_KEPT) ?? [];
  }

  /** What a wait is told: which messages are known and how often to ask; undefined when live messages are off. */
  watch(pollsBefore: number): LiveMessagesWatch | undefined {
    return this.every > 0 ? { known: this.total, every: this.every, pollsBefore } : undefined;
  }

  /** Numbers the new messages as CCS listed them and keeps the newest LIVE_KEPT. */
  learn(live: LiveMessages | undefined, context: Record<string, unknown>): void {
    if (!live || live.total <= this.total) return;
    const first = live.total - live.fresh.length + 1;
    const numbered = live.fresh.map((m, i) => ({ seq: first + i, time: m.time, text: m.text })).filter((m) => m.seq > this.total);
    this.recent = [...this.recent, ...numbered].slice(-LIVE_KEPT);
    this.total = live.total;
    log.info('CCS run messages', { ...context, total: live.total, newest: numbered.at(-1)?.text });
  }

  /** The `status` query's part: the count, and the kept messages after sequence number `since`. */
  view(since: number): { messageCount: number; messages: LiveMessage[] } | Record<string, never> {
    return this.total > 0 ? { messageCount: this.total, messages: this.recent.filter((m) => m.seq > since) } : {};
  }

  /** What a continuation inherits; undefined before the first message. */
  handover(): RunCcsJobResume['messages'] {
    return this.total > 0 ? { total: this.total, recent: this.recent } : undefined;
  }
}
