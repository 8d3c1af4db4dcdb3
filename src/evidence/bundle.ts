/**
 * Evidence bundles (issue 31): one ZIP an auditor checks offline, with `ccs-jobs evidence verify
 * --bundle FILE` and nothing else (no evidence store, no network). It holds the chain's records from
 * a date on, the anchor of the record just before them, a manifest with the SHA-256 of every other
 * file, and the manifest's signature when the maker holds the signing key.
 *
 * Without public keys a bundle shows only that it is consistent in itself: whoever makes one can
 * make any consistent one. With the public keys, obtained apart from the bundle, every record and the
 * manifest must be signed by one of them, so records cannot be edited, removed or cut from the end.
 *
 * The ZIP is written and read by ./zip (no dependency); entries are streamed both ways, so memory
 * stays flat however many records a bundle holds.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { ChainWalker, MAX_BREAKS_LISTED, type Anchor, type ChainVerdict } from './chain';
import { keyIdOf, signatureProblem, type EvidenceSigner } from './signing';
import {
  MAX_ZIP_ENTRIES,
  ZipWriter,
  entryNameProblem,
  messageOf,
  quoted,
  readZipDirectory,
  readZipEntry,
  type ZipDirectory,
  type ZipEntry,
} from './zip';

export const BUNDLE_FORMAT = 'ccs-evidence-bundle/1';

const MANIFEST = 'manifest.json';
const SIGNATURE = 'manifest.sig';
const RECORDS = 'records.jsonl';
const README = 'README.txt';
/** Reserved for findings blobs, named by their content's digest. */
const BLOB = /^blobs\/sha256\/([0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** 65,535 file listings of ~150 bytes each fit well within. */
const MAX_MANIFEST_BYTES = 32 * 1024 ** 2;
const MAX_SIGNATURE_BYTES = 4 * 1024;
/** A longer line is taken as unreadable without being held. */
const MAX_RECORD_LINE_BYTES = 64 * 1024 ** 2;
/** Records go to the compressor in batches of about this size, not one small write each. */
const BATCH_BYTES = 64 * 1024;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  createdAt: string;
  /** The `--since` instant the first record was chosen by, null for the whole chain. */
  since: string | null;
  /** The record just before the first one held (null when the bundle starts at the chain's first). */
  after: Anchor | null;
  /** The last record held, null when the bundle holds none. */
  head: Anchor | null;
  records: number;
  /** Every entry but manifest.json and manifest.sig. */
  files: { path: string; sha256: string; bytes: number }[];
}

export interface BundleVerdict extends ChainVerdict {
  /** No chain break and no problem. */
  intact: boolean;
  /** The manifest as read, null when missing or unusable. */
  manifest: BundleManifest | null;
  /** What is wrong with the ZIP, the manifest and the files, one line each (the chain's breaks are in `breaks`). */
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// Writing a bundle

/**
 * Writes a bundle of the chain `records` yields (oldest first, as a sink's `records()`): every record
 * from the first recorded at or after `sinceMs` through the newest. The chain is contiguous, so this
 * is a range, not a filter: a record dated earlier after the first (a worker's clock behind) is kept.
 * Entries that are no sealed record are skipped; a gap they hide shows as a break when verified.
 * The file appears only once complete; an Error is thrown, leaving no file, above 2 GiB.
 */
export async function writeBundle(
  file: string,
  records: AsyncIterable<unknown>,
  options: { sinceMs?: number; now?: () => number; publicKeyPems?: string[]; signer?: EvidenceSigner } = {},
): Promise<{ manifest: BundleManifest; bytes: number }> {
  const { sinceMs, signer } = options;
  if (sinceMs !== undefined && !Number.isFinite(sinceMs)) throw new Error(`the bundle's since must be a time, got ${sinceMs}`);
  const createdMs = (options.now ?? Date.now)();
  const keys = publicKeyFiles(options.publicKeyPems ?? []);
  // Named once: a key file rotated while the bundle is written changes neither the README nor the signature's key.
  const signerId = signer?.keyId();
  const zip = await ZipWriter.create(file, { modifiedMs: createdMs });
  try {
    const files: BundleManifest['files'] = [];
    const listed = async (path: string, data: string | AsyncIterable<Uint8Array>): Promise<void> => {
      files.push({ path, ...(await zip.add(path, data)) });
    };
    const selection: Selection = { first: null, after: null, head: null, records: 0, signedBy: new Set() };
    await listed(RECORDS, selectedLines(records, sinceMs, selection));
    for (const { keyId, pem } of keys) await listed(`public-keys/${keyId}.pem`, pem);
    const manifestOf = (): BundleManifest => ({
      format: BUNDLE_FORMAT,
      createdAt: new Date(createdMs).toISOString(),
      since: sinceMs === undefined ? null : new Date(sinceMs).toISOString(),
      after: selection.after,
      head: selection.head,
      records: selection.records,
      files,
    });
    await listed(README, readmeText(basename(file), manifestOf(), selection, keys, signerId));
    const manifest = manifestOf();
    // Indented: canonical JSON has no raw newline, so the manifest's signature (made under the records' label) never passes for a record's.
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    await zip.add(MANIFEST, manifestBytes);
    if (signer && signerId !== undefined) {
      const signature = signer.sign(sha256Hex(manifestBytes), signerId);
      await zip.add(SIGNATURE, `${JSON.stringify({ keyId: signerId, signature })}\n`);
    }
    return { manifest, bytes: await zip.close() };
  } catch (err) {
    await zip.abort();
    throw err;
  }
}

/** What the record selection found, filled in as records.jsonl is written. */
interface Selection {
  first: number | null;
  after: Anchor | null;
  head: Anchor | null;
  records: number;
  /** The keys the records are signed by (for the README), up to MAX_SIGNERS_NAMED. */
  signedBy: Set<string>;
}

const MAX_SIGNERS_NAMED = 32;

/** records.jsonl's bytes, in batches, holding one batch and the anchor of the record before the range. */
async function* selectedLines(records: AsyncIterable<unknown>, sinceMs: number | undefined, selection: Selection): AsyncGenerator<Buffer> {
  let previous: Anchor | null = null;
  let batch: string[] = [];
  let batched = 0;
  for await (const value of records) {
    if (!isSealed(value)) continue;
    if (selection.first === null) {
      if (sinceMs !== undefined && !(Date.parse(String(value.recordedAt)) >= sinceMs)) {
        previous = { seq: value.seq, hash: value.hash };
        continue;
      }
      selection.first = value.seq;
      // A store whose first months were archived starts past seq 1: its first record names the one before.
      selection.after = value.seq === 1 ? null : (previous ?? { seq: value.seq - 1, hash: value.prevHash });
    }
    const line = `${JSON.stringify(value)}\n`;
    batch.push(line);
    batched += line.length;
    selection.records++;
    selection.head = { seq: value.seq, hash: value.hash };
    if (typeof value.signedBy === 'string' && selection.signedBy.size < MAX_SIGNERS_NAMED) selection.signedBy.add(value.signedBy);
    if (batched >= BATCH_BYTES) {
      yield Buffer.from(batch.join(''), 'utf8');
      batch = [];
      batched = 0;
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join(''), 'utf8');
  // Nothing recorded since: the bundle still says where the chain stood.
  if (selection.first === null) selection.after = previous;
}

interface SealedLike {
  seq: number;
  hash: string;
  prevHash: string;
  recordedAt?: unknown;
  signedBy?: unknown;
}

function isSealed(value: unknown): value is SealedLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.seq === 'number' && typeof v.hash === 'string' && typeof v.prevHash === 'string';
}

/**
 * The public keys' files by key id. Only the public half is written, re-exported from the key: a
 * private key passed by mistake never goes into a bundle.
 */
function publicKeyFiles(pems: readonly string[]): { keyId: string; pem: string }[] {
  const byId = new Map<string, string>();
  pems.forEach((text, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(text);
    } catch {
      throw new Error(`public key ${i + 1} of ${pems.length} for the bundle is no PEM key`);
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`public key ${i + 1} of ${pems.length} for the bundle is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
    byId.set(keyIdOf(key), key.export({ type: 'spki', format: 'pem' }).toString());
  });
  return [...byId].map(([keyId, pem]) => ({ keyId, pem }));
}

/** What the bundle is and how to check it, for whoever opens the ZIP first. */
function readmeText(
  name: string,
  manifest: BundleManifest,
  selection: Selection,
  keys: readonly { keyId: string }[],
  signerId: string | undefined,
): string {
  const { after, head } = manifest;
  const range =
    head === null || selection.first === null
      ? 'no records (none was recorded in the period)'
      : `records ${selection.first} to ${head.seq} (${manifest.records} record(s))`;
  const signers = [...selection.signedBy];
  const bundle = shellWord(name);
  return [
    `CCS evidence bundle (${BUNDLE_FORMAT}), made ${manifest.createdAt}`,
    '',
    `This ZIP holds ${range} of a ccs-job-orchestrator evidence chain${manifest.since === null ? '' : `, from the first recorded at or after ${manifest.since}`}.`,
    after === null
      ? "It starts at the chain's first record."
      : `The records before are not included: the first here links to record ${after.seq}, whose hash is ${after.hash}.`,
    head === null ? '' : `Its head (newest record) is ${head.seq}:${head.hash}.`,
    '',
    'Verify it with this file and ccs-jobs alone (no evidence store, no network):',
    '',
    `  ccs-jobs evidence verify --bundle ${bundle} --public-key FILE`,
    '',
    'FILE is the public key of the evidence signing key (--public-key once for each key of the period),',
    'obtained from the operator by another channel than this bundle.',
    signers.length > 0
      ? `The records are signed by key(s) ${signers.join(', ')}.`
      : 'The records are not signed: only the check without --public-key applies.',
    signerId === undefined
      ? 'manifest.json is not signed (no manifest.sig): with --public-key this bundle does not verify.'
      : `manifest.json is signed by key ${signerId} (manifest.sig).`,
    '',
    `Without --public-key (ccs-jobs evidence verify --bundle ${bundle}) only the bundle's consistency is`,
    'checked: the records link up and match manifest.json. Whoever made the bundle could have made any',
    'consistent one; only signatures checked with a key you hold show who wrote the records.',
    '',
    'Contents',
    '  manifest.json   the record range (after, head), the record count, the SHA-256 and size of every other file',
    '  manifest.sig    the signature of the SHA-256 of manifest.json, with the signing key',
    '  records.jsonl   one sealed record per line, in chain order: each carries the SHA-256 of the record before',
    `  public-keys/    copies of public keys${keys.length > 0 ? ` (${keys.map((k) => k.keyId).join(', ')})` : ''}, for reference only: a key inside`,
    '                  a bundle proves nothing against whoever made the bundle, who could have put any key here.',
    '                  Verify with the key you hold; a key id is the first 16 hex digits of the SHA-256 of the',
    '                  public key (SPKI DER).',
    '  blobs/sha256/   reserved: files named by the SHA-256 of their content',
    '  README.txt      this file',
    '',
  ]
    .filter((line, i, lines) => line !== '' || lines[i - 1] !== '')
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Verifying a bundle

/**
 * Checks a bundle and reports every problem found (never throws for what the file holds): the ZIP's
 * structure, the manifest, each listed file's digest and size, entries not listed, records.jsonl
 * walked as a chain from the manifest's `after`, its head and count against the manifest, and, with
 * `keys`, the manifest's signature and every record's.
 */
export async function verifyBundle(file: string, options: { keys?: ReadonlyMap<string, KeyObject> } = {}): Promise<BundleVerdict> {
  const { keys } = options;
  let directory: ZipDirectory;
  try {
    directory = await readZipDirectory(file);
  } catch (err) {
    return verdictOf(new ChainWalker({ keys }).finish(), null, [`${basename(file)} is no ZIP this reader takes: ${messageOf(err)}`]);
  }
  const problems = [...directory.problems];
  const entries = new Map(directory.entries.map((e) => [e.name, e]));
  const manifestBytes = await readManifestBytes(file, entries.get(MANIFEST), problems);
  const manifest = manifestBytes === null ? null : parseManifest(manifestBytes, problems);
  if (keys && manifestBytes !== null)
    problems.push(...(await manifestSignatureProblems(file, entries.get(SIGNATURE), manifestBytes, keys)));
  if (manifest) problems.push(...unlistedEntries(directory.entries, manifest));
  const walker = new ChainWalker({ after: manifest?.after ?? undefined, keys });
  const walked = await checkFiles(file, entries, manifest, walker, problems);
  const verdict = walker.finish();
  if (walked) problems.push(...recordProblems(verdict, manifest));
  return verdictOf(verdict, manifest, problems);
}

function verdictOf(verdict: ChainVerdict, manifest: BundleManifest | null, problems: string[]): BundleVerdict {
  // Bounded like the chain's breaks: a ZIP of 65,535 bad entries is not 65,535 lines of output.
  const listed =
    problems.length > MAX_BREAKS_LISTED
      ? [...problems.slice(0, MAX_BREAKS_LISTED), `${problems.length - MAX_BREAKS_LISTED} more problem(s) not listed`]
      : problems;
  return { ...verdict, intact: verdict.breakCount === 0 && problems.length === 0, manifest, problems: listed };
}

async function readManifestBytes(file: string, entry: ZipEntry | undefined, problems: string[]): Promise<Buffer | null> {
  if (!entry) {
    problems.push('manifest.json is missing: nothing says which records and files the bundle holds');
    return null;
  }
  if (entry.size > MAX_MANIFEST_BYTES) {
    problems.push(`manifest.json is ${entry.size} bytes: more than any manifest (${MAX_MANIFEST_BYTES})`);
    return null;
  }
  try {
    return await entryBytes(file, entry);
  } catch (err) {
    problems.push(messageOf(err));
    return null;
  }
}

/** The manifest, or null (with the reasons in `problems`) when it is no manifest of this format. */
function parseManifest(bytes: Buffer, problems: string[]): BundleManifest | null {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    problems.push(`manifest.json is not JSON: ${messageOf(err)}`);
    return null;
  }
  if (!isObject(value)) {
    problems.push('manifest.json is not a JSON object');
    return null;
  }
  if (value.format !== BUNDLE_FORMAT) {
    problems.push(`manifest.json has format ${quoted(String(value.format))}, not ${BUNDLE_FORMAT}: not a bundle this version reads`);
    return null;
  }
  const wrong = manifestShapeProblems(value);
  if (wrong.length > 0) {
    problems.push(...wrong.map((w) => `manifest.json is malformed: ${w}`));
    return null;
  }
  const files = (value.files as BundleManifest['files']).map(({ path, sha256, bytes }) => ({ path, sha256, bytes }));
  problems.push(...blobNameProblems(files));
  return {
    format: BUNDLE_FORMAT,
    createdAt: value.createdAt as string,
    since: value.since as string | null,
    after: anchorOf(value.after),
    head: anchorOf(value.head),
    records: value.records as number,
    files,
  };
}

function manifestShapeProblems(m: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof m.createdAt !== 'string') out.push('createdAt is not a string');
  if (m.since !== null && typeof m.since !== 'string') out.push('since is neither a string nor null');
  for (const field of ['after', 'head'] as const)
    if (m[field] !== null && !isAnchor(m[field])) out.push(`${field} is neither null nor {seq, hash}`);
  if (!isCount(m.records)) out.push('records is not a count');
  if (!Array.isArray(m.files)) out.push('files is not a list');
  else out.push(...fileListProblems(m.files as unknown[]));
  return out;
}

function fileListProblems(files: unknown[]): string[] {
  if (files.length > MAX_ZIP_ENTRIES) return [`files lists ${files.length} files, more than a ZIP of ${MAX_ZIP_ENTRIES} entries holds`];
  const out: string[] = [];
  const seen = new Set<string>();
  files.forEach((f, i) => {
    if (!isObject(f) || typeof f.path !== 'string' || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256) || !isCount(f.bytes)) {
      out.push(`files[${i}] is not {path, sha256 (64 hex digits), bytes}`);
      return;
    }
    const wrong =
      entryNameProblem(f.path) ??
      (f.path === MANIFEST || f.path === SIGNATURE ? 'the manifest lists neither itself nor its signature' : null) ??
      (seen.has(f.path) ? 'listed twice' : null);
    if (wrong !== null) out.push(`files[${i}] ${quoted(f.path)}: ${wrong}`);
    seen.add(f.path);
  });
  return out;
}

/** A blob is named by its digest: one listed under another's name was put in its place. */
function blobNameProblems(files: BundleManifest['files']): string[] {
  return files.flatMap(({ path, sha256 }) => {
    if (!path.startsWith('blobs/')) return [];
    const named = BLOB.exec(path)?.[1];
    if (named === undefined) return [`${quoted(path)} is listed under blobs/ but is no blobs/sha256/<64 hex digits> name`];
    return named === sha256 ? [] : [`${quoted(path)} is listed with SHA-256 ${sha256.slice(0, 12)}…, not the digest it is named by`];
  });
}

async function manifestSignatureProblems(
  file: string,
  entry: ZipEntry | undefined,
  manifestBytes: Buffer,
  keys: ReadonlyMap<string, KeyObject>,
): Promise<string[]> {
  if (!entry)
    return [
      'manifest.sig is missing: with public keys given the manifest must be signed, or whoever made the bundle could have re-made it (records cut from its end, say)',
    ];
  if (entry.size > MAX_SIGNATURE_BYTES) return [`manifest.sig is ${entry.size} bytes: no signature is (at most ${MAX_SIGNATURE_BYTES})`];
  let signature: unknown;
  try {
    signature = JSON.parse((await entryBytes(file, entry)).toString('utf8'));
  } catch (err) {
    return [`manifest.sig cannot be read: ${messageOf(err)}`];
  }
  if (!isObject(signature) || typeof signature.keyId !== 'string' || typeof signature.signature !== 'string')
    return ['manifest.sig is not {keyId, signature}'];
  const problem = signatureProblem({ hash: sha256Hex(manifestBytes), signedBy: signature.keyId, signature: signature.signature }, keys);
  return problem === null ? [] : [`manifest.sig does not hold for manifest.json: ${problem}`];
}

function unlistedEntries(entries: readonly ZipEntry[], manifest: BundleManifest): string[] {
  const listed = new Set(manifest.files.map((f) => f.path));
  return entries
    .filter((e) => e.name !== MANIFEST && e.name !== SIGNATURE && !listed.has(e.name))
    .map((e) => `${quoted(e.name)} is in the ZIP but not listed in manifest.json: a file was added`);
}

/**
 * Digests every listed file and records.jsonl (walked as a chain while it is read, listed or not).
 * True when records.jsonl was there to walk.
 */
async function checkFiles(
  file: string,
  entries: ReadonlyMap<string, ZipEntry>,
  manifest: BundleManifest | null,
  walker: ChainWalker,
  problems: string[],
): Promise<boolean> {
  const listed = new Map((manifest?.files ?? []).map((f) => [f.path, f]));
  for (const f of listed.values()) {
    const entry = entries.get(f.path);
    if (!entry) problems.push(`${quoted(f.path)} is listed in manifest.json but not in the ZIP: a file was removed`);
    else if (f.path !== RECORDS) problems.push(...(await fileProblems(file, entry, f)));
  }
  const records = entries.get(RECORDS);
  if (!records) {
    if (!listed.has(RECORDS)) problems.push('records.jsonl is missing: the bundle holds no records');
    return false;
  }
  problems.push(...(await fileProblems(file, records, listed.get(RECORDS), recordFeeder(walker))));
  return true;
}

async function fileProblems(
  file: string,
  entry: ZipEntry,
  listed: BundleManifest['files'][number] | undefined,
  sink?: ByteSink,
): Promise<string[]> {
  let found: { sha256: string; bytes: number };
  try {
    found = await digestEntry(file, entry, sink);
  } catch (err) {
    return [messageOf(err)];
  }
  if (!listed || (found.sha256 === listed.sha256 && found.bytes === listed.bytes)) return [];
  return [
    `${quoted(entry.name)} does not match manifest.json (${found.bytes} bytes, SHA-256 ${found.sha256.slice(0, 12)}…, where it lists ${listed.bytes} bytes, ${listed.sha256.slice(0, 12)}…): it was changed or swapped`,
  ];
}

/** Head and count against the manifest, and lines that are no record (a bundle is written without any). */
function recordProblems(verdict: ChainVerdict, manifest: BundleManifest | null): string[] {
  const out: string[] = [];
  if (verdict.unreadable > 0)
    out.push(
      `records.jsonl has ${verdict.unreadable} line(s) that are no sealed record (the first is line ${verdict.firstUnreadable}): a bundle is written without any`,
    );
  if (!manifest) return out;
  if (verdict.count !== manifest.records)
    out.push(`records.jsonl holds ${verdict.count} record(s) where manifest.json says ${manifest.records}: records were removed or added`);
  const last = verdict.count > 0 ? { seq: verdict.lastSeq, hash: verdict.lastHash } : null;
  if (last?.seq !== manifest.head?.seq || last?.hash !== manifest.head?.hash)
    out.push(`records.jsonl ends at ${anchorText(last)} where manifest.json's head is ${anchorText(manifest.head)}`);
  return out;
}

interface ByteSink {
  push(chunk: Buffer): void;
  end(): void;
}

/** Feeds records.jsonl's lines to the walker as they are read; a line that is no JSON goes in as unreadable. */
function recordFeeder(walker: ChainWalker): ByteSink {
  return new LineSplitter(MAX_RECORD_LINE_BYTES, (line) => {
    if (line === null || line.trim() === '') return walker.add(null);
    try {
      walker.add(JSON.parse(line));
    } catch {
      walker.add(null);
    }
  });
}

/** Splits bytes into lines (split as bytes, so no character is cut); a line longer than `max` comes as null without being held. */
class LineSplitter implements ByteSink {
  private parts: Buffer[] = [];
  private held = 0;
  private overlong = false;

  constructor(
    private readonly max: number,
    private readonly line: (text: string | null) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, newline));
      this.emit();
      start = newline + 1;
    }
    this.take(chunk.subarray(start));
  }

  end(): void {
    if (this.held > 0 || this.overlong) this.emit();
  }

  private take(part: Buffer): void {
    if (this.overlong || part.length === 0) return;
    if (this.held + part.length > this.max) {
      this.overlong = true;
      this.parts = [];
      this.held = 0;
      return;
    }
    this.parts.push(part);
    this.held += part.length;
  }

  private emit(): void {
    const text = this.overlong ? null : Buffer.concat(this.parts, this.held).toString('utf8');
    this.parts = [];
    this.held = 0;
    this.overlong = false;
    this.line(text);
  }
}

async function digestEntry(file: string, entry: ZipEntry, sink?: ByteSink): Promise<{ sha256: string; bytes: number }> {
  const digest = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of readZipEntry(file, entry)) {
      digest.update(chunk);
      bytes += chunk.length;
      sink?.push(chunk);
    }
  } finally {
    sink?.end();
  }
  return { sha256: digest.digest('hex'), bytes };
}

/** A small entry's bytes (the caller has bounded its size). */
async function entryBytes(file: string, entry: ZipEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readZipEntry(file, entry)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The file name as a shell word, quoted only when it must be, so the README's command can be pasted as it is. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9._/+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isAnchor(value: unknown): value is Anchor {
  return isObject(value) && isCount(value.seq) && value.seq >= 1 && typeof value.hash === 'string' && HEX64.test(value.hash);
}

function anchorOf(value: unknown): Anchor | null {
  return isAnchor(value) ? { seq: value.seq, hash: value.hash } : null;
}

function anchorText(anchor: Anchor | null): string {
  return anchor === null ? 'no record' : `${anchor.seq}:${anchor.hash}`;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
