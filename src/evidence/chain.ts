/**
 * The evidence chain: each record carries the SHA-256 of the previous record, so a record removed
 * from, or edited in, the middle of the sink is detectable by walking the chain (`verify`). Records
 * are hashed in a canonical JSON form (keys sorted at every depth, no spacing), the same whichever
 * sink stores them.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { signatureProblem, type EvidenceSigner, type Signed } from './signing';

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
export interface Chained extends Signed {
  /** Position in the chain, 1 for the first record. */
  seq: number;
  prevHash: string;
  /** SHA-256 of the record's canonical form without `hash` and `signature` (`signedBy` included). */
  hash: string;
}

/** The part of a record its hash covers: all but `hash` and `signature`. */
function hashed(record: Record<string, unknown>): string {
  const { hash: _hash, signature: _signature, ...unsealed } = record;
  return sha256(canonicalJson(unsealed));
}

/** The record with its place in the chain and its own hash, signed when a signer is given. */
export function seal<T extends object>(content: T, seq: number, prevHash: string, signer?: EvidenceSigner): T & Chained {
  const signedBy = signer?.keyId();
  const unsealed = { ...content, seq, prevHash, ...(signedBy === undefined ? {} : { signedBy }) };
  const hash = hashed(unsealed);
  return { ...unsealed, hash, ...(signer && signedBy !== undefined ? { signature: signer.sign(hash, signedBy) } : {}) };
}

/** A break in a chain: a record edited, removed, reordered, unsigned or signed by a key not given. */
export interface ChainBreak {
  /** 1-based position in what was read (not the record's own `seq`, which may be the forged part). */
  position: number;
  seq: number | null;
  reason: 'edited' | 'missing before' | 'out of order' | 'anchor' | 'signature';
  detail: string;
}

/** Breaks listed in a verdict; more are counted (`breakCount`), so memory stays bounded on a chain rewritten whole. */
export const MAX_BREAKS_LISTED = 100;

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

/** The outcome of walking a chain: how many records were read, the head's hash, every break. */
export interface ChainVerdict {
  /** Records walked (unreadable lines not counted). */
  count: number;
  /** The head: the last record's seq and hash (0 and GENESIS for an empty chain). */
  lastSeq: number;
  lastHash: string;
  /** The first break, null when the chain is intact. */
  broken: ChainBreak | null;
  /** The breaks found, oldest first, up to MAX_BREAKS_LISTED. */
  breaks: ChainBreak[];
  /** Every break found, listed or not. */
  breakCount: number;
  /** Records whose signature was checked and holds (0 when no public key was given). */
  signed: number;
  /**
   * Lines that are no sealed record (a write cut short by a crash, stray text), skipped: they hide
   * nothing, since a record replaced by one breaks the next record's link. `firstUnreadable` is the
   * 1-based position of the first in what was read.
   */
  unreadable: number;
  firstUnreadable: number | null;
}

/** What a walk checks besides the links: anchored heads, archived records before it, signatures. */
export interface VerifyOptions {
  anchors?: readonly Anchor[];
  /** The head of records archived elsewhere (verified there): the walk starts at the record after it. */
  after?: Anchor | undefined;
  /** Public keys by id: given, every record must be signed by one of them. */
  keys?: ReadonlyMap<string, KeyObject> | undefined;
}

/**
 * Walks a chain one record at a time, oldest first, holding only the previous hash: each record must
 * hash to its `hash`, link to the previous `hash` and count on by one; each anchor's record must be
 * there with the anchored hash; with keys, each record must carry a valid signature by one of them.
 * After a break the walk goes on from the record as it stands, so each later break is named too and
 * one edit is reported once. Memory stays flat however long the chain (12 months and more).
 */
export class ChainWalker {
  private readonly anchors: readonly Anchor[];
  private readonly anchored: Map<number, string>;
  private readonly keys: ReadonlyMap<string, KeyObject> | undefined;
  private previous = GENESIS;
  private expectedSeq = 1;
  private lastSeq = 0;
  private position = 0;
  private count = 0;
  private signed = 0;
  private unreadable = 0;
  private firstUnreadable: number | null = null;
  private readonly breaks: ChainBreak[] = [];
  private breakCount = 0;

  constructor(options: VerifyOptions = {}) {
    this.anchors = options.anchors ?? [];
    this.anchored = new Map(this.anchors.map((a) => [a.seq, a.hash]));
    this.keys = options.keys;
    if (options.after) {
      this.previous = options.after.hash;
      this.expectedSeq = options.after.seq + 1;
      this.lastSeq = options.after.seq;
    }
  }

  /** Takes the next record. */
  add(value: unknown): void {
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
      return;
    }
    this.count++;
    for (const found of this.check(record as Chained & Record<string, unknown>)) this.found(found);
    // Go on from the record as it stands: the next one is checked against what is stored.
    this.previous = record.hash;
    this.expectedSeq = record.seq + 1;
    this.lastSeq = record.seq;
  }

  private found(b: ChainBreak): void {
    this.breakCount++;
    if (this.breaks.length < MAX_BREAKS_LISTED) this.breaks.push(b);
  }

  private check(record: Chained & Record<string, unknown>): ChainBreak[] {
    const position = this.position;
    const { hash } = record;
    const at = (reason: ChainBreak['reason'], detail: string): ChainBreak => ({ position, seq: record.seq, reason, detail });
    const out: ChainBreak[] = [];
    if (hashed(record) !== hash)
      out.push(at('edited', `record ${record.seq} does not hash to its hash ${hash.slice(0, 12)}…: its content was changed`));
    if (record.prevHash !== this.previous) {
      const reason = record.seq > this.expectedSeq ? 'missing before' : 'out of order';
      out.push(
        at(
          reason,
          `record ${record.seq} links to ${record.prevHash.slice(0, 12)}…, not to the record before it (${this.previous.slice(0, 12)}…)${reason === 'missing before' ? `: ${record.seq - this.expectedSeq} record(s) removed before it` : ''}`,
        ),
      );
    } else if (record.seq !== this.expectedSeq) {
      out.push(at('out of order', `record numbered ${record.seq} where ${this.expectedSeq} was expected`));
    }
    const anchor = this.anchored.get(record.seq);
    if (anchor !== undefined && anchor !== hash) {
      out.push(
        at(
          'anchor',
          `record ${record.seq} hashes to ${hash.slice(0, 12)}…, not to the anchored ${anchor.slice(0, 12)}…: the chain was rewritten up to this record`,
        ),
      );
    }
    if (this.keys) {
      const problem = signatureProblem(record, this.keys);
      if (problem === null) this.signed++;
      else out.push(at('signature', `record ${record.seq}: ${problem}`));
    }
    return out;
  }

  /** The verdict; an anchor beyond the last record read means the newest records were removed. */
  finish(): ChainVerdict {
    const beyond = this.anchors.filter((a) => a.seq > this.lastSeq).sort((a, b) => a.seq - b.seq)[0];
    if (beyond) {
      const last = this.lastSeq;
      this.found({
        position: this.position + 1,
        seq: beyond.seq,
        reason: 'anchor',
        detail: `anchored record ${beyond.seq} is missing: the chain ends at record ${last}, so its newest ${beyond.seq - last} or more record(s) were removed`,
      });
    }
    return {
      count: this.count,
      lastSeq: this.lastSeq,
      lastHash: this.previous,
      broken: this.breaks[0] ?? null,
      breaks: [...this.breaks],
      breakCount: this.breakCount,
      signed: this.signed,
      unreadable: this.unreadable,
      firstUnreadable: this.firstUnreadable,
    };
  }
}

/** Walks records in order (see ChainWalker). */
export function verifyChain(
  records: Iterable<unknown>,
  anchors: readonly Anchor[] = [],
  after?: Anchor,
  keys?: VerifyOptions['keys'],
): ChainVerdict {
  const walker = new ChainWalker({ anchors, after, keys });
  for (const record of records) walker.add(record);
  return walker.finish();
}

/** Walks records as a sink yields them, without holding them (see ChainWalker). */
export async function verifyStream(
  records: AsyncIterable<unknown>,
  anchors: readonly Anchor[] = [],
  after?: Anchor,
  keys?: VerifyOptions['keys'],
): Promise<ChainVerdict> {
  const walker = new ChainWalker({ anchors, after, keys });
  for await (const record of records) walker.add(record);
  return walker.finish();
}
