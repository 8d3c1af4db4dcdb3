/** `ccs-jobs --help` and `ccs-jobs <command> --help`, rendered from the command specs. */
import { GLOBAL_FLAGS, type CommandSpec, type FlagSpec } from './spec';

const FLAG_COLUMN = 24;

function flagLabel(f: FlagSpec): string {
  return `--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}${f.short ? `, -${f.short}` : ''}`;
}

/** One line per flag: `--poll 30s   first wait between status reads`, its verbs named when not all. */
export function flagLines(flags: readonly FlagSpec[]): string[] {
  return flags.map((f) => {
    const label = flagLabel(f);
    const help = `${f.verbs ? `(${f.verbs.join(', ')}) ` : ''}${f.help}${f.multiple ? '; may be repeated' : ''}`;
    return label.length < FLAG_COLUMN - 2
      ? `  ${label.padEnd(FLAG_COLUMN - 2)}${help}`
      : `  ${label}\n  ${' '.repeat(FLAG_COLUMN - 2)}${help}`;
  });
}

/** A command's help: usage, description, options, examples. */
export function commandHelp(c: CommandSpec): string {
  return [
    ...c.usage,
    '',
    c.description,
    ...(c.flags.length ? ['Options:', ...flagLines(c.flags)] : []),
    `${c.examples.length === 1 ? 'Example' : 'Examples'}:`,
    ...c.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/** The overview: every command with its synopsis, exit codes, global options. */
export function overviewHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((c) => c.synopsis.length)) + 2;
  return [
    'ccs-jobs: durable CCS job runs on Temporal',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.synopsis.padEnd(width)}${c.summary}`),
    '',
    'Run "ccs-jobs <command> --help" for a command\'s options and examples.',
    'Exit codes: 0 completed, 1 error, 2 faulted/failed, 3 aborted/cancelled, 4 timed out, 5 runs without an owner (reconcile).',
    'Global options:',
    ...flagLines(GLOBAL_FLAGS),
  ].join('\n');
}
