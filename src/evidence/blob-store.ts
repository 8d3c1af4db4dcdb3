/**
 * Content-addressed blobs beside the evidence records: a CCS answer kept verbatim (a run's raw
 * `Results`, its `Reports` file), named by the SHA-256 of its bytes. A record lists the digests it
 * rests on, so the chain covers them: a blob swapped for another no longer has the digest it is
 * stored under, and one removed is missing from where the record says it is.
 *
 * The file store keeps `blobs/sha256/<first 2 hex>/<64 hex>` under the evidence directory (0700
 * directories, 0600 files, as the records), each written to a temporary name and renamed, so a
 * reader never sees half a blob and a second write of the same bytes is a no-op.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A blob as a record cites it. */
export interface BlobRef {
  sha256: string;
  bytes: number;
}

/** Where blobs are kept: the JSON Lines directory's file store, or PostgreSQL's table. */
export interface BlobStore {
  /** Stores `bytes` (nothing when a blob of that digest is there already) and returns its reference. */
  put(bytes: Uint8Array): Promise<BlobRef>;
  /** The blob's bytes, checked against its digest; undefined when there is none. */
  get(sha256: string): Promise<Buffer | undefined>;
}

/** The largest blob kept: a CCS answer is bounded below this by CCS_MAX_RESPONSE_BYTES already. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A blob read back whose bytes do not hash to the name it is stored under: it was replaced. */
export class BlobDigestMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`blob ${expected} holds bytes whose SHA-256 is ${actual}: it was replaced or damaged`);
    this.name = 'BlobDigestMismatch';
  }
}

function checkedDigest(sha256: string): string {
  if (!HEX64.test(sha256))
    throw new Error(`a blob is named by 64 lower-case hex digits (its SHA-256); got ${JSON.stringify(sha256.slice(0, 80))}`);
  return sha256;
}

/** Blobs as files under an evidence directory. */
export class FileBlobStore implements BlobStore {
  constructor(readonly evidenceDir: string) {}

  pathOf(sha256: string): string {
    const digest = checkedDigest(sha256);
    return join(this.evidenceDir, 'blobs', 'sha256', digest.slice(0, 2), digest);
  }

  async put(bytes: Uint8Array): Promise<BlobRef> {
    if (bytes.length > MAX_BLOB_BYTES) throw new Error(`a blob of ${bytes.length} bytes is more than the ${MAX_BLOB_BYTES} kept`);
    const sha256 = sha256Of(bytes);
    const path = this.pathOf(sha256);
    const existing = await stat(path).catch(() => undefined);
    // Same name, same bytes (or a replaced file, which get() reports): nothing to write.
    if (existing?.size === bytes.length) return { sha256, bytes: bytes.length };
    const dir = join(path, '..');
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const temp = join(dir, `.${sha256}.${randomUUID()}.partial`);
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.write(bytes);
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    await handle.close();
    await rename(temp, path);
    return { sha256, bytes: bytes.length };
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    const path = this.pathOf(sha256);
    const size = (await stat(path).catch(() => undefined))?.size;
    if (size === undefined) return undefined;
    if (size > MAX_BLOB_BYTES) throw new BlobDigestMismatch(sha256, `unknown (the file is ${size} bytes, more than any blob kept)`);
    const bytes = await readFile(path);
    const actual = sha256Of(bytes);
    if (actual !== sha256) throw new BlobDigestMismatch(sha256, actual);
    return bytes;
  }
}
