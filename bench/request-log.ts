/** The simulator's request log, by user (one per approach) and endpoint, and the times of status reads by job. */
import type { SimRequestEvent } from '../src/sim/server';

/** Counts of simulator requests by user and endpoint, and (when asked) the times of status reads by job. */
export class RequestLog {
  counts = new Map<string, Map<string, number>>();
  reads: Map<string, number[]> | undefined;
  /** When asked: the first abort request each run (by JobRunID) received. */
  aborts: Map<string, number> | undefined;

  onRequest = (e: SimRequestEvent): void => {
    const user = e.user ?? 'unknown';
    const row = this.counts.get(user) ?? new Map<string, number>();
    row.set(e.endpoint, (row.get(e.endpoint) ?? 0) + 1);
    this.counts.set(user, row);
    if (this.aborts && e.endpoint === 'abort' && e.id && !this.aborts.has(e.id)) this.aborts.set(e.id, e.at);
    if (this.reads && e.endpoint === 'jobruns' && e.status === 200 && e.id) {
      const list = this.reads.get(e.id);
      if (list) list.push(e.at);
      else this.reads.set(e.id, [e.at]);
    }
  };

  snapshot(user: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(user) ?? []);
  }
}

export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
}

export const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
