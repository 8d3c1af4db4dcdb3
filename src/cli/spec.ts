/**
 * One spec per `ccs-jobs` command: its flags, usage, description and examples in one place. The
 * parser and `--help` are both built from these specs, so a flag exists only where a command
 * declares it, and every flag a command declares is in its help.
 */
import { parseArgs } from 'node:util';
import type { Cli } from './connect';
import { CliError } from './output';
import type { Out } from './progress';

/** One flag of one command (or, with `verbs`, of some of its verbs). */
export interface FlagSpec {
  /** Without the dashes: `poll` for `--poll`. */
  readonly name: string;
  readonly type: 'string' | 'boolean';
  /** May be given several times (`--anchor A --anchor B`). */
  readonly multiple?: boolean;
  readonly short?: string;
  /** How its value reads in help, e.g. `30s` or `TEXT`; string flags only. */
  readonly value?: string;
  /** One line: what it does, its default. */
  readonly help: string;
  /** The verbs (`ccs-jobs schedule create`) that take it; every verb of the command when absent. */
  readonly verbs?: readonly string[];
}

/** The flags a command's handler reads, as parsed. */
export interface FlagValues {
  string(name: string): string | undefined;
  boolean(name: string): boolean;
  list(name: string): string[] | undefined;
}

/** What a command's handler is given. */
export interface CommandContext {
  /** The positional arguments after the command name (the verb first, for commands with verbs). */
  readonly args: readonly string[];
  readonly flags: FlagValues;
  readonly env: Record<string, string | undefined>;
  readonly out: Out;
  /** Standard error: warnings that must not mix with what a script reads from `out`. */
  readonly err: (text: string) => void;
  /** The Temporal client, connected on first use (commands that do not need Temporal never connect). */
  readonly cli: () => Promise<Cli>;
}

/** A `ccs-jobs` command: what parsing, help and dispatch know of it. */
export interface CommandSpec {
  readonly name: string;
  /** Its line in the overview: `run <JobID>|--name N` and what it does. */
  readonly synopsis: string;
  readonly summary: string;
  /** Usage lines, each starting `ccs-jobs <name>`; README's CLI section lists the same lines. */
  readonly usage: readonly string[];
  /** The verbs it takes as its first argument (`schedule create`), if any. */
  readonly verbs?: readonly string[];
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = Object.freeze([
  { name: 'address', type: 'string', value: 'HOST:PORT', help: 'Temporal frontend (default TEMPORAL_ADDRESS or localhost:7233)' },
  { name: 'namespace', type: 'string', value: 'NS', help: 'Temporal namespace (default TEMPORAL_NAMESPACE or default)' },
  { name: 'task-queue', type: 'string', value: 'NAME', help: 'task queue of the workers (default TEMPORAL_TASK_QUEUE or ccs-jobs)' },
  { name: 'verbose', type: 'boolean', help: 'stack traces with errors' },
  { name: 'help', type: 'boolean', short: 'h', help: 'this help' },
]);

type ParseOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function parseOptions(flags: readonly FlagSpec[]): ParseOptions {
  const options: ParseOptions = {};
  for (const f of flags)
    options[f.name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  return options;
}

/**
 * Every flag of every command, once. Throws when two commands declare one name differently (a
 * string here, a boolean there): the first pass of parsing needs one meaning per name.
 */
export function allFlags(commands: readonly CommandSpec[]): FlagSpec[] {
  const byName = new Map<string, FlagSpec>();
  for (const f of [...GLOBAL_FLAGS, ...commands.flatMap((c) => c.flags)]) {
    const seen = byName.get(f.name);
    if (seen && (seen.type !== f.type || Boolean(seen.multiple) !== Boolean(f.multiple) || seen.short !== f.short)) {
      throw new Error(`--${f.name} is declared with two meanings; one name, one type across commands`);
    }
    if (!seen) byName.set(f.name, f);
  }
  return [...byName.values()];
}

/** The flags a command takes for a verb (all of its flags when the verb is not one of its own). */
export function flagsOf(command: CommandSpec, verb: string | undefined): FlagSpec[] {
  const known = verb !== undefined && command.verbs?.includes(verb);
  return [...GLOBAL_FLAGS, ...command.flags.filter((f) => !known || !f.verbs || f.verbs.includes(verb))];
}

/** A parsed command line. `command` is undefined for `ccs-jobs` alone or `ccs-jobs --help`. */
export interface ParsedCommandLine {
  command: CommandSpec | undefined;
  /** The first positional argument when it names no command. */
  unknownCommand: string | undefined;
  args: string[];
  flags: FlagValues;
  help: boolean;
}

type Parsed = Record<string, string | boolean | (string | boolean)[] | undefined>;

function valuesOf(values: Parsed, declared: readonly FlagSpec[], where: string): FlagValues {
  const byName = new Map(declared.map((f) => [f.name, f]));
  // A handler reading a flag its spec does not declare, or as another type, is a bug in this CLI:
  // fail loudly rather than read a quiet undefined.
  const read = (name: string, as: 'string' | 'boolean' | 'list'): unknown => {
    const f = byName.get(name);
    if (!f) throw new Error(`${where} reads --${name}, which its spec does not declare`);
    const declaredAs = f.type === 'boolean' ? 'boolean' : f.multiple ? 'list' : 'string';
    if (declaredAs !== as) throw new Error(`${where} reads --${name} as a ${as}; its spec declares a ${declaredAs}`);
    return values[name];
  };
  return {
    string: (name) => read(name, 'string') as string | undefined,
    boolean: (name) => Boolean(read(name, 'boolean')),
    list: (name) => read(name, 'list') as string[] | undefined,
  };
}

/**
 * Parses `argv` against the specs in two passes: every flag of every command (so a value is never
 * taken for a positional, and an unknown flag is Node's one-line "Unknown option"), then the
 * command's own flags for its verb, refusing a flag of another command with one line naming it.
 * Throws `CliError` (exit 1).
 */
export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[]): ParsedCommandLine {
  let values: Parsed;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: parseOptions(allFlags(commands)),
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    throw new CliError(`${(e as Error).message.split('\n')[0]} (see ccs-jobs --help)`);
  }
  const [name, ...args] = positionals;
  const command = commands.find((c) => c.name === name);
  const help = Boolean(values.help);
  if (!command) return { command: undefined, unknownCommand: name, args, flags: valuesOf(values, GLOBAL_FLAGS, 'ccs-jobs'), help };
  const verb = command.verbs?.includes(args[0] ?? '') ? args[0] : undefined;
  const allowed = flagsOf(command, verb);
  const where = `${command.name}${verb ? ` ${verb}` : ''}`;
  const foreign = Object.keys(values).find((k) => values[k] !== undefined && !allowed.some((f) => f.name === k));
  if (foreign !== undefined) {
    const own = allowed.filter((f) => !GLOBAL_FLAGS.includes(f)).map((f) => `--${f.name}`);
    throw new CliError(
      `${where} does not take --${foreign}; ${own.length ? `its options: ${own.join(', ')}` : 'it has no options of its own'} (see ccs-jobs ${command.name} --help)`,
    );
  }
  // The handler may read any flag of its command: those its verb does not take were refused above.
  return {
    command,
    unknownCommand: undefined,
    args,
    flags: valuesOf(values, [...GLOBAL_FLAGS, ...command.flags], `ccs-jobs ${where}`),
    help,
  };
}
