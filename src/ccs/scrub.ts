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

/** Secrets one CCS client knows: its password(s) and every token it was issued. */
export class SecretSet {
  private readonly secrets = new Set<string>();

  add(secret: string | null | undefined): void {
    if (!secret || secret.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(secret);
    // Forms and URLs carry them encoded too.
    this.secrets.add(encodeURIComponent(secret));
    this.secrets.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }

  /** `text` with every known secret and every credential-shaped value replaced. */
  scrub(text: string): string {
    return scrub(text, this.secrets);
  }
}

/** `text` with the given secrets and every credential-shaped value replaced by `[redacted]`. */
export function scrub(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replace] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replace);
  return out;
}
