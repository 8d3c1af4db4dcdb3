/**
 * The chain's head published outside the store (EVIDENCE_HEAD_FILE): one JSON line per change of the
 * head, `{"publishedAt","seq","hash","signedBy","signature"}`, appended to a file that should live
 * where the store's writers cannot rewrite it (another volume, mounted append-only for the workers:
 * `chattr +a`, or a share only this publisher may append to). Whoever cuts the newest records from the
 * store leaves a chain that is valid in itself; `verify --published-heads FILE` finds the cut, because
 * a published head is no longer in the chain, without anyone typing an anchor by hand.
 */
import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Anchor } from './chain';
import { signatureProblem, type EvidenceSigner } from './signing';

export interface PublishedHead extends Anchor {
  publishedAt: string;
  signedBy?: string;
  signature?: string;
}

/** A published head's line is short; a longer one is not ours and is reported, not parsed. */
const MAX_LINE_CHARS = 1024;
/** How much of the file's end is read to find the last head published. */
const TAIL_BYTES = 8 * 1024;

/** What a head's signature covers (never a record hash: those have no `head:` prefix). */
const signedText = (h: Anchor): string => `head:${h.seq}:${h.hash}`;

/** Anything with a head: both evidence sinks. */
export interface HeadSource {
  head(): Promise<Anchor | null>;
}

/**
 * Appends the store's head to `file` when it differs from the last head published there. Returns
 * what was published, or null when nothing was (an empty chain, or the head unchanged).
 */
export async function publishHead(
  source: HeadSource,
  file: string,
  signer?: EvidenceSigner,
  now: () => number = Date.now,
): Promise<PublishedHead | null> {
  const head = await source.head();
  if (!head) return null;
  const last = await lastPublished(file);
  if (last && last.seq === head.seq && last.hash === head.hash) return null;
  const keyId = signer?.keyId();
  const line: PublishedHead = {
    publishedAt: new Date(now()).toISOString(),
    seq: head.seq,
    hash: head.hash,
    ...(signer && keyId !== undefined ? { signedBy: keyId, signature: signer.sign(signedText(head), keyId) } : {}),
  };
  // 'a': only ever appended to (the file may be append-only: O_APPEND is all it allows).
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(`${JSON.stringify(line)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return line;
}

/** The last head in `file`, undefined when there is none (or no file). */
async function lastPublished(file: string): Promise<PublishedHead | undefined> {
  const size = await stat(file).then(
    (s) => s.size,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return 0;
      throw err;
    },
  );
  if (size === 0) return undefined;
  const handle = await open(file, 'r');
  try {
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      const head = parseHead(line);
      if (head) return head;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

function parseHead(line: string): PublishedHead | undefined {
  if (line.trim() === '' || line.length > MAX_LINE_CHARS) return undefined;
  try {
    const v = JSON.parse(line) as Partial<PublishedHead>;
    if (
      typeof v.seq === 'number' &&
      Number.isSafeInteger(v.seq) &&
      v.seq > 0 &&
      typeof v.hash === 'string' &&
      /^[0-9a-f]{64}$/.test(v.hash)
    )
      return v as PublishedHead;
  } catch {
    // reported by the reader
  }
  return undefined;
}

/** The heads a file holds, as anchors, and what in it could not be used. */
export interface PublishedHeads {
  anchors: Anchor[];
  /** Lines that are no head, or (with keys) heads not signed by one of them: someone wrote there. */
  problems: string[];
}

/**
 * Reads every head published to `file`. With `keys`, a head counts only when signed by one of them
 * (a head written by anyone else is reported, not trusted).
 */
export async function readPublishedHeads(file: string, keys?: ReadonlyMap<string, KeyObject>): Promise<PublishedHeads> {
  const anchors = new Map<number, Anchor>();
  const problems: string[] = [];
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      const head = parseHead(line);
      if (!head) {
        if (problems.length < 100) problems.push(`${file} line ${n} is no published head`);
        continue;
      }
      if (keys) {
        const problem = signatureProblem({ hash: signedText(head), signedBy: head.signedBy, signature: head.signature }, keys);
        if (problem !== null) {
          if (problems.length < 100) problems.push(`${file} line ${n} (head ${head.seq}): ${problem.replace(/^record/, 'head')}`);
          continue;
        }
      }
      const earlier = anchors.get(head.seq);
      if (earlier && earlier.hash !== head.hash) {
        // Two chains were published: one of them is not the chain the workers wrote.
        if (problems.length < 100)
          problems.push(
            `${file} line ${n}: a second head ${head.seq} with another hash (${head.hash.slice(0, 12)}…, earlier ${earlier.hash.slice(0, 12)}…)`,
          );
        continue;
      }
      anchors.set(head.seq, { seq: head.seq, hash: head.hash });
    }
  } finally {
    lines.close();
    input.destroy();
  }
  return { anchors: [...anchors.values()], problems };
}
