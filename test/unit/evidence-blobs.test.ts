/**
 * Content-addressed evidence blobs (issue 31): a CCS answer kept verbatim under its SHA-256, written
 * once, private like the records, and a blob swapped for other bytes caught when read.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobDigestMismatch, FileBlobStore, MAX_BLOB_BYTES, sha256Of } from '../../src/evidence/blob-store';
import { tempDir } from '../temp-dir';

describe('file blob store', () => {
  it('keeps bytes under their SHA-256, once, 0600 in 0700 directories, and reads them back checked', async () => {
    const dir = tempDir('ccs-blobs-');
    const store = new FileBlobStore(dir);
    const answer = Buffer.from('{"Checks":[{"CheckId":"c1","Result":"Fail"}]}');
    const ref = await store.put(answer);
    expect(ref).toEqual({ sha256: sha256Of(answer), bytes: answer.length });
    const path = store.pathOf(ref.sha256);
    expect(path).toBe(join(dir, 'blobs', 'sha256', ref.sha256.slice(0, 2), ref.sha256));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'blobs', 'sha256', ref.sha256.slice(0, 2))).mode & 0o777).toBe(0o700);
    expect(await store.put(answer)).toEqual(ref);
    expect(readdirSync(join(path, '..'))).toEqual([ref.sha256]); // no second copy, no temporary left
    expect(await store.get(ref.sha256)).toEqual(answer);
    expect(await store.get('0'.repeat(64))).toBeUndefined();
  });

  it('a blob swapped for other bytes is reported when read; a name that is no digest is refused', async () => {
    const store = new FileBlobStore(tempDir('ccs-blobs-'));
    const ref = await store.put(Buffer.from('the answer CCS gave'));
    writeFileSync(store.pathOf(ref.sha256), 'another answer');
    await expect(store.get(ref.sha256)).rejects.toBeInstanceOf(BlobDigestMismatch);
    await expect(store.get(ref.sha256)).rejects.toThrow(/holds bytes whose SHA-256 is [0-9a-f]{64}: it was replaced or damaged/);
    await expect(store.get('../../etc/passwd')).rejects.toThrow(/a blob is named by 64 lower-case hex digits/);
    await expect(store.put(Buffer.alloc(MAX_BLOB_BYTES + 1))).rejects.toThrow(/more than the \d+ kept/);
  });
});
