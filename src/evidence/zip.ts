/**
 * A minimal ZIP writer and reader for evidence bundles (deflate or stored, no ZIP64: at most 2 GiB
 * and 65,535 entries), so unzip and Python's zipfile read what is written and no dependency is
 * added. Entries are streamed both ways; the reader refuses what could escape a directory, hide an
 * entry or inflate past its declared size.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw, createInflateRaw } from 'node:zlib';

/** Sizes and offsets below 2^31 need no ZIP64, which not every reader handles the same way. */
export const MAX_ZIP_BYTES = 2 * 1024 ** 3;
/** The most entries a ZIP's end record counts without ZIP64. */
export const MAX_ZIP_ENTRIES = 65_535;
/** 65,535 headers with names of MAX_NAME_BYTES fit; a directory larger is held by no bundle. */
const MAX_CENTRAL_DIRECTORY_BYTES = 80 * 1024 ** 2;
const MAX_NAME_BYTES = 1024;
/** The archive's files: readable by their owner only, like the evidence directory's. */
const FILE_MODE = 0o600;

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_RECORD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_RECORD_BYTES = 22;
const STORED = 0;
const DEFLATE = 8;
const VERSION_NEEDED = 20;
/** Made on Unix, so unzip applies the external attributes' file mode. */
const MADE_BY = (3 << 8) | VERSION_NEEDED;
const EXTERNAL_ATTRIBUTES = ((0o100000 | FILE_MODE) << 16) >>> 0;

// ---------------------------------------------------------------------------------------------
// ZIP writing

export interface ZipLimits {
  /** The largest archive, and the largest entry, written (default MAX_ZIP_BYTES). */
  maxBytes: number;
  /** The most entries written (default MAX_ZIP_ENTRIES). */
  maxEntries: number;
}

interface WrittenEntry {
  name: Buffer;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

/**
 * A minimal ZIP writer: deflated entries, each streamed in, its header patched once its CRC and
 * sizes are known (no data descriptors); local headers, central directory and end record as every
 * reader expects. Refuses what would need ZIP64.
 */
export class ZipWriter {
  private position = 0;
  private readonly written: WrittenEntry[] = [];
  private readonly names = new Set<string>();
  private done = false;

  private constructor(
    private readonly file: string,
    private readonly partial: string,
    private readonly handle: FileHandle,
    private readonly stamp: { time: number; date: number },
    private readonly limits: ZipLimits,
  ) {}

  /** A ZIP written to a temporary file beside `file` and renamed to it by `close`: a failed write never leaves half a ZIP under that name. */
  static async create(file: string, options: { modifiedMs?: number } & Partial<ZipLimits> = {}): Promise<ZipWriter> {
    const partial = `${file}.partial-${randomUUID()}`;
    const handle = await open(partial, 'wx', FILE_MODE);
    const limits = { maxBytes: options.maxBytes ?? MAX_ZIP_BYTES, maxEntries: options.maxEntries ?? MAX_ZIP_ENTRIES };
    return new ZipWriter(file, partial, handle, dosDateTime(options.modifiedMs ?? Date.now()), limits);
  }

  /** Adds one entry, deflated; returns the SHA-256 and size of its (uncompressed) content. */
  async add(name: string, data: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
    this.admit(name);
    const nameBytes = Buffer.from(name, 'utf8');
    const offset = this.position;
    await this.append(localHeader(nameBytes, this.stamp));
    const dataStart = this.position;
    const digest = createHash('sha256');
    let crc = 0;
    let size = 0;
    const { maxBytes } = this.limits;
    await pipeline(
      chunksOf(data),
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > maxBytes)
            throw new Error(`ZIP entry ${name} would be larger than ${sizeText(maxBytes)}, which is not written (no ZIP64)`);
          crc = crc32(chunk, crc);
          digest.update(chunk);
          yield chunk;
        }
      },
      createDeflateRaw(),
      async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) await this.append(chunk);
      },
    );
    const entry = { name: nameBytes, crc: crc >>> 0, compressedSize: this.position - dataStart, size, offset };
    await this.writeAt(sizesOf(entry), offset + 14);
    this.written.push(entry);
    this.names.add(name);
    return { sha256: digest.digest('hex'), bytes: size };
  }

  /** Writes the central directory and end record, and puts the ZIP in place; returns its size. */
  async close(): Promise<number> {
    if (this.done) throw new Error('the ZIP is closed already');
    const directory = Buffer.concat(this.written.map((e) => centralHeader(e, this.stamp)));
    await this.append(Buffer.concat([directory, endRecord(this.written.length, directory.length, this.position)]));
    await this.handle.sync();
    await this.handle.close();
    await rename(this.partial, this.file);
    // Only now: a close that failed before the rename still lets abort remove the temporary file.
    this.done = true;
    return this.position;
  }

  /** Removes the temporary file (after a failure). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined); // closed already when close failed at the rename
    await rm(this.partial, { force: true });
  }

  private admit(name: string): void {
    if (this.done) throw new Error(`cannot add ${quoted(name)}: the ZIP is closed`);
    const problem = entryNameProblem(name);
    if (problem !== null) throw new Error(`cannot add ${quoted(name)} to a ZIP: ${problem}`);
    if (this.names.has(name)) throw new Error(`cannot add ${quoted(name)} to a ZIP twice`);
    if (this.written.length >= this.limits.maxEntries)
      throw new Error(`a ZIP of more than ${this.limits.maxEntries} entries is not written (it would need ZIP64)`);
  }

  private async append(bytes: Buffer): Promise<void> {
    if (this.position + bytes.length > this.limits.maxBytes)
      throw new Error(
        `the ZIP would be larger than ${sizeText(this.limits.maxBytes)}, which is not written (no ZIP64): bundle a shorter period`,
      );
    await this.writeAt(bytes, this.position);
    this.position += bytes.length;
  }

  private async writeAt(bytes: Buffer, position: number): Promise<void> {
    for (let done = 0; done < bytes.length;)
      done += (await this.handle.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
  }
}

async function* chunksOf(data: string | Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (typeof data === 'string') yield Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) yield data;
  else yield* data;
}

function localHeader(name: Buffer, stamp: { time: number; date: number }): Buffer {
  const header = Buffer.alloc(LOCAL_HEADER_BYTES);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  header.writeUInt16LE(VERSION_NEEDED, 4);
  header.writeUInt16LE(0, 6); // flags: no data descriptor, the sizes are patched in
  header.writeUInt16LE(DEFLATE, 8);
  header.writeUInt16LE(stamp.time, 10);
  header.writeUInt16LE(stamp.date, 12);
  // CRC and sizes (14..25) are patched in by sizesOf once the entry is written.
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, name]);
}

/** CRC-32, compressed and uncompressed size: the 12 bytes at 14 of a local header, at 16 of a central one. */
function sizesOf(entry: WrittenEntry): Buffer {
  const sizes = Buffer.alloc(12);
  sizes.writeUInt32LE(entry.crc, 0);
  sizes.writeUInt32LE(entry.compressedSize, 4);
  sizes.writeUInt32LE(entry.size, 8);
  return sizes;
}

function centralHeader(entry: WrittenEntry, stamp: { time: number; date: number }): Buffer {
  const header = Buffer.alloc(CENTRAL_HEADER_BYTES);
  header.writeUInt32LE(CENTRAL_HEADER, 0);
  header.writeUInt16LE(MADE_BY, 4);
  header.writeUInt16LE(VERSION_NEEDED, 6);
  header.writeUInt16LE(0, 8);
  header.writeUInt16LE(DEFLATE, 10);
  header.writeUInt16LE(stamp.time, 12);
  header.writeUInt16LE(stamp.date, 14);
  sizesOf(entry).copy(header, 16);
  header.writeUInt16LE(entry.name.length, 28);
  // Extra field, comment, disk number, internal attributes: none (30..37).
  header.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
  header.writeUInt32LE(entry.offset, 42);
  return Buffer.concat([header, entry.name]);
}

function endRecord(entries: number, directorySize: number, directoryOffset: number): Buffer {
  const end = Buffer.alloc(END_RECORD_BYTES);
  end.writeUInt32LE(END_RECORD, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(directoryOffset, 16);
  return end;
}

/** MS-DOS date and time (UTC), 1980 to 2107 as the format allows. */
function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  const year = Math.min(2107, Math.max(1980, d.getUTCFullYear()));
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

// ---------------------------------------------------------------------------------------------
// ZIP reading

/** An entry of a ZIP as its central directory describes it, with where its data starts. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  dataOffset: number;
}

export interface ZipDirectory {
  /** The entries taken, in central-directory order. */
  entries: ZipEntry[];
  /** The entries refused (unsafe or duplicate names, too large, overlapping...), one line each. */
  problems: string[];
}

interface CentralEntry {
  name: string;
  nameBytes: Buffer;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * The entries of a ZIP, without reading their data. Throws when the file is no ZIP it takes as a
 * whole (no end record, ZIP64, more than 65,535 entries, larger than 2 GiB, a damaged directory);
 * an entry refused on its own is left out and named in `problems`.
 */
export async function readZipDirectory(file: string): Promise<ZipDirectory> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_ZIP_BYTES)
      throw new Error(`it is ${size} bytes, larger than ${sizeText(MAX_ZIP_BYTES)}: no bundle is (ZIP64 is not read)`);
    const end = await readEndRecord(handle, size);
    const central = parseCentralDirectory(await readAt(handle, end.directoryOffset, end.directorySize), end.entries);
    return await admitEntries(handle, central, end.directoryOffset);
  } finally {
    await handle.close();
  }
}

async function readEndRecord(
  handle: FileHandle,
  size: number,
): Promise<{ entries: number; directoryOffset: number; directorySize: number }> {
  // The end record is last, after a comment of at most 65,535 bytes.
  const tailStart = Math.max(0, size - END_RECORD_BYTES - 0xffff);
  const tail = await readAt(handle, tailStart, size - tailStart);
  for (let i = tail.length - END_RECORD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== END_RECORD || i + END_RECORD_BYTES + tail.readUInt16LE(i + 20) !== tail.length) continue;
    if (i >= 20 && tail.readUInt32LE(i - 20) === ZIP64_LOCATOR)
      throw new Error(`it is a ZIP64 archive (more than ${MAX_ZIP_ENTRIES} entries, or 4 GiB), which no bundle is`);
    if (tail.readUInt16LE(i + 4) !== 0 || tail.readUInt16LE(i + 6) !== 0 || tail.readUInt16LE(i + 8) !== tail.readUInt16LE(i + 10))
      throw new Error('it spans several disks');
    const entries = tail.readUInt16LE(i + 10);
    const directorySize = tail.readUInt32LE(i + 12);
    const directoryOffset = tail.readUInt32LE(i + 16);
    if (directorySize > MAX_CENTRAL_DIRECTORY_BYTES)
      throw new Error(`its central directory is ${directorySize} bytes, more than any bundle's`);
    if (directoryOffset + directorySize > tailStart + i) throw new Error('its central directory lies outside the file');
    return { entries, directoryOffset, directorySize };
  }
  throw new Error('no ZIP end record: not a ZIP, or cut short');
}

function parseCentralDirectory(central: Buffer, declared: number): CentralEntry[] {
  const out: CentralEntry[] = [];
  for (let at = 0; at < central.length;) {
    if (out.length === MAX_ZIP_ENTRIES)
      throw new Error(`its central directory holds more than ${MAX_ZIP_ENTRIES} entries, which no bundle does (ZIP64 is not read)`);
    const damaged = new Error(`its central directory is damaged at entry ${out.length + 1}`);
    if (at + CENTRAL_HEADER_BYTES > central.length || central.readUInt32LE(at) !== CENTRAL_HEADER) throw damaged;
    const nameEnd = at + CENTRAL_HEADER_BYTES + central.readUInt16LE(at + 28);
    const next = nameEnd + central.readUInt16LE(at + 30) + central.readUInt16LE(at + 32);
    if (next > central.length) throw damaged;
    const nameBytes = central.subarray(at + CENTRAL_HEADER_BYTES, nameEnd);
    out.push({
      name: nameBytes.toString('utf8'),
      nameBytes,
      flags: central.readUInt16LE(at + 8),
      method: central.readUInt16LE(at + 10),
      crc32: central.readUInt32LE(at + 16),
      compressedSize: central.readUInt32LE(at + 20),
      size: central.readUInt32LE(at + 24),
      localOffset: central.readUInt32LE(at + 42),
    });
    at = next;
  }
  if (out.length !== declared) throw new Error(`its central directory holds ${out.length} entries where its end record says ${declared}`);
  return out;
}

/** Takes each entry that is safe to read, refusing the others, and any whose data overlaps another's (one byte range read as many files). */
async function admitEntries(handle: FileHandle, central: readonly CentralEntry[], directoryOffset: number): Promise<ZipDirectory> {
  const problems: string[] = [];
  const seen = new Set<string>();
  const taken: ZipEntry[] = [];
  for (const c of central) {
    const problem = centralEntryProblem(c, seen, directoryOffset);
    seen.add(c.name);
    if (problem !== null) {
      problems.push(`entry ${quoted(c.name)} refused: ${problem}`);
      continue;
    }
    try {
      const { flags: _flags, nameBytes: _nameBytes, ...entry } = c;
      taken.push({ ...entry, dataOffset: await dataOffsetOf(handle, c, directoryOffset) });
    } catch (err) {
      problems.push(`entry ${quoted(c.name)} refused: ${messageOf(err)}`);
    }
  }
  const overlapping = new Set<ZipEntry>();
  let previous: ZipEntry | undefined;
  for (const entry of [...taken].sort((a, b) => a.localOffset - b.localOffset)) {
    if (previous && previous.dataOffset + previous.compressedSize > entry.localOffset) {
      problems.push(`entry ${quoted(entry.name)} refused: its data overlaps entry ${quoted(previous.name)}'s`);
      overlapping.add(entry);
    } else previous = entry;
  }
  return { entries: taken.filter((e) => !overlapping.has(e)), problems };
}

function centralEntryProblem(c: CentralEntry, seen: ReadonlySet<string>, directoryOffset: number): string | null {
  const nameProblem = Buffer.from(c.name, 'utf8').equals(c.nameBytes) ? entryNameProblem(c.name) : 'its name is not UTF-8';
  if (nameProblem !== null) return nameProblem;
  if (seen.has(c.name)) return 'a second entry of that name (which one a tool extracts differs)';
  if ((c.flags & 1) !== 0) return 'it is encrypted';
  if (c.method !== DEFLATE && c.method !== STORED) return `compression method ${c.method} (a bundle's entries are deflated or stored)`;
  if (c.size > MAX_ZIP_BYTES || c.compressedSize > MAX_ZIP_BYTES)
    return `it is ${Math.max(c.size, c.compressedSize)} bytes, larger than ${sizeText(MAX_ZIP_BYTES)}: no bundle file is`;
  if (c.method === STORED && c.compressedSize !== c.size) return 'it is stored, yet its compressed size differs from its size';
  if (c.localOffset + LOCAL_HEADER_BYTES > directoryOffset) return 'its data lies outside the archive';
  return null;
}

/** Where the entry's data starts, after its local header, which must name the same entry. */
async function dataOffsetOf(handle: FileHandle, c: CentralEntry, directoryOffset: number): Promise<number> {
  const header = await readAt(handle, c.localOffset, LOCAL_HEADER_BYTES);
  if (header.readUInt32LE(0) !== LOCAL_HEADER) throw new Error('no local header where the central directory says');
  const nameLength = header.readUInt16LE(26);
  const localName = await readAt(handle, c.localOffset + LOCAL_HEADER_BYTES, nameLength);
  // A local header naming another file is how one ZIP shows different files to different tools.
  if (!localName.equals(c.nameBytes) || header.readUInt16LE(8) !== c.method) throw new Error('its local header describes another entry');
  const dataOffset = c.localOffset + LOCAL_HEADER_BYTES + nameLength + header.readUInt16LE(28);
  if (dataOffset + c.compressedSize > directoryOffset) throw new Error('its data runs into the central directory');
  return dataOffset;
}

/**
 * An entry's content, streamed: never more than the size its directory entry gives (a deflate stream
 * that inflates further is stopped there), and checked against its CRC-32 at the end. Throws an
 * Error naming the entry when the content is not what the directory says.
 */
export async function* readZipEntry(file: string, entry: ZipEntry): AsyncGenerator<Buffer> {
  const name = quoted(entry.name);
  let crc = 0;
  let size = 0;
  if (entry.compressedSize > 0) {
    const raw = createReadStream(file, { start: entry.dataOffset, end: entry.dataOffset + entry.compressedSize - 1 });
    const chunks: AsyncIterable<Buffer> = entry.method === DEFLATE ? streamPipeline(raw, createInflateRaw(), () => undefined) : raw;
    try {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > entry.size) throw new ZipContentError(`${name} holds more than the ${entry.size} bytes its directory entry says`);
        crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof ZipContentError) throw err;
      throw new ZipContentError(`${name} cannot be read: ${messageOf(err)}`);
    }
  }
  if (size !== entry.size) throw new ZipContentError(`${name} holds ${size} bytes where its directory entry says ${entry.size}`);
  if (crc >>> 0 !== entry.crc32)
    throw new ZipContentError(
      `${name} fails its CRC-32 check (${hex32(crc)} where its directory entry says ${hex32(entry.crc32)}): its bytes were changed`,
    );
}

class ZipContentError extends Error {}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`the file ends at ${position + done} bytes, before what its directory describes`);
    done += bytesRead;
  }
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// Shared with the bundle's checks

/** Why a name is no safe entry name (one an extraction could write outside its directory), or null. */
export function entryNameProblem(name: string): string | null {
  if (name === '') return 'an empty name';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `a name longer than ${MAX_NAME_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'a control character in its name';
  if (name.includes('\\')) return 'a backslash in its name (a Windows path)';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a ".." segment (a path out of the directory it is extracted to)';
  return null;
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function sizeText(bytes: number): string {
  return bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3} GiB` : `${bytes} bytes`;
}

/** A name from the ZIP as it can be printed on one line (it is the bundle maker's text). */
export function quoted(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}

export function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
}
