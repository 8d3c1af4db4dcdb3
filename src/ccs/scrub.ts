/**
 * The one scrubber for text that came from CCS or from a request: error bodies, protocol-error
 * previews, anything that may become an error message, a log field or a result. CCS servers, IIS
 * error pages and gateways echo what they were sent, so both what this process knows to be secret
 * (the password, every token it was issued) and anything shaped like a credential are removed.
 */

const REDACTED = '[redacted]';
/** Credential-shaped text: header values, bearer/basic credentials, JSON and form fields. */
const CREDENTIAL_PATTERNS: [RegExp, (match: string, ...groups: string[]) => string][] = [
  [/\b(authorization|proxy-authorization)(\s*[:=]\s*)("?)[^"\r\n,;}]*\3/gi, (_m, name, sep, quote) => `${name}${sep}${quote}${REDACTED}${quote}`],
  [/\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9\-._~+/]+=*/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  [/("(?:access_token|refresh_token|password|passwd|client_secret|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, (_m, prefix) => `${prefix}"${REDACTED}"`],
  [/\b((?:access_token|refresh_token|password|passwd|client_secret)\s*[=:]\s*)(?!\[redacted\])[^&\s"',;}]+/gi, (_m, prefix) => `${prefix}${REDACTED}`],
];
/** Secrets shorter than this are not searched for as plain text (too many false hits). */
const MIN_SECRET_LENGTH = 4;

/** Tokens remembered for scrubbing: older ones have long expired, and memory stays bounded. */
const MAX_REMEMBERED_TOKENS = 64;

/**
 * Secrets one CCS client knows: its password(s), kept for the life of the process, and the tokens it
 * was issued, the newest {@link MAX_REMEMBERED_TOKENS} of them.
 */
export class SecretSet {
  private readonly passwords = new Set<string>();
  private readonly tokens = new Set<string>();
  private ordered: string[] | null = [];

  /** A password (as typed, or as sent): never forgotten. */
  addPassword(secret: string | null | undefined): void {
    this.remember(this.passwords, secret);
  }

  /** A token this process was issued. */
  add(secret: string | null | undefined): void {
    this.remember(this.tokens, secret);
    while (this.tokens.size > MAX_REMEMBERED_TOKENS * 3) this.tokens.delete(this.tokens.values().next().value!);
  }

  private remember(into: Set<string>, secret: string | null | undefined): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    // Forms and URLs carry them encoded too.
    for (const form of new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])) {
      if (into.has(form)) continue;
      into.add(form);
      this.ordered = null;
    }
  }

  /** `text` with every known secret and every credential-shaped value replaced. */
  scrub(text: string): string {
    // Longest first, so a secret that contains another is removed whole.
    this.ordered ??= [...this.passwords, ...this.tokens].sort((a, b) => b.length - a.length);
    return scrub(text, this.ordered, true);
  }
}

/** `text` with the given secrets and every credential-shaped value replaced by `[redacted]`. */
export function scrub(text: string, secrets: Iterable<string> = [], sorted = false): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of sorted ? secrets : [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replace] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replace);
  return out;
}
