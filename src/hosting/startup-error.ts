/**
 * A process that cannot start says why in one line, naming what it tried and the fix, never with a
 * stack trace (set DEBUG_STACKS=1 for one). Shared by the worker, the codec server and the simulator.
 */
import { ConfigError } from './config';
import { NamespaceNotUsableError } from './namespace-preflight';

const BY_CODE: Record<string, string> = {
  EADDRINUSE: 'the address is already in use: stop what listens there, or choose another port',
  EACCES: 'permission denied: use a port above 1023, or run with the right privileges',
  EADDRNOTAVAIL: 'this host has no such address: bind to 127.0.0.1, 0.0.0.0 or one of its addresses',
  ENOTFOUND: 'the host name does not resolve',
  ECONNREFUSED: 'nothing answers there: is it running, and is the address right?',
};

function codeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `<what>: <reason>` on one line (configuration problems keep their one line each). */
export function startupErrorLine(what: string, err: unknown): string {
  // Written to be printed whole: every configuration problem; every attribute a namespace lacks and the command.
  if (err instanceof ConfigError || err instanceof NamespaceNotUsableError) return `${what}: ${err.message}`;
  const code = codeOf(err);
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
  if (/failed to connect|transport error|connection refused|dns error|tcp connect/i.test(text) && !code) {
    return `${what}: cannot reach Temporal (${text.slice(0, 160)}); check TEMPORAL_ADDRESS and that the server runs`;
  }
  const hint = code ? BY_CODE[code] : undefined;
  return `${what}: ${text.slice(0, 300)}${hint ? ` (${hint})` : ''}`;
}

/** Prints the one line (a stack only with DEBUG_STACKS=1) and sets the exit code. */
export function reportStartupError(what: string, err: unknown): void {
  console.error(startupErrorLine(what, err));
  if (process.env.DEBUG_STACKS === '1' && err instanceof Error) console.error(err.stack);
  process.exitCode = 1;
}
