/** Small text helpers for the CLI: tables, elapsed times, errors. */

/** A thrown CliError prints as one line and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes of `ccs-jobs` (documented in the README). */
export const ExitCode = Object.freeze({ ok: 0, error: 1, failed: 2, aborted: 3, timedOut: 4, orphans: 5 });

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function elapsed(fromIso: string | Date | undefined, to = Date.now()): string {
  if (!fromIso) return '-';
  const seconds = Math.max(0, Math.round((to - new Date(fromIso).getTime()) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
