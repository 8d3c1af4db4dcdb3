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
  reason: 'edited' | 'missing before' | 'out of order' | 'unreadable';
  detail: string;
}

/** Walks records in order: each must hash to its `hash`, link to the previous `hash`, and count on by one. */
export function verifyChain(records: Iterable<unknown>): { count: number; lastHash: string; broken: ChainBreak | null } {
  let previous = GENESIS;
  let expectedSeq = 1;
  let count = 0;
  for (const value of records) {
    count++;
    const record = value as Partial<Chained> & Record<string, unknown>;
    if (typeof record !== 'object' || record === null || typeof record.hash !== 'string' || typeof record.prevHash !== 'string' || typeof record.seq !== 'number') {
      return { count, lastHash: previous, broken: { position: count, seq: null, reason: 'unreadable', detail: 'not a sealed evidence record' } };
    }
    const { hash, ...unsealed } = record;
    if (sha256(canonicalJson(unsealed)) !== hash) {
      return { count, lastHash: previous, broken: { position: count, seq: record.seq, reason: 'edited', detail: `record ${record.seq} does not hash to its hash ${hash.slice(0, 12)}…: its content was changed` } };
    }
    if (record.prevHash !== previous) {
      const reason = record.seq > expectedSeq ? 'missing before' : 'out of order';
      return { count, lastHash: previous, broken: { position: count, seq: record.seq, reason, detail: `record ${record.seq} links to ${record.prevHash.slice(0, 12)}…, not to the record before it (${previous.slice(0, 12)}…)${reason === 'missing before' ? `: ${record.seq - expectedSeq} record(s) removed before it` : ''}` } };
    }
    if (record.seq !== expectedSeq) {
      return { count, lastHash: previous, broken: { position: count, seq: record.seq, reason: 'out of order', detail: `record numbered ${record.seq} where ${expectedSeq} was expected` } };
    }
    previous = hash;
    expectedSeq++;
  }
  return { count, lastHash: previous, broken: null };
}
