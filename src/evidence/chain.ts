/**
 * The evidence chain: each record carries the SHA-256 of the previous record, so a record removed
 * from, or edited in, the middle of the sink is detectable by walking the chain (`verify`). Records
 * are hashed in a canonical JSON form (keys sorted at every depth, no spacing), the same whichever
 * sink stores them.
 */
import { createHash } from 'node:crypto';

/** The `prevHash` of the first record of a chain. */
export const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one text per value, whatever order it was built in. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What a chained record carries besides its content. */
export interface Chained {
  /** Position in the chain, 1 for the first record. */
  seq: number;
  prevHash: string;
  /** SHA-256 of the record's canonical form without `hash`. */
  hash: string;
}

/** The record with its place in the chain and its own hash. */
export function seal<T extends object>(content: T, seq: number, prevHash: string): T & Chained {
  const unsealed = { ...content, seq, prevHash };
  return { ...unsealed, hash: sha256(canonicalJson(unsealed)) };
}

/** The first break in a chain, or null when every record is intact and linked to the one before. */
export interface ChainBreak {
  /** 1-based position in what was read (not the record's own `seq`, which may be the forged part). */
  position: number;
  seq: number | null;
  reason: 'edited' | 'missing before' | 'out of order' | 'anchor';
  detail: string;
}

/**
 * A record's place and hash written down outside the sink (a ticket, another system): removing the
 * newest records leaves a shorter chain that is valid in itself, which only an anchor can show.
 */
export interface Anchor {
  seq: number;
  hash: string;
}

/** `SEQ:HASH` as `verify` prints the head, e.g. `42:3f9a…` (the full 64 hex digits). */
export function parseAnchor(text: string, flag = '--anchor'): Anchor {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/i.exec(text.trim());
  if (!match || Number(match[1]) < 1)
    throw new Error(
      `${flag} must be SEQ:HASH as verify prints the head (e.g. 42:<64 hex digits>); got ${JSON.stringify(text.slice(0, 100))}`,
    );
  return { seq: Number(match[1]), hash: match[2]!.toLowerCase() };
}

/** The outcome of walking a chain: how many records were read, the head's hash, the first break. */
export interface ChainVerdict {
  /** Records walked (unreadable lines not counted). */
  count: number;
  /** The head: the last intact record's seq and hash (0 and GENESIS for an empty chain). */
  lastSeq: number;
  lastHash: string;
  broken: ChainBreak | null;
  /**
   * Lines that are no sealed record (a write cut short by a crash, stray text), skipped: they hide
   * nothing, since a record replaced by one breaks the next record's link. `firstUnreadable` is the
   * 1-based position of the first in what was read.
   */
  unreadable: number;
  firstUnreadable: number | null;
}

/**
 * Walks a chain one record at a time, oldest first, holding only the previous hash: each record must
 * hash to its `hash`, link to the previous `hash` and count on by one; each anchor's record must be
 * there with the anchored hash. Memory stays flat however long the chain (12 months and more).
 */
export class ChainWalker {
  private readonly anchored: Map<number, string>;
  private previous = GENESIS;
  private expectedSeq = 1;
  private position = 0;
  private count = 0;
  private unreadable = 0;
  private firstUnreadable: number | null = null;
  private broken: ChainBreak | null = null;

  /**
   * `after`: the head of records archived elsewhere (verified there); the walk starts at the record
   * that follows it instead of at the chain's first.
   */
  constructor(
    private readonly anchors: readonly Anchor[] = [],
    after?: Anchor,
  ) {
    this.anchored = new Map(anchors.map((a) => [a.seq, a.hash]));
    if (after) {
      this.previous = after.hash;
      this.expectedSeq = after.seq + 1;
    }
  }

  /** Takes the next record; false once the chain is broken (later records need not be read). */
  add(value: unknown): boolean {
    if (this.broken) return false;
    this.position++;
    const record = value as Partial<Chained> & Record<string, unknown>;
    if (
      typeof record !== 'object' ||
      record === null ||
      typeof record.hash !== 'string' ||
      typeof record.prevHash !== 'string' ||
      typeof record.seq !== 'number'
    ) {
      this.unreadable++;
      this.firstUnreadable ??= this.position;
      return true;
    }
    this.count++;
    this.broken = this.check(record as Chained & Record<string, unknown>);
    return this.broken === null;
  }

  private check(record: Chained & Record<string, unknown>): ChainBreak | null {
    const position = this.position;
    const { hash, ...unsealed } = record;
    if (sha256(canonicalJson(unsealed)) !== hash) {
      return {
        position,
        seq: record.seq,
        reason: 'edited',
        detail: `record ${record.seq} does not hash to its hash ${hash.slice(0, 12)}…: its content was changed`,
      };
    }
    if (record.prevHash !== this.previous) {
      const reason = record.seq > this.expectedSeq ? 'missing before' : 'out of order';
      return {
        position,
        seq: record.seq,
        reason,
        detail: `record ${record.seq} links to ${record.prevHash.slice(0, 12)}…, not to the record before it (${this.previous.slice(0, 12)}…)${reason === 'missing before' ? `: ${record.seq - this.expectedSeq} record(s) removed before it` : ''}`,
      };
    }
    if (record.seq !== this.expectedSeq) {
      return {
        position,
        seq: record.seq,
        reason: 'out of order',
        detail: `record numbered ${record.seq} where ${this.expectedSeq} was expected`,
      };
    }
    const anchor = this.anchored.get(record.seq);
    if (anchor !== undefined && anchor !== hash) {
      return {
        position,
        seq: record.seq,
        reason: 'anchor',
        detail: `record ${record.seq} hashes to ${hash.slice(0, 12)}…, not to the anchored ${anchor.slice(0, 12)}…: the chain was rewritten up to this record`,
      };
    }
    this.previous = hash;
    this.expectedSeq++;
    return null;
  }

  /** The verdict; an anchor beyond the last record read means the newest records were removed. */
  finish(): ChainVerdict {
    if (!this.broken) {
      const beyond = this.anchors.filter((a) => a.seq >= this.expectedSeq).sort((a, b) => a.seq - b.seq)[0];
      if (beyond) {
        const last = this.expectedSeq - 1;
        this.broken = {
          position: this.position + 1,
          seq: beyond.seq,
          reason: 'anchor',
          detail: `anchored record ${beyond.seq} is missing: the chain ends at record ${last}, so its newest ${beyond.seq - last} or more record(s) were removed`,
        };
      }
    }
    return {
      count: this.count,
      lastSeq: this.expectedSeq - 1,
      lastHash: this.previous,
      broken: this.broken,
      unreadable: this.unreadable,
      firstUnreadable: this.firstUnreadable,
    };
  }
}

/** Walks records in order (see ChainWalker). */
export function verifyChain(records: Iterable<unknown>, anchors: readonly Anchor[] = [], after?: Anchor): ChainVerdict {
  const walker = new ChainWalker(anchors, after);
  for (const record of records) if (!walker.add(record)) break;
  return walker.finish();
}

/** Walks records as a sink yields them, without holding them (see ChainWalker). */
export async function verifyStream(
  records: AsyncIterable<unknown>,
  anchors: readonly Anchor[] = [],
  after?: Anchor,
): Promise<ChainVerdict> {
  const walker = new ChainWalker(anchors, after);
  for await (const record of records) if (!walker.add(record)) break;
  return walker.finish();
}
