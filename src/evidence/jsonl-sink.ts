/**
 * The default evidence sink: a directory of JSON Lines files, one per month (`evidence-2026-11.jsonl`),
 * one sealed record per line, the chain running on across files in name order. Appends hold a lock
 * file, so several workers sharing the directory (a volume) extend one chain; a record already
 * written for the same workflow run is not written twice (an activity retried after its append).
 */
import { createReadStream } from 'node:fs';
import { open, readdir, rm, stat, mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { GENESIS, seal, verifyStream, type Anchor, type ChainVerdict, type Chained } from './chain';

/** How long a lock file may be held before it is taken as left by a crashed writer. */
const STALE_LOCK_MS = 30_000;
/** How much of the newest file's end is read for the chain's head and recent keys. */
const TAIL_BYTES = 1024 * 1024;

export interface KeyedContent {
  /** Identifies what the record is about; a second append with the same key returns the first. */
  key: string;
  recordedAt: string;
}

export class JsonlEvidenceSink<T extends KeyedContent> {
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
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
    await mkdir(this.dir, { recursive: true });
    const release = await this.lock();
    try {
      const tail = await this.tail();
      const existing = tail.find(content.key);
      if (existing) return { ...existing, duplicate: true };
      const record = seal(content, (tail.head?.seq ?? 0) + 1, tail.head?.hash ?? GENESIS);
      const file = this.fileFor(content.recordedAt);
      const size = await stat(file).then(
        (st) => st.size,
        () => 0,
      );
      const handle = await open(file, 'a+');
      try {
        // After a crash mid-append the file may not end with a newline: start on a line of our own.
        let lead = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last.toString() !== '\n') lead = '\n';
        }
        await handle.write(`${lead}${JSON.stringify(record)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { ...record, duplicate: false };
    } finally {
      await release();
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

  /** Walks the whole chain, a record at a time: the count, the head's hash, and the first break if any. */
  verify(anchors: readonly Anchor[] = [], after?: Anchor): Promise<ChainVerdict> {
    return verifyStream(this.records(), anchors, after);
  }

  /**
   * The end of the newest file: the chain's head (the last line that parses) and a lookup of the
   * records in the last MiB by key. Only the head and the lines naming the key are parsed, so an
   * append costs a read and a search, not parsing a MiB of JSON.
   */
  private async tail(): Promise<{ head: Chained | null; find: (key: string) => (T & Chained) | undefined }> {
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
    return { head: null, find: () => undefined };
  }

  /** An exclusive lock file; a lock older than STALE_LOCK_MS was left by a writer that died. */
  private async lock(): Promise<() => Promise<void>> {
    const path = join(this.dir, '.lock');
    const deadline = this.now() + 2 * STALE_LOCK_MS;
    for (;;) {
      try {
        const handle = await open(path, 'wx');
        await handle.close();
        return () => rm(path, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(path).then(
          (s) => this.now() - s.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await rm(path, { force: true });
        else if (this.now() > deadline)
          throw new Error(`evidence directory ${this.dir} stayed locked (${path}) for ${(2 * STALE_LOCK_MS) / 1000} s`);
        else await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
    }
  }
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
