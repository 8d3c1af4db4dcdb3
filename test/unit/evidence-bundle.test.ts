/**
 * Evidence bundles (issue 31): a ZIP of the chain's recent records that an auditor verifies offline.
 * A bundle verifies intact with nothing else, unzip-style readers (Python's zipfile) read it, and
 * each tampering is caught and named: a record edited, removed or cut from the end, a blob swapped,
 * a file added, unsafe or duplicate entry names, a CRC mismatch. A manifest re-made by whoever holds
 * the bundle is caught only with the public keys, through manifest.sig.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { appendFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, verifyBundle, writeBundle, type BundleManifest } from '../../src/evidence/bundle';
import { MAX_ZIP_BYTES, MAX_ZIP_ENTRIES, ZipWriter, readZipDirectory, readZipEntry } from '../../src/evidence/zip';
import { GENESIS, seal, type Chained } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import { fileSigner, generateSigningKey, keyIdOf, keySigner, publicKeysById, type EvidenceSigner } from '../../src/evidence/signing';
import { tempDir } from '../temp-dir';
import { python } from '../trestle';

interface Content {
  key: string;
  recordedAt: string;
  status: string;
}

type Sealed = Content & Chained;

const HOUR = 3_600_000;
const START = Date.parse('2026-10-01T00:00:00.000Z');
const NOW = Date.parse('2026-12-01T00:00:00.000Z');

const content = (i: number, recordedAt = new Date(START + i * HOUR).toISOString()): Content => ({
  key: `run-${i}`,
  recordedAt,
  status: 'Completed',
});

function signingKey(): { signer: EvidenceSigner; keyId: string; keys: Map<string, KeyObject>; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = keyIdOf(publicKey);
  return {
    signer: keySigner(privateKey),
    keyId,
    keys: new Map([[keyId, publicKey]]),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Records 1..n, record i recorded i hours after START. */
function chainOf(n: number, signer?: EvidenceSigner, first = 1): Sealed[] {
  let prev = GENESIS;
  return Array.from({ length: n }, (_, i) => {
    const record = seal(content(first + i), first + i, prev, signer);
    prev = record.hash;
    return record;
  });
}

async function* each<T>(values: Iterable<T>): AsyncGenerator<T> {
  for (const value of values) yield await Promise.resolve(value);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A signed 50-record chain and a bundle of its last 20 records (31 to 50), its manifest signed. */
async function lastTwenty(): Promise<{ file: string; dir: string; chain: Sealed[]; key: ReturnType<typeof signingKey> }> {
  const key = signingKey();
  const chain = chainOf(50, key.signer);
  const dir = tempDir('ccs-bundle-');
  const file = join(dir, 'audit.zip');
  await writeBundle(file, each(chain), {
    sinceMs: Date.parse(chain[30]!.recordedAt),
    now: () => NOW,
    publicKeyPems: [key.publicPem],
    signer: key.signer,
  });
  return { file, dir, chain, key };
}

/** Every entry of a ZIP, read with the module's own reader. */
async function entriesOf(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of (await readZipDirectory(file)).entries) {
    const chunks: Buffer[] = [];
    for await (const chunk of readZipEntry(file, entry)) chunks.push(chunk);
    out.set(entry.name, Buffer.concat(chunks));
  }
  return out;
}

/** Writes `entries` as a new, well-formed ZIP in place of `file`: what anyone holding a bundle can do. */
async function rewrite(file: string, entries: ReadonlyMap<string, Buffer>): Promise<void> {
  const zip = await ZipWriter.create(file);
  for (const [name, data] of entries) await zip.add(name, data);
  await zip.close();
}

/** The manifest re-made to list the entries as they now are, with `change`; the signature, which no longer holds, dropped unless kept. */
function remanifest(entries: Map<string, Buffer>, change: Partial<BundleManifest> = {}, keepSignature = false): void {
  const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as BundleManifest;
  const files = [...entries]
    .filter(([name]) => name !== 'manifest.json' && name !== 'manifest.sig')
    .map(([path, data]) => ({ path, sha256: sha256(data), bytes: data.length }));
  entries.set('manifest.json', Buffer.from(`${JSON.stringify({ ...manifest, ...change, files }, null, 2)}\n`));
  if (!keepSignature) entries.delete('manifest.sig');
}

function recordsOf(entries: ReadonlyMap<string, Buffer>): Sealed[] {
  return entries
    .get('records.jsonl')!
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Sealed);
}

function setRecords(entries: Map<string, Buffer>, records: readonly Sealed[]): void {
  entries.set('records.jsonl', Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join('')));
}

/** The offset of `name`'s central-directory header (a ZIP without comment, as the writer makes). */
function centralHeaderOf(zip: Buffer, name: string): number {
  const count = zip.readUInt16LE(zip.length - 12);
  for (let i = 0, at = zip.readUInt32LE(zip.length - 6); i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) return at;
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  throw new Error(`no entry ${name}`);
}

/** Renames an entry by patching its bytes (the writer refuses such names): exactly its local and central header hold the name. */
function patchName(zip: Buffer, from: string, to: string): void {
  expect(Buffer.byteLength(to)).toBe(Buffer.byteLength(from));
  const at: number[] = [];
  for (let i = zip.indexOf(from); i !== -1; i = zip.indexOf(from, i + 1)) at.push(i);
  expect(at).toHaveLength(2);
  for (const i of at) zip.write(to, i, 'utf8');
}

/** A ZIP of stored entries made byte by byte, not by ZipWriter, with the end record's count as given (a naive writer's wraps). */
function storedZip(entries: readonly [string, Buffer][], countField = entries.length & 0xffff): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(10, 4);
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(countField, 8);
  end.writeUInt16LE(countField, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('evidence bundles', () => {
  it('a bundle of the last 20 of a 50-record chain verifies intact offline, after record 30, with its keys', async () => {
    const root = tempDir('ccs-bundle-sink-');
    const keyFile = join(root, 'signing.pem');
    const { publicKeyFile, keyId } = generateSigningKey(keyFile);
    const sink = new JsonlEvidenceSink<Content>(join(root, 'evidence'), Date.now, fileSigner(keyFile));
    for (let i = 1; i <= 40; i++) await sink.append(content(i));
    // A line cut short by a crash mid-append (the sink yields it as null): skipped, it hides no record.
    appendFileSync(join(root, 'evidence', 'evidence-2026-10.jsonl'), '{"seq":41,"ha');
    for (let i = 41; i <= 50; i++) await sink.append(content(i));
    const chain: Sealed[] = [];
    for await (const r of sink.records()) if (r) chain.push(r);
    expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    const file = join(root, 'audit.zip');
    const { manifest, bytes } = await writeBundle(file, sink.records(), {
      sinceMs: Date.parse(chain[30]!.recordedAt),
      now: () => NOW,
      // The private key by mistake as well: only its public half may go into the bundle.
      publicKeyPems: [readFileSync(publicKeyFile, 'utf8'), readFileSync(keyFile, 'utf8')],
      signer: fileSigner(keyFile),
    });
    expect(bytes).toBe(statSync(file).size);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(root).sort()).toEqual(['audit.zip', 'evidence', 'signing.pem', 'signing.pem.pub']);
    expect(manifest).toMatchObject({
      format: BUNDLE_FORMAT,
      createdAt: '2026-12-01T00:00:00.000Z',
      since: chain[30]!.recordedAt,
      after: { seq: 30, hash: chain[29]!.hash },
      head: { seq: 50, hash: chain[49]!.hash },
      records: 20,
    });
    expect(manifest.files.map((f) => f.path)).toEqual(['records.jsonl', `public-keys/${keyId}.pem`, 'README.txt']);

    const entries = await entriesOf(file);
    expect([...entries.keys()]).toEqual(['records.jsonl', `public-keys/${keyId}.pem`, 'README.txt', 'manifest.json', 'manifest.sig']);
    expect(recordsOf(entries)).toEqual(chain.slice(30));
    expect(JSON.parse(entries.get('manifest.json')!.toString())).toEqual(manifest);
    const signature = JSON.parse(entries.get('manifest.sig')!.toString()) as { keyId: string; signature: string };
    expect(signature.keyId).toBe(keyId);
    expect(Buffer.from(signature.signature, 'base64')).toHaveLength(64);
    const pem = entries.get(`public-keys/${keyId}.pem`)!.toString();
    expect(pem).toContain('BEGIN PUBLIC KEY');
    expect(pem).not.toContain('PRIVATE');
    const readme = entries.get('README.txt')!.toString();
    expect(readme).toContain('ccs-jobs evidence verify --bundle audit.zip --public-key FILE');
    expect(readme).toContain('proves nothing against whoever made the bundle');
    expect(readme).toContain(`records 31 to 50 (20 record(s))`);
    expect(readme).toContain(`links to record 30, whose hash is ${chain[29]!.hash}`);

    const keys = publicKeysById([publicKeyFile]);
    const verdict = await verifyBundle(file, { keys });
    expect(verdict).toMatchObject({ intact: true, problems: [], breakCount: 0, count: 20, signed: 20, lastSeq: 50, unreadable: 0 });
    expect(verdict.manifest).toEqual(manifest);
    expect(await verifyBundle(file)).toMatchObject({ intact: true, problems: [], count: 20, signed: 0 });
  });

  it("Python's zipfile lists the bundle, finds every CRC good and inflates records.jsonl to its listed digest", async () => {
    const { file } = await lastTwenty();
    const tested = execFileSync(python(), ['-m', 'zipfile', '-t', file], { encoding: 'utf8' });
    expect(tested).toContain('Done testing');
    expect(tested).not.toContain('corrupted');
    const listed = execFileSync(python(), ['-m', 'zipfile', '-l', file], { encoding: 'utf8' });
    for (const name of ['records.jsonl', 'README.txt', 'manifest.json', 'manifest.sig']) expect(listed).toContain(name);
    const digest = execFileSync(
      python(),
      ['-c', 'import hashlib, sys, zipfile; print(hashlib.sha256(zipfile.ZipFile(sys.argv[1]).read("records.jsonl")).hexdigest())', file],
      { encoding: 'utf8' },
    ).trim();
    const { manifest } = (await verifyBundle(file)) as { manifest: BundleManifest };
    expect(digest).toBe(manifest.files.find((f) => f.path === 'records.jsonl')!.sha256);
  });

  it('the range runs from the first record since on (not a filter), from record 1, past archived months, or holds none', async () => {
    const dir = tempDir('ccs-bundle-range-');
    const chain = chainOf(5);
    // Record 4 dated before record 3 (a worker's clock behind): in the range all the same.
    const skewed = [...chain.slice(0, 3), seal(content(4, chain[0]!.recordedAt), 4, chain[2]!.hash)];
    skewed.push(seal(content(5), 5, skewed[3]!.hash));
    const cases: { name: string; records: unknown[]; sinceMs?: number; after: unknown; head: unknown; count: number }[] = [
      { name: 'whole', records: [null, ...chain.slice(0, 2), 'stray', ...chain.slice(2)], after: null, head: 5, count: 5 },
      { name: 'skewed', records: skewed, sinceMs: Date.parse(skewed[2]!.recordedAt), after: 2, head: 5, count: 3 },
      { name: 'archived', records: chain.slice(2), after: 2, head: 5, count: 3 },
      { name: 'none', records: chain, sinceMs: NOW, after: 5, head: null, count: 0 },
    ];
    for (const c of cases) {
      const file = join(dir, `${c.name}.zip`);
      const source = c.name === 'skewed' ? skewed : chain;
      const anchor = (seq: unknown): unknown => (seq === null ? null : { seq, hash: source[(seq as number) - 1]!.hash });
      const { manifest } = await writeBundle(file, each(c.records), { sinceMs: c.sinceMs });
      expect({ case: c.name, after: manifest.after, head: manifest.head, records: manifest.records }).toEqual({
        case: c.name,
        after: anchor(c.after),
        head: anchor(c.head),
        records: c.count,
      });
      expect({ case: c.name, ...(await verifyBundle(file)) }).toMatchObject({ case: c.name, intact: true, problems: [], count: c.count });
    }
  });

  it('a record edited inside the bundle is caught by its digest, and by the chain when the manifest is re-made', async () => {
    const { file } = await lastTwenty();
    const entries = await entriesOf(file);
    setRecords(
      entries,
      recordsOf(entries).map((r) => (r.seq === 40 ? { ...r, status: 'Faulted' } : r)),
    );
    await rewrite(file, entries);
    const kept = await verifyBundle(file);
    expect(kept.intact).toBe(false);
    expect(kept.problems).toEqual([
      expect.stringMatching(/^"records\.jsonl" does not match manifest\.json .*: it was changed or swapped$/),
    ]);
    expect(kept.breaks).toEqual([expect.objectContaining({ seq: 40, reason: 'edited' })]);

    remanifest(entries);
    await rewrite(file, entries);
    const remade = await verifyBundle(file);
    expect(remade).toMatchObject({ intact: false, problems: [], breakCount: 1 });
    expect(remade.breaks).toEqual([expect.objectContaining({ seq: 40, reason: 'edited' })]);
  });

  it('a record removed is caught as a gap in the chain, a digest mismatch and a short count', async () => {
    const { file } = await lastTwenty();
    const entries = await entriesOf(file);
    setRecords(
      entries,
      recordsOf(entries).filter((r) => r.seq !== 35),
    );
    await rewrite(file, entries);
    const verdict = await verifyBundle(file);
    expect(verdict.intact).toBe(false);
    expect(verdict.breaks).toEqual([expect.objectContaining({ seq: 36, reason: 'missing before' })]);
    expect(verdict.problems).toEqual([
      expect.stringMatching(/^"records\.jsonl" does not match manifest\.json/),
      'records.jsonl holds 19 record(s) where manifest.json says 20: records were removed or added',
    ]);
  });

  it('records cut from the end are caught by count and head; with the manifest re-made only the public keys catch it', async () => {
    const { file, chain, key } = await lastTwenty();
    expect((await verifyBundle(file, { keys: key.keys })).intact).toBe(true);
    const original = await entriesOf(file);
    const entries = new Map(original);
    setRecords(entries, recordsOf(entries).slice(0, 15));
    await rewrite(file, entries);
    const kept = await verifyBundle(file);
    expect(kept).toMatchObject({ intact: false, breakCount: 0, count: 15 });
    expect(kept.problems).toEqual([
      expect.stringMatching(/^"records\.jsonl" does not match manifest\.json/),
      'records.jsonl holds 15 record(s) where manifest.json says 20: records were removed or added',
      `records.jsonl ends at 45:${chain[44]!.hash} where manifest.json's head is 50:${chain[49]!.hash}`,
    ]);

    // Re-made consistently, unsigned: nothing in the bundle itself tells it from a genuine one.
    remanifest(entries, { records: 15, head: { seq: 45, hash: chain[44]!.hash } });
    await rewrite(file, entries);
    expect(await verifyBundle(file)).toMatchObject({ intact: true, problems: [], count: 15 });
    const unsigned = await verifyBundle(file, { keys: key.keys });
    expect(unsigned).toMatchObject({ intact: false, breakCount: 0, signed: 15 });
    expect(unsigned.problems).toEqual([
      expect.stringMatching(/^manifest\.sig is missing: with public keys given the manifest must be signed/),
    ]);

    // The genuine signature left beside the re-made manifest does not hold for it.
    const stale = new Map(original);
    setRecords(stale, recordsOf(stale).slice(0, 15));
    remanifest(stale, { records: 15, head: { seq: 45, hash: chain[44]!.hash } }, true);
    await rewrite(file, stale);
    const restated = await verifyBundle(file, { keys: key.keys });
    expect(restated.intact).toBe(false);
    expect(restated.problems).toEqual([
      expect.stringMatching(/^manifest\.sig does not hold for manifest\.json: its signature does not verify/),
    ]);
  });

  it('a blob swapped for another is caught by its digest, and by its name when the manifest is re-made', async () => {
    const { file, key } = await lastTwenty();
    const entries = await entriesOf(file);
    const [one, two] = [Buffer.from('finding one\n'), Buffer.from('finding two\n')];
    const [d1, d2] = [sha256(one), sha256(two)];
    entries.set(`blobs/sha256/${d1}`, one);
    entries.set(`blobs/sha256/${d2}`, two);
    remanifest(entries);
    signManifest(entries, key);
    await rewrite(file, entries);
    expect(await verifyBundle(file, { keys: key.keys })).toMatchObject({ intact: true, problems: [] });

    entries.set(`blobs/sha256/${d1}`, two);
    await rewrite(file, entries);
    const swapped = await verifyBundle(file, { keys: key.keys });
    expect(swapped.intact).toBe(false);
    expect(swapped.problems).toEqual([
      `"blobs/sha256/${d1}" does not match manifest.json (${two.length} bytes, SHA-256 ${d2.slice(0, 12)}…, where it lists ${one.length} bytes, ${d1.slice(0, 12)}…): it was changed or swapped`,
    ]);

    remanifest(entries);
    await rewrite(file, entries);
    expect((await verifyBundle(file)).problems).toEqual([
      `"blobs/sha256/${d1}" is listed with SHA-256 ${d2.slice(0, 12)}…, not the digest it is named by`,
    ]);
  });

  it('a file added, a file removed and a record edited at once are each named', async () => {
    const { file } = await lastTwenty();
    const entries = await entriesOf(file);
    entries.set('notes.txt', Buffer.from('nothing to see\n'));
    entries.delete('README.txt');
    setRecords(
      entries,
      recordsOf(entries).map((r) => (r.seq === 33 ? { ...r, status: 'Faulted' } : r)),
    );
    await rewrite(file, entries);
    const verdict = await verifyBundle(file);
    expect(verdict.intact).toBe(false);
    expect(verdict.problems).toEqual([
      '"notes.txt" is in the ZIP but not listed in manifest.json: a file was added',
      '"README.txt" is listed in manifest.json but not in the ZIP: a file was removed',
      expect.stringMatching(/^"records\.jsonl" does not match manifest\.json/),
    ]);
    expect(verdict.breaks).toEqual([expect.objectContaining({ seq: 33, reason: 'edited' })]);
  });

  it('a line that is no record, slipped in with the manifest re-made, is named though it hides no record', async () => {
    const { file } = await lastTwenty();
    const entries = await entriesOf(file);
    const lines = entries.get('records.jsonl')!.toString('utf8').split('\n');
    lines.splice(4, 0, 'not a record');
    entries.set('records.jsonl', Buffer.from(lines.join('\n')));
    remanifest(entries);
    await rewrite(file, entries);
    const verdict = await verifyBundle(file);
    expect(verdict).toMatchObject({ intact: false, breakCount: 0, count: 20, unreadable: 1, firstUnreadable: 5 });
    expect(verdict.problems).toEqual([
      'records.jsonl has 1 line(s) that are no sealed record (the first is line 5): a bundle is written without any',
    ]);
  });

  it('entry names out of the directory, absolute or twice are refused, and so are a CRC mismatch and an entry over 2 GiB', async () => {
    const { file } = await lastTwenty();
    const entries = await entriesOf(file);
    entries.set('xx/evil.txt', Buffer.from('escape\n'));
    entries.set('aetc/evil', Buffer.from('absolute\n'));
    entries.set('README.txx', Buffer.from('a second README\n'));
    await rewrite(file, entries);
    const zip = readFileSync(file);
    patchName(zip, 'xx/evil.txt', '../evil.txt');
    patchName(zip, 'aetc/evil', '/etc/evil');
    patchName(zip, 'README.txx', 'README.txt');
    writeFileSync(file, zip);
    const directory = await readZipDirectory(file);
    expect(directory.entries.map((e) => e.name)).not.toContain('../evil.txt');
    expect(directory.problems).toEqual([
      'entry "../evil.txt" refused: a ".." segment (a path out of the directory it is extracted to)',
      'entry "/etc/evil" refused: an absolute path',
      'entry "README.txt" refused: a second entry of that name (which one a tool extracts differs)',
    ]);
    const verdict = await verifyBundle(file);
    expect(verdict).toMatchObject({ intact: false, breakCount: 0, count: 20 });
    expect(verdict.problems).toEqual(directory.problems);

    // records.jsonl's CRC in the central directory changed: its bytes no longer match it.
    const crcFile = join(tempDir('ccs-bundle-crc-'), 'audit.zip');
    const good = readFileSync((await lastTwenty()).file);
    const crcAt = centralHeaderOf(good, 'records.jsonl') + 16;
    good.writeUInt32LE((good.readUInt32LE(crcAt) ^ 1) >>> 0, crcAt);
    writeFileSync(crcFile, good);
    expect((await verifyBundle(crcFile)).problems).toEqual([
      expect.stringMatching(/^"records\.jsonl" fails its CRC-32 check \([0-9a-f]{8} where its directory entry says [0-9a-f]{8}\)/),
    ]);
    expect(execFileSync(python(), ['-m', 'zipfile', '-t', crcFile], { encoding: 'utf8' })).toContain(
      "The following enclosed file is corrupted: 'records.jsonl'",
    );

    // records.jsonl said to be 100 bytes: inflating stops there, whatever the deflate stream holds.
    good.writeUInt32LE((good.readUInt32LE(crcAt) ^ 1) >>> 0, crcAt);
    const sizeAt = centralHeaderOf(good, 'records.jsonl') + 24;
    const realSize = good.readUInt32LE(sizeAt);
    good.writeUInt32LE(100, sizeAt);
    writeFileSync(crcFile, good);
    expect((await verifyBundle(crcFile)).problems).toContain('"records.jsonl" holds more than the 100 bytes its directory entry says');
    good.writeUInt32LE(realSize, sizeAt);

    // README.txt's size in the central directory over 2 GiB.
    good.writeUInt32LE(MAX_ZIP_BYTES + 1, centralHeaderOf(good, 'README.txt') + 24);
    writeFileSync(crcFile, good);
    expect((await verifyBundle(crcFile)).problems).toEqual([
      'entry "README.txt" refused: it is 2147483649 bytes, larger than 2 GiB: no bundle file is',
      '"README.txt" is listed in manifest.json but not in the ZIP: a file was removed',
    ]);
  });

  it('a ZIP of more than 65,535 entries is refused; stored entries of another writer are read', async () => {
    const dir = tempDir('ccs-bundle-many-');
    const many = join(dir, 'many.zip');
    const names = Array.from({ length: MAX_ZIP_ENTRIES + 1 }, (_, i): [string, Buffer] => [`e${i}`, Buffer.alloc(0)]);
    writeFileSync(many, storedZip(names));
    await expect(readZipDirectory(many)).rejects.toThrow(/holds more than 65535 entries/);
    expect((await verifyBundle(many)).problems).toEqual([
      expect.stringMatching(/^many\.zip is no ZIP this reader takes: .*more than 65535/),
    ]);

    const stored = join(dir, 'stored.zip');
    writeFileSync(stored, storedZip([['a.txt', Buffer.from('alpha\n')]]));
    const [entry] = (await readZipDirectory(stored)).entries;
    const chunks: Buffer[] = [];
    for await (const chunk of readZipEntry(stored, entry!)) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('alpha\n');
    // One entry's data stretched over the next one's header: the next is refused, not read twice.
    const pair = storedZip([
      ['a', Buffer.from('alpha')],
      ['b', Buffer.from('beta')],
    ]);
    const stretched = 5 + 30 + 1 + 4;
    pair.writeUInt32LE(stretched, centralHeaderOf(pair, 'a') + 20);
    pair.writeUInt32LE(stretched, centralHeaderOf(pair, 'a') + 24);
    writeFileSync(stored, pair);
    expect(await readZipDirectory(stored)).toMatchObject({
      entries: [{ name: 'a' }],
      problems: ['entry "b" refused: its data overlaps entry "a"\'s'],
    });
    writeFileSync(stored, storedZip([['a.txt', Buffer.from('alpha\n')]]));
    // What is no bundle is said so: no manifest, no records.
    expect((await verifyBundle(stored)).problems).toEqual([
      'manifest.json is missing: nothing says which records and files the bundle holds',
      'records.jsonl is missing: the bundle holds no records',
    ]);
  });

  it('the writer refuses what would need ZIP64 or an unsafe name, and leaves no file behind', async () => {
    expect([MAX_ZIP_BYTES, MAX_ZIP_ENTRIES]).toEqual([2 ** 31, 65_535]);
    const dir = tempDir('ccs-bundle-limits-');
    const file = join(dir, 'out.zip');

    const few = await ZipWriter.create(file, { maxEntries: 2 });
    await few.add('a', 'a');
    await few.add('b', 'b');
    await expect(few.add('c', 'c')).rejects.toThrow('a ZIP of more than 2 entries is not written (it would need ZIP64)');
    await expect(few.add('../c', 'c')).rejects.toThrow(/cannot add "\.\.\/c" to a ZIP: a "\.\." segment/);
    await few.abort();
    expect(readdirSync(dir)).toEqual([]);

    const small = await ZipWriter.create(file, { maxBytes: 4096 });
    await expect(small.add('noise', randomBytes(10_000))).rejects.toThrow(/larger than 4096 bytes, which is not written \(no ZIP64\)/);
    await small.abort();
    expect(readdirSync(dir)).toEqual([]);

    // A sink failing mid-read: no half bundle under the name asked for.
    async function* failing(): AsyncGenerator<unknown> {
      yield* each(chainOf(3));
      throw new Error('the sink went away');
    }
    await expect(writeBundle(file, failing())).rejects.toThrow('the sink went away');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing, unreadable or foreign manifest is named, and the records are walked all the same', async () => {
    const { file, dir } = await lastTwenty();
    const entries = await entriesOf(file);
    const cases: [string, Buffer | undefined, RegExp][] = [
      ['missing', undefined, /^manifest\.json is missing/],
      ['not JSON', Buffer.from('{"format":'), /^manifest\.json is not JSON: /],
      [
        'foreign',
        Buffer.from(JSON.stringify({ format: 'ccs-evidence-bundle/2' })),
        /^manifest\.json has format "ccs-evidence-bundle\/2", not ccs-evidence-bundle\/1/,
      ],
      [
        'malformed',
        Buffer.from(JSON.stringify({ format: BUNDLE_FORMAT, records: -1 })),
        /^manifest\.json is malformed: createdAt is not a string$/,
      ],
    ];
    for (const [name, manifest, problem] of cases) {
      const changed = new Map(entries);
      if (manifest) changed.set('manifest.json', manifest);
      else changed.delete('manifest.json');
      await rewrite(file, changed);
      const verdict = await verifyBundle(file);
      expect({ name, intact: verdict.intact, manifest: verdict.manifest }).toEqual({ name, intact: false, manifest: null });
      expect(verdict.problems[0], name).toMatch(problem);
      // After is the manifest's: without it the walk starts at GENESIS, and record 31 is a gap.
      expect({ name, count: verdict.count, breaks: verdict.breaks.map((b) => b.seq) }).toEqual({ name, count: 20, breaks: [31] });
    }
    writeFileSync(join(dir, 'plain.txt'), 'not a zip at all\n');
    expect((await verifyBundle(join(dir, 'plain.txt'))).problems).toEqual([
      'plain.txt is no ZIP this reader takes: no ZIP end record: not a ZIP, or cut short',
    ]);
  });

  it('an unsigned chain bundled verifies only without keys: with them every record and the manifest are named', async () => {
    const dir = tempDir('ccs-bundle-unsigned-');
    const file = join(dir, "audit's 2026.zip");
    await writeBundle(file, each(chainOf(4)));
    expect((await verifyBundle(file)).intact).toBe(true);
    const readme = (await entriesOf(file)).get('README.txt')!.toString();
    expect(readme).toContain("  ccs-jobs evidence verify --bundle 'audit'\\''s 2026.zip' --public-key FILE\n");
    expect(readme).toContain('The records are not signed: only the check without --public-key applies.');
    expect(readme).toContain('manifest.json is not signed (no manifest.sig): with --public-key this bundle does not verify.');
    const { keys } = signingKey();
    const verdict = await verifyBundle(file, { keys });
    expect(verdict).toMatchObject({ intact: false, breakCount: 4, signed: 0 });
    expect(verdict.breaks.map((b) => [b.seq, b.reason])).toEqual([1, 2, 3, 4].map((s) => [s, 'signature']));
    expect(verdict.problems).toEqual([expect.stringMatching(/^manifest\.sig is missing/)]);
  });
});

/** manifest.sig for the entries' manifest, as writeBundle makes it (what only the signing key's holder can do). */
function signManifest(entries: Map<string, Buffer>, key: ReturnType<typeof signingKey>): void {
  const signature = key.signer.sign(sha256(entries.get('manifest.json')!), key.keyId);
  entries.set('manifest.sig', Buffer.from(JSON.stringify({ keyId: key.keyId, signature })));
}
