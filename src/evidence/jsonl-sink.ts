/**
 * The default evidence sink: a directory of JSON Lines files, one per month (`evidence-2026-11.jsonl`),
 * one sealed record per line, the chain running on across files in name order. Appends hold a lock
 * file, so several workers sharing the directory (a volume) extend one chain; a record already
 * written for the same workflow run is not written twice (an activity retried after its append).
 * The directory is made 0700 and its files 0600: the records name scans, hosts and requesters.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { basename, join } from 'node:path';
import { GENESIS, seal, verifyStream, type Anchor, type ChainVerdict, type Chained } from './chain';
import type { EvidenceSigner } from './signing';

/** How long a lock file may be held before it is taken as left by a crashed writer. */
const STALE_LOCK_MS = 30_000;
/** How much of the newest file's end is read for the chain's head and recent keys. */
const TAIL_BYTES = 1024 * 1024;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export interface KeyedContent {
  /** Identifies what the record is about; a second append with the same key returns the first. */
  key: string;
  recordedAt: string;
}

export class JsonlEvidenceSink<T extends KeyedContent> {
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
    /** Signs each record (EVIDENCE_SIGNING_KEY_FILE); none, records are hash-chained only. */
    private readonly signer?: EvidenceSigner,
  ) {}

  private fileFor(recordedAt: string): string {
    return join(this.dir, `evidence-${recordedAt.slice(0, 7)}.jsonl`);
  }

  /** The chain's files, oldest first. */
  async files(): Promise<string[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return names
      .filter((n) => /^evidence-\d{4}-\d{2}\.jsonl$/.test(n))
      .sort()
      .map((n) => join(this.dir, n));
  }

  /** Appends one record (sealed onto the chain), or returns the record already there for its key. */
  async append(content: T): Promise<T & Chained & { duplicate: boolean }> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    for (;;) {
      const lock = await lockDirectory(this.dir, this.now);
      try {
        const tail = await this.tail();
        const existing = tail.find(content.key);
        if (existing) return { ...existing, duplicate: true };
        const record = seal(content, (tail.head?.seq ?? 0) + 1, tail.head?.hash ?? GENESIS, this.signer);
        // A worker whose clock is behind may date a record before the head's month: it goes after
        // the head all the same, since the chain is read in file-name order.
        const own = this.fileFor(content.recordedAt);
        const file = tail.file !== null && basename(tail.file) > basename(own) ? tail.file : own;
        if (await this.write(file, record, lock)) return { ...record, duplicate: false };
      } finally {
        await lock.release();
      }
    }
  }

  /** Writes one line at the file's end; false, writing nothing, when the lock or the head changed since `record` was sealed. */
  private async write(file: string, record: T & Chained, lock: DirectoryLock): Promise<boolean> {
    const handle = await open(file, 'a+', FILE_MODE);
    try {
      const { size, mode } = await handle.stat();
      // The mode given to open only applies to a file it creates.
      if ((mode & 0o077) !== 0) await handle.chmod(FILE_MODE).catch(ignore('EPERM'));
      // After a crash mid-append the file may not end with a newline: start on a line of our own.
      let lead = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last.toString() !== '\n') lead = '\n';
      }
      // A lock judged stale (this writer stalled past STALE_LOCK_MS, or was caught by another
      // writer breaking a stale lock) may be another writer's now: a record only goes onto the
      // head it was sealed on, so a lock lost meanwhile never forks the chain.
      if (!(await lock.held()) || ((await this.tail()).head?.hash ?? GENESIS) !== record.prevHash) return false;
      await handle.write(`${lead}${JSON.stringify(record)}\n`);
      await handle.sync();
      return true;
    } finally {
      await handle.close();
    }
  }

  /** Every record in chain order (a line that is no sealed record is returned as null, for verify to count). */
  async *records(): AsyncGenerator<(T & Chained) | null> {
    for (const file of await this.files()) {
      // Line by line: a month of records is never held at once.
      const input = createReadStream(file, { encoding: 'utf8' });
      const lines = createInterface({ input, crlfDelay: Infinity });
      try {
        for await (const line of lines) if (line.trim() !== '') yield parseRecord<T>(line);
      } finally {
        lines.close();
        input.destroy();
      }
    }
  }

  /** Walks the whole chain, a record at a time: the count, the head's hash, and every break. */
  verify(anchors: readonly Anchor[] = [], after?: Anchor): Promise<ChainVerdict> {
    return verifyStream(this.records(), anchors, after);
  }

  /** The chain's newest record's place and hash, null for an empty chain (what the head publisher writes elsewhere). */
  async head(): Promise<Anchor | null> {
    const { head } = await this.tail();
    return head ? { seq: head.seq, hash: head.hash } : null;
  }

  /**
   * The end of the newest file holding a record: the chain's head (the last line that parses), that
   * file, and a lookup of the records in the last MiB by key. Only the head and the lines naming the
   * key are parsed, so an append costs a read and a search, not parsing a MiB of JSON.
   */
  private async tail(): Promise<{ head: Chained | null; file: string | null; find: (key: string) => (T & Chained) | undefined }> {
    const files = await this.files();
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i]!;
      const { size } = await stat(file);
      if (size === 0) continue;
      const handle = await open(file, 'r');
      let text: string;
      try {
        const length = Math.min(size, TAIL_BYTES);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, size - length);
        text = buffer.toString('utf8');
        if (length < size) text = text.slice(text.indexOf('\n') + 1); // the first line may be cut
      } finally {
        await handle.close();
      }
      const lines = text.split('\n');
      // A line cut short by a crash mid-append is skipped here (verify counts it as unreadable).
      let head: Chained | null = null;
      for (let j = lines.length - 1; j >= 0 && head === null; j--) head = parseRecord<T>(lines[j]!);
      if (head === null) continue;
      return {
        head,
        file,
        find: (key) => {
          // JSON.stringify escapes quotes inside strings, so `"key":"<key>"` only occurs as a property;
          // the lines that hold it are parsed to tell the record's own key from a nested one.
          const needle = `"key":${JSON.stringify(key)}`;
          return (
            lines
              .filter((l) => l.includes(needle))
              .map((l) => parseRecord<T>(l))
              .find((r) => r?.key === key) ?? undefined
          );
        },
      };
    }
    return { head: null, file: null, find: () => undefined };
  }
}

/** A writer's hold on an evidence directory (see {@link lockDirectory}). */
export interface DirectoryLock {
  /** Whether the lock file still holds this writer's token. */
  held(): Promise<boolean>;
  /** Removes the lock file if it is still this writer's; another writer's lock is left alone. */
  release(): Promise<void>;
}

/**
 * Takes the directory's lock file (`.lock`, 0600), waiting while another writer holds it. The file
 * holds a random token, so a writer only ever removes its own lock. A lock older than STALE_LOCK_MS
 * was left by a writer that died: it is broken. Throws after waiting 2 × STALE_LOCK_MS.
 */
export async function lockDirectory(dir: string, now: () => number = Date.now): Promise<DirectoryLock> {
  const path = join(dir, '.lock');
  const token = randomUUID();
  const deadline = now() + 2 * STALE_LOCK_MS;
  const held = async (): Promise<boolean> => (await tokenOf(path)) === token;
  for (;;) {
    if (await createLock(path, token)) {
      return {
        held,
        release: async () => {
          if (await held()) await rm(path, { force: true });
        },
      };
    }
    const seen = await readLock(path);
    if (seen && now() - seen.mtimeMs > STALE_LOCK_MS) await breakStale(path, seen.token);
    else if (now() > deadline) throw new Error(`evidence directory ${dir} stayed locked (${path}) for ${(2 * STALE_LOCK_MS) / 1000} s`);
    else if (seen) await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
}

/** Creates the lock file holding `token`; false when there is one already. */
async function createLock(path: string, token: string): Promise<boolean> {
  const handle = await open(path, 'wx', FILE_MODE).catch(ignore('EEXIST'));
  if (!handle) return false;
  try {
    await handle.writeFile(token);
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * The lock file's token and age, undefined when there is none. Both from one open file: the token of
 * a new lock with the age of the stale one it replaced would get a live lock broken.
 */
async function readLock(path: string): Promise<{ token: string; mtimeMs: number } | undefined> {
  const handle = await open(path, 'r').catch(ignore('ENOENT'));
  if (!handle) return undefined;
  try {
    const { mtimeMs } = await handle.stat();
    return { token: await handle.readFile('utf8'), mtimeMs };
  } finally {
    await handle.close();
  }
}

/** The lock file's token; undefined when there is none after a short wait (a breaker may have it aside, about to put it back). */
async function tokenOf(path: string): Promise<string | undefined> {
  for (let attempt = 0; ; attempt++) {
    const token = await readFile(path, 'utf8').catch(ignore('ENOENT'));
    if (token !== undefined || attempt === 3) return token;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Removes the stale lock that held `staleToken`. Several writers may judge it stale at once: each
 * moves whatever lock is there aside under a name of its own, so only one of them gets the stale
 * lock; another finding it moved a live lock (taken after the stale one was broken) puts it back,
 * unless a lock exists again by then, which it then leaves as the only one.
 */
async function breakStale(path: string, staleToken: string): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  const moved = await rename(path, aside).then(() => true, ignore('ENOENT'));
  if (!moved) return; // gone already: another writer broke it, or its owner let go
  try {
    const taken = await readFile(aside, 'utf8').catch(ignore('ENOENT'));
    if (taken === undefined || taken === staleToken) return;
    // link never replaces an existing file: a lock created meanwhile stays, and the moved one goes
    // (its writer finds it no longer holds the lock before it writes).
    await link(aside, path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') return;
      // A volume without hard links: open 'wx' refuses to replace a lock as well.
      await createLock(path, taken);
    });
  } finally {
    await rm(aside, { force: true });
  }
}

/** A catch handler that turns the error `code` into undefined and rethrows any other. */
function ignore(code: string): (err: NodeJS.ErrnoException) => undefined {
  return (err) => {
    if (err.code === code) return undefined;
    throw err;
  };
}

/** One line as a sealed record, or null when it is empty or not JSON (a line cut short by a crash). */
function parseRecord<T>(line: string): (T & Chained) | null {
  if (line.trim() === '') return null;
  try {
    const value = JSON.parse(line) as T & Chained;
    return typeof value === 'object' && value !== null && typeof value.seq === 'number' && typeof value.hash === 'string' ? value : null;
  } catch {
    return null;
  }
}
