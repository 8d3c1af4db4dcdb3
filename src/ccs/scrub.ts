/**
 * The one scrubber for text that came from CCS or from a request: error bodies, protocol-error
 * previews, anything that may become an error message, a log field or a result. CCS servers, IIS
 * error pages and gateways echo what they were sent, so both what this process knows to be secret
 * (the password, the tokens it was issued and still uses) and anything shaped like a credential are
 * removed, in whatever escaping the echo wrote them (JSON, HTML entities, percent, form, base64url).
 *
 * Cost is linear in the text and does not grow with the worker's age: all known secrets are one
 * pattern, rebuilt only when the set changes; tokens are forgotten once expired (plus a grace), and
 * callers that keep only a prefix scrub only that prefix ({@link SecretSet.scrubPrefix}).
 */

const REDACTED = '[redacted]';

/** Names whose value is a credential wherever they appear: JSON keys, headers, form and query fields. */
const SECRET_KEY = String.raw`(?:access|refresh|id)[-_]?token|password|passwd|pwd|client[-_]?secret|api[-_]?key|x-api-key`;
/** Headers whose whole value is a credential (cookies hold several `name=value;` pairs). */
const SECRET_HEADER = String.raw`proxy-authorization|authorization|set-cookie|cookie|x-api-key|x-auth-token`;

/**
 * Credential-shaped text in one pattern; each alternative names the span to redact `v<n>`. Values
 * run to the end of the text when it was cut inside them, so a prefix never shows half a credential.
 */
const CREDENTIALS = new RegExp(
  [
    // JSON: "AccessToken": "…", "password": "…" (any case, '-' or '_' or nothing between the words).
    String.raw`"(?:${SECRET_KEY}|token|secret|${SECRET_HEADER})"\s*:\s*"(?<v1>(?:[^"\\]|\\.)*)`,
    // Headers as text: `Cookie: a=b; c=d`, `Authorization: Bearer x` (up to the end of the line or quote).
    String.raw`\b(?:set-cookie|cookie)\s*[:=]\s*"?(?<v2>[^"\r\n]*)`,
    String.raw`\b(?:proxy-authorization|authorization|x-api-key|x-auth-token)\s*[:=]\s*"?(?<v3>[^"\r\n,;}]*)`,
    String.raw`\b(?:bearer|basic)\s+(?<v4>[A-Za-z0-9\-._~+/]+=*)`,
    // Forms, queries, connection strings: password=…, pwd=…, access_token=…
    String.raw`\b(?:${SECRET_KEY})\s*[=:]\s*(?<v5>[^&\s"',;}<]+)`,
  ].join('|'),
  'gid',
);
const VALUE_GROUPS = ['v1', 'v2', 'v3', 'v4', 'v5'] as const;
/** Every alternative of {@link CREDENTIALS} names one of these: most texts are ruled out by this cheap test. */
const MAY_HOLD_CREDENTIAL = /token|pass|pwd|secret|key|auth|cookie|bearer|basic/i;

/** Secrets shorter than this are not searched for as plain text (too many false hits). */
const MIN_SECRET_LENGTH = 4;
/** At most this many tokens are remembered, expired or not: memory and the pattern stay bounded. */
export const MAX_REMEMBERED_TOKENS = 64;
/** Passwords remembered (rotations through a password file): the oldest is forgotten first. */
export const MAX_REMEMBERED_PASSWORDS = 8;
/**
 * A token is still searched for this long after it expired or was replaced: an answer to a request
 * sent with it can arrive up to the request timeout later, and a gateway may echo it after that.
 */
export const TOKEN_GRACE_MS = 10 * 60_000;
/** Room past a cut for a credential's name and separators, beyond the longest encoded secret. */
const CREDENTIAL_MARGIN = 256;
/** The longest one character of a secret becomes when escaped (`%F0%9F%94%91`, `\uD83D\uDD11`). */
const MAX_ESCAPE_LENGTH = 12;

type Range = [start: number, end: number];

interface Remembered {
  /** Epoch ms after which the secret is no longer searched for; Infinity while it is in use. */
  forgetAt: number;
}

export interface SecretSetOptions {
  now?: (() => number) | undefined;
}

/**
 * Secrets one CCS client knows: its passwords (as typed and as sent) and the tokens it was issued
 * while they are valid plus {@link TOKEN_GRACE_MS}, at most {@link MAX_REMEMBERED_TOKENS} of them.
 */
export class SecretSet {
  private readonly passwords = new Map<string, Remembered>();
  private readonly tokens = new Map<string, Remembered>();
  private readonly now: () => number;
  private matcher: { pattern: RegExp | null; margin: number; nextForget: number } | null = null;

  constructor(options: SecretSetOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** A password as typed or as sent (every encoding the worker sends it in is added by the caller). */
  addPassword(secret: string | null | undefined): void {
    this.remember(this.passwords, secret, Infinity, MAX_REMEMBERED_PASSWORDS);
  }

  /** A token this process was issued; searched for until `expiresAt` (epoch ms) plus the grace. */
  add(secret: string | null | undefined, expiresAt = Infinity): void {
    this.remember(this.tokens, secret, expiresAt + TOKEN_GRACE_MS, MAX_REMEMBERED_TOKENS);
  }

  /** A token no longer used (replaced, refused): forgotten after the grace, or at its expiry if sooner. */
  retire(secret: string | null | undefined): void {
    const entry = secret ? this.tokens.get(secret) : undefined;
    if (!entry) return;
    const forgetAt = Math.min(entry.forgetAt, this.now() + TOKEN_GRACE_MS);
    if (forgetAt !== entry.forgetAt) {
      entry.forgetAt = forgetAt;
      this.matcher = null;
    }
  }

  /** How many secrets (passwords and tokens) are searched for now. */
  get size(): number {
    this.current();
    return this.passwords.size + this.tokens.size;
  }

  private remember(into: Map<string, Remembered>, secret: string | null | undefined, forgetAt: number, cap: number): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    const known = into.get(secret);
    const until = Math.max(forgetAt, known?.forgetAt ?? 0);
    into.delete(secret); // re-inserted as the newest
    into.set(secret, { forgetAt: until });
    if (known?.forgetAt === until) return; // the same secrets as before: the pattern stands
    while (into.size > cap) into.delete(into.keys().next().value!);
    this.matcher = null;
  }

  /** The pattern of every secret still remembered, rebuilt only when the set changed or one expired. */
  private current(): { pattern: RegExp | null; margin: number } {
    const now = this.now();
    if (this.matcher && now < this.matcher.nextForget) return this.matcher;
    let nextForget = Infinity;
    for (const into of [this.passwords, this.tokens]) {
      for (const [secret, { forgetAt }] of into) {
        if (forgetAt <= now) into.delete(secret);
        else nextForget = Math.min(nextForget, forgetAt);
      }
    }
    const forms = [...new Set([...this.passwords.keys(), ...this.tokens.keys()].flatMap(secretForms))].sort((a, b) => b.length - a.length);
    this.matcher = {
      pattern: forms.length ? new RegExp(forms.map(anyEscaping).join('|'), 'g') : null,
      margin: (forms[0]?.length ?? 0) * MAX_ESCAPE_LENGTH + CREDENTIAL_MARGIN,
      nextForget,
    };
    return this.matcher;
  }

  /** `text` with every known secret and every credential-shaped value replaced. */
  scrub(text: string): string {
    if (text.length < MIN_SECRET_LENGTH) return text;
    return render(text, redactions(text, this.current().pattern), text.length);
  }

  /**
   * The first `limit` characters of `text` scrubbed, for callers that keep only those: costs the
   * prefix, not the text. A secret or credential cut by the prefix's end is still removed, because a
   * window larger than the prefix by the longest encoded secret is scrubbed before the cut.
   */
  scrubPrefix(text: string, limit: number): string {
    const { pattern, margin } = this.current();
    for (let window = limit + margin; ; window *= 2) {
      if (window >= text.length) return render(text, redactions(text, pattern), text.length).slice(0, limit);
      const part = text.slice(0, window);
      // Only what lies a margin before the window's end is known whole: stop there.
      const kept = render(part, redactions(part, pattern), window - margin);
      if (kept.length >= limit) return kept.slice(0, limit);
    }
  }

  /**
   * Parsed JSON with every string scrubbed in place, each cut to `maxTextChars` first (saying how
   * much was cut): the cost of a huge text is its first `maxTextChars`. Walked without recursion (a
   * deeply nested answer cannot overflow the stack) and without a `JSON.parse` reviver (several
   * times slower on answers of many small strings).
   */
  scrubStrings<T>(value: T, maxTextChars: number): T {
    const text = (s: string): string =>
      s.length <= maxTextChars ? this.scrub(s) : `${this.scrubPrefix(s, maxTextChars)}… (${s.length - maxTextChars} more characters)`;
    if (typeof value === 'string') return text(value) as T;
    const pending: unknown[] = [value];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      if (node === null || typeof node !== 'object') continue;
      const holder = node as Record<string, unknown>;
      for (const key of Array.isArray(node) ? node.keys() : Object.keys(holder)) {
        const item = holder[key];
        if (typeof item === 'string') holder[key] = text(item);
        else if (item !== null && typeof item === 'object') pending.push(item);
      }
    }
    return value;
  }
}

/** `text` with every credential-shaped value (and the given secrets, if any) replaced by `[redacted]`. */
export function scrub(text: string, secrets: Iterable<string> = []): string {
  const set = new SecretSet();
  for (const secret of secrets) set.addPassword(secret);
  return set.scrub(text);
}

/** `text` with anything between `//` and `@` hidden: a URL, even one that does not parse, may hold a password. */
export function withoutUserinfo(text: string): string {
  return text.replace(/\/\/[^/?#\s]*@/g, '//[redacted]@');
}

/**
 * The forms a secret is echoed in beyond per-character escaping (see {@link anyEscaping}): Base64
 * without its padding and as base64url, since a gateway may re-encode the password the worker sent.
 */
function secretForms(secret: string): string[] {
  const forms = [secret];
  if (/^[A-Za-z0-9+/]+=*$/.test(secret)) {
    const unpadded = secret.replace(/=+$/, '');
    if (unpadded.length >= MIN_SECRET_LENGTH) forms.push(unpadded, unpadded.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/** JSON's short escapes and HTML's named entities, beside the numeric forms every character has. */
const SHORT_ESCAPES: Record<string, string[]> = {
  '"': ['\\"', '&quot;'],
  '\\': ['\\\\'],
  '/': ['\\/'],
  '&': ['&amp;'],
  '<': ['&lt;'],
  '>': ['&gt;'],
  "'": ['&apos;'],
  ' ': ['+'],
};

/**
 * A pattern for `secret` in any escaping, character by character: each character other than a
 * letter or digit as itself, as a JSON `\uXXXX` or short escape, percent-encoded (UTF-8), or as an
 * HTML entity (decimal, hex, named), in either case of hex digits.
 */
function anyEscaping(secret: string): string {
  let out = '';
  for (const char of secret) {
    if (/[A-Za-z0-9]/.test(char)) {
      out += char;
      continue;
    }
    const code = char.codePointAt(0)!;
    // An astral character is two UTF-16 units in JSON: `\uD83D\uDE00`.
    const json = [...Array(char.length).keys()].map((i) => `\\\\u${hexAnyCase(char.charCodeAt(i).toString(16).padStart(4, '0'))}`).join('');
    const percent = [...Buffer.from(char, 'utf8')].map((byte) => `%${hexAnyCase(byte.toString(16).padStart(2, '0'))}`).join('');
    const forms = [
      escapeRegExp(char),
      json,
      percent,
      `&#0*${code};`,
      `&#[xX]0*${hexAnyCase(code.toString(16))};`,
      ...(SHORT_ESCAPES[char] ?? []).map(escapeRegExp),
    ];
    out += `(?:${forms.join('|')})`;
  }
  return out;
}

function hexAnyCase(hex: string): string {
  return hex.replace(/[a-f]/gi, (d) => `[${d.toLowerCase()}${d.toUpperCase()}]`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The spans of `text` to redact: known secrets and credential values, merged, in order. */
function redactions(text: string, secrets: RegExp | null): Range[] {
  const ranges: Range[] = [];
  // exec loops, not matchAll: matchAll copies the pattern on every call, most of the cost for short texts.
  if (secrets) {
    secrets.lastIndex = 0;
    for (let m = secrets.exec(text); m; m = secrets.exec(text)) ranges.push([m.index, m.index + m[0].length]);
  }
  if (MAY_HOLD_CREDENTIAL.test(text)) {
    CREDENTIALS.lastIndex = 0;
    for (let m = CREDENTIALS.exec(text); m; m = CREDENTIALS.exec(text)) {
      const groups = m.indices?.groups;
      const span = VALUE_GROUPS.map((g) => groups?.[g]).find((s) => s !== undefined);
      if (span && span[1] > span[0]) ranges.push([span[0], span[1]]);
    }
  }
  if (ranges.length === 0) return ranges;
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** `text` up to `end` with each range replaced by `[redacted]` (a range crossing `end` is redacted up to it). */
function render(text: string, ranges: readonly Range[], end: number): string {
  if (ranges.length === 0) return end >= text.length ? text : text.slice(0, end);
  let out = '';
  let at = 0;
  for (const [start, stop] of ranges) {
    if (start >= end) break;
    out += text.slice(at, start) + REDACTED;
    at = stop;
  }
  return at < end ? out + text.slice(at, end) : out;
}
