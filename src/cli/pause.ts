/** `ccs-jobs pause` and `ccs-jobs resume`: hold a running job or pipeline without aborting it, and end the hold. */
import { WorkflowName, pauseSignal, resumeSignal } from '../domain/contract';
import { pauseFrom, type PauseInput } from '../domain/pause';
import { flagError } from './flag-errors';
import { CliError, ExitCode } from './output';
import type { CommandSpec, FlagValues } from './spec';
import { printable } from './terminal-text';
import { untilFrom } from './until';
import { signalRunning } from './workflow-calls';

/** The `pause` signal's input from the command line, checked as the workflow will check it. */
export function pauseInput(flags: FlagValues, nowMs = Date.now()): PauseInput {
  const reason = flags.string('reason');
  const until = untilFrom(flags.string('until'), nowMs);
  const input: PauseInput = {
    ...(reason ? { reason } : {}),
    ...(until ? { until } : {}),
    ...(flags.boolean('hold-deadline') ? { holdDeadline: true } : {}),
  };
  try {
    pauseFrom(input, nowMs);
  } catch (err) {
    throw flagError(err, {});
  }
  return input;
}

function workflowIdOf(args: readonly string[], verb: string): string {
  if (!args[0]) throw new CliError(`name the workflow: ccs-jobs ${verb} <workflowId>`);
  return args[0];
}

export const pauseCommand: CommandSpec = {
  name: 'pause',
  synopsis: 'pause <workflowId>',
  summary: 'hold a job or pipeline: no CCS request, no new job, no abort (--until, --hold-deadline)',
  usage: ['ccs-jobs pause <workflowId> [--reason TEXT] [--until 2h|2026-12-01T06:00:00Z] [--hold-deadline]'],
  description: `Sends the pause signal. A paused runCcsJob stops polling (its wait in flight is stopped first, so
nothing more reaches CCS), does not abort its run, and shows phase paused and CcsPaused; a paused
pipeline starts no new stage or job and pauses its running jobs. A cancel while paused still aborts.`,
  flags: [
    { name: 'reason', type: 'string', value: 'TEXT', help: 'why, shown by status (at most 500 characters)' },
    {
      name: 'until',
      type: 'string',
      value: '2h|ISO_TIME',
      help: 'resume by itself after this duration or at this time (default: until ccs-jobs resume)',
    },
    { name: 'hold-deadline', type: 'boolean', help: "stop the run's timeout clock while paused (default: deadlines keep counting)" },
  ],
  examples: [
    'ccs-jobs pause ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --reason "CCS patching CHG0012345" --until 2h',
    'ccs-jobs pause ccs-pipeline-nightly-scan --hold-deadline',
  ],
  async run({ args, flags, out, cli }) {
    const workflowId = workflowIdOf(args, 'pause');
    const input = pauseInput(flags);
    const { description } = await signalRunning(await cli(), workflowId, pauseSignal, [input], { verb: 'pause' });
    const id = printable(workflowId);
    const what = description.type === WorkflowName.runCcsPipeline ? 'no CCS request and no new job' : 'no CCS request';
    out.write(
      `pause requested for ${id}: ${what} until ${input.until ? `${input.until} or ` : ''}ccs-jobs resume ${id}; the run is not aborted${input.holdDeadline ? '; its deadline is held' : ''}\n`,
    );
    return ExitCode.ok;
  },
};

export const resumeCommand: CommandSpec = {
  name: 'resume',
  synopsis: 'resume <workflowId>',
  summary: 'end a pause',
  usage: ['ccs-jobs resume <workflowId> [--reason TEXT]'],
  description: `Sends the resume signal: polling (and, for a pipeline, its next jobs) goes on; a held deadline is
moved by the time spent paused.`,
  flags: [{ name: 'reason', type: 'string', value: 'TEXT', help: 'why, logged' }],
  examples: ['ccs-jobs resume ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16'],
  async run({ args, flags, out, cli }) {
    const workflowId = workflowIdOf(args, 'resume');
    const reason = flags.string('reason');
    await signalRunning(await cli(), workflowId, resumeSignal, [reason ? { reason } : {}], { verb: 'resume' });
    out.write(`resume requested for ${printable(workflowId)}\n`);
    return ExitCode.ok;
  },
};
