/**
 * Text from CCS or from a person, made safe to print on a terminal. A CCS exception, a job
 * message, a `--reason` or a `--requested-by` can hold ANSI/OSC escape sequences (retitle the
 * window, rewrite the screen, forge a line) or newlines; every such text goes through
 * {@link printable} before the CLI writes it, so it shows as text and does nothing.
 */

/**
 * C0 controls (newline and tab included), DEL, C1 controls, the Unicode line and paragraph
 * separators and the bidirectional overrides and isolates ("Trojan Source").
 */
// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's purpose
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of text with every control character shown as its `\uXXXX` escape: `ESC]0;x BEL`
 * prints as `\u001b]0;x\u0007`. Undefined and null print as the empty string.
 */
export function printable(text: string | undefined | null): string {
  if (text === undefined || text === null) return '';
  return String(text).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Like {@link printable}, keeping the line breaks the CLI itself put in a multi-line message. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
