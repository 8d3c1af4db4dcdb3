/**
 * The evidence chain and its JSON Lines sink (issue 19, part 1): sealed records, an edited or a
 * deleted record found by verify, one chain from concurrent writers, no second record for one key.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS, canonicalJson, seal, verifyChain } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';

interface Content {
  key: string;
  recordedAt: string;
  status: string;
}

const content = (key: string, recordedAt = '2026-11-28T10:00:00.000Z'): Content => ({ key, recordedAt, status: 'Completed' });

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('evidence chain', () => {
  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":2,"z":1}]},"b":1}');
  });

  it('sealed records verify; an edit, a removal and a reorder are each named', () => {
    const a = seal(content('a'), 1, GENESIS);
    const b = seal(content('b'), 2, a.hash);
    const c = seal(content('c'), 3, b.hash);
    expect(verifyChain([a, b, c])).toMatchObject({ count: 3, lastHash: c.hash, broken: null });
    expect(verifyChain([a, { ...b, status: 'Faulted' }, c]).broken).toMatchObject({ position: 2, seq: 2, reason: 'edited' });
    expect(verifyChain([a, c]).broken).toMatchObject({ position: 2, seq: 3, reason: 'missing before' });
    expect(verifyChain([b, a]).broken).toMatchObject({ position: 1, seq: 2, reason: 'missing before' });
    // An edit that also recomputes the record's own hash still breaks the link to the next one.
    const forged = seal({ ...content('b'), status: 'Faulted' }, 2, a.hash);
    expect(verifyChain([a, forged, c]).broken).toMatchObject({ position: 3, seq: 3 });
  });
});

describe('JSON Lines sink', () => {
  it('appends across month files, verifies, and detects an edited and a deleted line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-evidence-'));
    const sink = new JsonlEvidenceSink<Content>(dir);
    await sink.append(content('wf-1/run-1', '2026-10-31T23:59:00.000Z'));
    await sink.append(content('wf-2/run-1', '2026-11-01T00:01:00.000Z'));
    const third = await sink.append(content('wf-3/run-1', '2026-11-02T00:00:00.000Z'));
    expect(third).toMatchObject({ seq: 3, duplicate: false });
    expect((await sink.files()).map((f) => f.slice(dir.length + 1))).toEqual(['evidence-2026-10.jsonl', 'evidence-2026-11.jsonl']);
    expect(await sink.verify()).toMatchObject({ count: 3, lastHash: third.hash, broken: null });

    const november = join(dir, 'evidence-2026-11.jsonl');
    const original = readFileSync(november, 'utf8');
    writeFileSync(november, original.replace('"status":"Completed"', '"status":"Faulted"'));
    expect((await sink.verify()).broken).toMatchObject({ position: 2, seq: 2, reason: 'edited' });
    // Delete record 2 (the month's first line), keeping record 3 as written.
    writeFileSync(november, `${original.split('\n')[1]}\n`);
    expect((await sink.verify()).broken).toMatchObject({ position: 2, seq: 3, reason: 'missing before' });
  });

  it('one chain from concurrent writers sharing the directory; a key is written once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-evidence-'));
    const writers = [new JsonlEvidenceSink<Content>(dir), new JsonlEvidenceSink<Content>(dir), new JsonlEvidenceSink<Content>(dir)];
    await Promise.all(Array.from({ length: 60 }, (_, i) => writers[i % 3]!.append(content(`wf-${i}/run`))));
    const again = await writers[1]!.append(content('wf-7/run'));
    expect(again.duplicate).toBe(true);
    const verified = await writers[0]!.verify();
    expect(verified).toMatchObject({ count: 60, broken: null });
    expect(new Set(linesOf(join(dir, 'evidence-2026-11.jsonl')).map((l) => (JSON.parse(l) as Content).key)).size).toBe(60);
  });

  it('a line cut short by a crash does not stop later appends; verify reports it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccs-evidence-'));
    const sink = new JsonlEvidenceSink<Content>(dir);
    await sink.append(content('a'));
    const file = join(dir, 'evidence-2026-11.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"key":"b","recor`);
    expect((await sink.append(content('c'))).seq).toBe(2);
    expect(linesOf(file)).toHaveLength(3);
    expect((await sink.verify()).broken).toMatchObject({ position: 2, reason: 'unreadable' });
  });
});
