/**
 * The evidence chain and its JSON Lines sink (issue 19, part 1): sealed records, an edited or a
 * deleted record found by verify, anchored heads (the newest records removed, a chain rewritten),
 * archived months, one chain from concurrent writers, no second record for one key.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { GENESIS, MAX_BREAKS_LISTED, canonicalJson, parseAnchor, seal, verifyChain, verifyStream } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import { tempDir } from '../temp-dir';

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
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":2,"z":1}]},"b":1}',
    );
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

  it('an anchor finds the newest records removed (a shorter chain is valid in itself) and a rewritten chain', () => {
    const a = seal(content('a'), 1, GENESIS);
    const b = seal(content('b'), 2, a.hash);
    const c = seal(content('c'), 3, b.hash);
    const head = parseAnchor(`3:${c.hash.toUpperCase()}`);
    expect(head).toEqual({ seq: 3, hash: c.hash });
    expect(verifyChain([a, b]).broken).toBeNull();
    expect(verifyChain([a, b], [head]).broken).toMatchObject({
      position: 3,
      seq: 3,
      reason: 'anchor',
      detail: 'anchored record 3 is missing: the chain ends at record 2, so its newest 1 or more record(s) were removed',
    });
    expect(verifyChain([a, b, c], [head, { seq: 1, hash: a.hash }])).toMatchObject({ count: 3, broken: null });
    // Every record re-sealed from a changed first one: valid in itself, but not the anchored chain.
    const a2 = seal({ ...content('a'), status: 'Faulted' }, 1, GENESIS);
    const b2 = seal(content('b'), 2, a2.hash);
    const c2 = seal(content('c'), 3, b2.hash);
    expect(verifyChain([a2, b2, c2]).broken).toBeNull();
    expect(verifyChain([a2, b2, c2], [{ seq: 2, hash: b.hash }]).broken).toMatchObject({ position: 2, seq: 2, reason: 'anchor' });
    expect(() => parseAnchor('3:abc')).toThrow(/--anchor must be SEQ:HASH/);
    expect(() => parseAnchor(`0:${c.hash}`)).toThrow(/--anchor must be SEQ:HASH/);
  });

  it('walks a stream without holding it and names every break, each edit once', async () => {
    const records = [seal(content('a'), 1, GENESIS)];
    for (let i = 2; i <= 1000; i++) records.push(seal(content(`r${i}`), i, records.at(-1)!.hash));
    let read = 0;
    async function* stream(list: unknown[]): AsyncGenerator<unknown> {
      for (const r of list) {
        read++;
        yield await Promise.resolve(r);
      }
    }
    expect(await verifyStream(stream(records))).toMatchObject({ count: 1000, lastHash: records[999]!.hash, broken: null, breakCount: 0 });
    read = 0;
    // An edit at 10, a record removed before 500, an edit at 900 re-sealed (its link to 901 breaks).
    const broken: unknown[] = [...records];
    broken[9] = { ...records[9]!, status: 'Faulted' };
    broken[899] = seal({ ...content('r900'), status: 'Faulted' }, 900, records[898]!.hash);
    broken.splice(498, 1);
    const verdict = await verifyStream(stream(broken));
    expect(read).toBe(999);
    expect(verdict.breakCount).toBe(3);
    expect(verdict.breaks.map((b) => [b.seq, b.reason])).toEqual([
      [10, 'edited'],
      [500, 'missing before'],
      [901, 'out of order'],
    ]);
    expect(verdict.broken).toEqual(verdict.breaks[0]);
  });

  it('lists at most MAX_BREAKS_LISTED breaks and counts the rest', () => {
    const records = [seal(content('a'), 1, GENESIS)];
    for (let i = 2; i <= 300; i++) records.push(seal(content(`r${i}`), i, records.at(-1)!.hash));
    const everyOther = records.map((r, i) => (i % 2 === 1 ? { ...r, status: 'Faulted' } : r));
    const verdict = verifyChain(everyOther);
    expect(verdict.breakCount).toBe(150);
    expect(verdict.breaks).toHaveLength(MAX_BREAKS_LISTED);
  });
});

describe('JSON Lines sink', () => {
  it('appends across month files, verifies, and detects an edited and a deleted line', async () => {
    const dir = tempDir('ccs-evidence-');
    const sink = new JsonlEvidenceSink<Content>(dir);
    await sink.append(content('wf-1/run-1', '2026-10-31T23:59:00.000Z'));
    await sink.append(content('wf-2/run-1', '2026-11-01T00:01:00.000Z'));
    const third = await sink.append(content('wf-3/run-1', '2026-11-02T00:00:00.000Z'));
    expect(third).toMatchObject({ seq: 3, duplicate: false });
    expect((await sink.files()).map((f) => f.slice(dir.length + 1))).toEqual(['evidence-2026-10.jsonl', 'evidence-2026-11.jsonl']);
    expect(await sink.verify()).toMatchObject({ count: 3, lastHash: third.hash, broken: null });

    // October archived (moved away after a passing verify): the rest verifies after October's head.
    const first = JSON.parse(linesOf(join(dir, 'evidence-2026-10.jsonl'))[0]!) as { seq: number; hash: string };
    const archive = tempDir('ccs-evidence-archive-');
    renameSync(join(dir, 'evidence-2026-10.jsonl'), join(archive, 'evidence-2026-10.jsonl'));
    expect((await sink.verify()).broken).toMatchObject({ position: 1, seq: 2, reason: 'missing before' });
    expect(await sink.verify([], { seq: 1, hash: first.hash })).toMatchObject({ count: 2, lastSeq: 3, lastHash: third.hash, broken: null });
    const said = { out: '', err: '' };
    const verifyCli = (...args: string[]): Promise<number> =>
      main(
        ['evidence', 'verify', '--dir', dir, ...args],
        {},
        { write: (t) => void (said.out += t), isTTY: false },
        (t) => void (said.err += t),
      );
    expect(await verifyCli('--after', `1:${first.hash}`, '--anchor', `3:${third.hash}`)).toBe(0);
    expect(said.out).toBe(
      `evidence chain in ${dir} is intact: 2 record(s), head 3:${third.hash}, after archived record 1; 1 anchor(s) found\n`,
    );
    expect(await verifyCli('--after', `1:${third.hash}`)).toBe(2);
    expect(said.out).toMatch(
      /BROKEN: 1 break\(s\) in 2 record\(s\)\n {2}at position 1 \(out of order\): record 2 links to [0-9a-f]{12}…, not to the record before it/,
    );
    expect(await verifyCli('--after', `2:${first.hash}`, '--anchor', `1:${first.hash}`)).toBe(1);
    expect(said.err).toBe('ccs-jobs: --anchor 1 is in the archived part (up to --after 2): verify it against the archive\n');
    renameSync(join(archive, 'evidence-2026-10.jsonl'), join(dir, 'evidence-2026-10.jsonl'));

    const november = join(dir, 'evidence-2026-11.jsonl');
    const original = readFileSync(november, 'utf8');
    writeFileSync(november, original.replace('"status":"Completed"', '"status":"Faulted"'));
    expect((await sink.verify()).broken).toMatchObject({ position: 2, seq: 2, reason: 'edited' });
    // Delete record 2 (the month's first line), keeping record 3 as written.
    writeFileSync(november, `${original.split('\n')[1]}\n`);
    expect((await sink.verify()).broken).toMatchObject({ position: 2, seq: 3, reason: 'missing before' });
  });

  it('one chain from concurrent writers sharing the directory; a key is written once', async () => {
    const dir = tempDir('ccs-evidence-');
    const writers = [new JsonlEvidenceSink<Content>(dir), new JsonlEvidenceSink<Content>(dir), new JsonlEvidenceSink<Content>(dir)];
    await Promise.all(Array.from({ length: 60 }, (_, i) => writers[i % 3]!.append(content(`wf-${i}/run`))));
    const again = await writers[1]!.append(content('wf-7/run'));
    expect(again.duplicate).toBe(true);
    const verified = await writers[0]!.verify();
    expect(verified).toMatchObject({ count: 60, broken: null });
    expect(new Set(linesOf(join(dir, 'evidence-2026-11.jsonl')).map((l) => (JSON.parse(l) as Content).key)).size).toBe(60);
  });

  it('a key named inside another record (a nested "key", a message quoting it) is not that record', async () => {
    const sink = new JsonlEvidenceSink<Content & { note?: unknown }>(tempDir('ccs-evidence-'));
    await sink.append({ ...content('wf-1/run'), note: { key: 'wf-2/run' } });
    await sink.append({ ...content('wf-3/run'), note: 'CCS said "key":"wf-2/run"' });
    expect(await sink.append(content('wf-2/run'))).toMatchObject({ seq: 3, duplicate: false });
    expect(await sink.append(content('wf-2/run'))).toMatchObject({ seq: 3, duplicate: true });
    expect(await sink.append(content('wf-1/run'))).toMatchObject({ seq: 1, duplicate: true });
  });

  it('a line cut short by a crash does not stop later appends; verify skips and counts it', async () => {
    const dir = tempDir('ccs-evidence-');
    const sink = new JsonlEvidenceSink<Content>(dir);
    await sink.append(content('a'));
    const file = join(dir, 'evidence-2026-11.jsonl');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"key":"b","recor`);
    expect((await sink.append(content('c'))).seq).toBe(2);
    expect(linesOf(file)).toHaveLength(3);
    // The cut line is no record: skipped and counted; record 2 links to record 1 across it.
    expect(await sink.verify()).toMatchObject({ count: 2, broken: null, unreadable: 1, firstUnreadable: 2 });
    // A record replaced by text that is no record is not hidden by the skipping: the next link breaks.
    const lines = linesOf(file);
    await sink.append(content('d'));
    writeFileSync(file, `${[lines[0], lines[1], 'garbage', ...linesOf(file).slice(3)].join('\n')}\n`);
    expect((await sink.verify()).broken).toMatchObject({ seq: 3, reason: 'missing before' });
  });
});
