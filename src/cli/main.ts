/**
 * `ccs-jobs`: start, follow, cancel and list CCS job runs and scan pipelines, and schedule them.
 * Each command is one spec (src/cli/commands.ts) from which parsing and --help come. Every error is
 * one line and a non-zero exit; stack traces only with --verbose.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../domain/contract';
import { CcsError } from '../domain/errors';
import { COMMANDS } from './commands';
import { connect, type Cli, type GlobalOptions } from './connect';
import { commandHelp, overviewHelp } from './help';
import { CliError, ExitCode } from './output';
import type { Out } from './progress';
import { parseCommandLine, type ParsedCommandLine } from './spec';
import { printable, printableLines } from './terminal-text';

/** The one line printed for an error: ours as written (line breaks kept), anyone else's made printable. */
function errorText(e: unknown): string {
  if (e instanceof CliError) return printableLines(e.message);
  if (e instanceof CcsError) return printable(e.message);
  if (e instanceof WorkflowExecutionAlreadyStartedError) return `workflow ${printable(e.workflowId)} already exists`;
  return `${printable((e as Error).name)}: ${printable((e as Error).message.split('\n')[0])}`;
}

/** Runs the CLI; returns the exit code. Never calls process.exit: the entry point sets process.exitCode. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Out,
  err: (text: string) => void,
): Promise<number> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(argv, COMMANDS);
  } catch (e) {
    err(`ccs-jobs: ${errorText(e)}\n`);
    return ExitCode.error;
  }
  const { command, unknownCommand, flags } = parsed;
  if (!command && unknownCommand !== undefined) {
    err(`ccs-jobs: unknown command ${printable(JSON.stringify(unknownCommand))}; commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`);
    return ExitCode.error;
  }
  if (!command || parsed.help) {
    out.write(`${command ? commandHelp(command) : overviewHelp(COMMANDS)}\n`);
    return ExitCode.ok;
  }
  const options: GlobalOptions = {
    address: flags.string('address'),
    namespace: flags.string('namespace'),
    taskQueue: flags.string('task-queue') ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    verbose: flags.boolean('verbose'),
    command: command.name,
  };
  let cli: Cli | undefined;
  try {
    return await command.run({ args: parsed.args, flags, env, out, err, cli: async () => (cli ??= await connect(options, env)) });
  } catch (e) {
    if (options.verbose) err(`${(e as Error).stack ?? String(e)}\n`);
    err(`ccs-jobs: ${errorText(e)}\n`);
    return e instanceof CliError ? e.exitCode : ExitCode.error;
  } finally {
    await cli?.close();
  }
}

/**
 * The `ccs-jobs` entry point. It sets `process.exitCode` and lets Node exit when the event loop
 * drains, so buffered output (a pipe, a file) is never cut short by an early `process.exit`.
 */
export function run(): void {
  const out: Out = { write: (t) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) };
  main(process.argv.slice(2), process.env, out, (t) => process.stderr.write(t)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`ccs-jobs: ${errorText(e)}\n`);
      process.exitCode = ExitCode.error;
    },
  );
}

if (require.main === module) run();
