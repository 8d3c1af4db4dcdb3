/** `ccs-jobs run`: start (or attach to) a runCcsJob workflow, by JobID or by the job's name. */
import { randomUUID } from 'node:crypto';
import { TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { WorkflowName, jobWorkflowId, type RunCcsJobInput } from '../domain/contract';
import { requireJobName } from '../domain/job-names';
import { checkedRunCcsJobInput } from '../domain/job-workflow';
import type { resolveCcsJobNames } from '../workflows/job-names';
import type { Cli } from './connect';
import { checkedByField, flagError } from './flag-errors';
import { CliError, ExitCode } from './output';
import { waitForJob, type Out } from './progress';
import type { CommandSpec, FlagValues } from './spec';
import { printable } from './terminal-text';
import { jobStartMetadata } from '../domain/ui-summary';
import { startOrAttach } from './workflow-calls';

/** runCcsJob input field → what the user typed for it. */
const RUN_FLAGS = Object.freeze({
  jobId: 'JobID',
  ccs: '--ccs',
  pollInterval: '--poll',
  maxPollInterval: '--max-poll',
  timeout: '--timeout',
  ifRunning: '--if-running',
  expectedDuration: '--expect',
  expectedDurationFactor: '--expect-factor',
  requestedBy: '--requested-by',
});

/** A placeholder JobID, to check the other flags of `run --name` before the name is resolved. */
const ANY_JOB_ID = '00000000-0000-0000-0000-000000000000';

/** Who asks, for the evidence record: --requested-by, else the user running the CLI (cut to 200 characters). */
export function requesterOf(flags: FlagValues, env: Record<string, string | undefined>): string | undefined {
  const who = flags.string('requested-by') ?? env.USER ?? env.USERNAME;
  return who === undefined || who === '' ? undefined : who.slice(0, 200);
}

/** The runCcsJob input from the command line, every flag checked before anything is contacted. */
export function jobInput(jobId: string | undefined, flags: FlagValues, requester?: string): RunCcsJobInput {
  if (!jobId) throw new CliError('name the CCS job: ccs-jobs run <JobID> or ccs-jobs run --name "<JobName>"');
  const factor = flags.string('expect-factor');
  const input: RunCcsJobInput = {
    jobId,
    ccs: flags.string('ccs'),
    pollInterval: flags.string('poll'),
    maxPollInterval: flags.string('max-poll'),
    timeout: flags.string('timeout'),
    ifRunning: flags.string('if-running') as RunCcsJobInput['ifRunning'],
    expectedDuration: flags.string('expect'),
    expectedDurationFactor: factor === undefined ? undefined : Number(factor),
    requestedBy: requester,
  };
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== '')) as unknown as RunCcsJobInput;
  return checkedByField(given, Object.keys(RUN_FLAGS) as (keyof RunCcsJobInput)[], checkedRunCcsJobInput, RUN_FLAGS);
}

/** The innermost cause of a failure: the error a person can act on. */
function rootCause(err: Error): Error {
  let e = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}

/**
 * The one JobID behind a job name, asked of a worker (it holds the CCS credentials; this CLI may
 * not): a short read-only workflow, bounded to three minutes. Exactly one job of that name, or a
 * clear error listing the candidates.
 */
async function resolveJobName(cli: Cli, name: string, ccs: string | undefined, out: Out, json: boolean): Promise<string> {
  try {
    const { jobs } = await cli.client.workflow.execute<typeof resolveCcsJobNames>(WorkflowName.resolveCcsJobNames, {
      taskQueue: cli.taskQueue,
      workflowId: `ccs-resolve-names-${randomUUID()}`,
      args: [{ names: [{ name, ...(ccs === undefined ? {} : { ccs }) }] }],
      workflowExecutionTimeout: '3m',
    });
    const jobId = jobs[0]!.jobId;
    if (!json) out.write(`job ${printable(JSON.stringify(name))} is ${jobId}\n`);
    return jobId;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const root = rootCause(err);
      throw new CliError(
        root instanceof TimeoutFailure
          ? `no worker on task queue ${cli.taskQueue} resolved the job name within 3 minutes; is a worker running?`
          : printable(root.message),
      );
    }
    throw err;
  }
}

async function startJob(cli: Cli, input: RunCcsJobInput, flags: FlagValues, out: Out, jobName?: string): Promise<number> {
  const json = flags.boolean('json');
  const wait = flags.boolean('wait');
  const metadata = jobStartMetadata({
    jobId: input.jobId,
    ccs: input.ccs ?? 'default',
    ...(jobName === undefined ? {} : { jobName }),
    startedBy: { kind: 'cli', ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) },
  });
  const started = await startOrAttach(cli, WorkflowName.runCcsJob, flags.string('id') ?? jobWorkflowId(input.jobId), [input], metadata);
  const { workflowId, runId, attached } = started;
  if (json && !wait) out.write(`${JSON.stringify({ workflowId, runId, attached })}\n`);
  else if (!json)
    out.write(
      `${attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsJob} ${printable(workflowId)} (run ${runId}) on task queue ${printable(cli.taskQueue)}\n`,
    );
  return wait ? waitForJob(started.handle, out, json, started.startTime) : ExitCode.ok;
}

export const runCommand: CommandSpec = {
  name: 'run',
  synopsis: 'run <JobID>|--name N',
  summary: 'start (or attach to) a runCcsJob workflow; --wait to follow it',
  usage: [
    'ccs-jobs run <JobID> | --name "<JobName>" [--wait] [--expect 45m|auto [--expect-factor 1.5]] [--ccs <server>] [--poll 30s] [--max-poll 5m] [--timeout 8h] [--if-running attach] [--id <workflowId>] [--requested-by TEXT] [--json]',
  ],
  description: `Starts runCcsJob for the CCS job. The workflow id defaults to ccs-job-<JobID>: running a job that is
already being orchestrated attaches to that workflow instead of starting a second run.`,
  flags: [
    {
      name: 'name',
      type: 'string',
      value: 'NAME',
      help: "the job's exact name in CCS instead of its JobID: resolved once, by a worker (it holds the CCS credentials), before anything starts; exactly one job of that name, else an error listing them",
    },
    { name: 'wait', type: 'boolean', help: 'follow the run until it ends; exit 0 when Completed, non-zero otherwise' },
    {
      name: 'ccs',
      type: 'string',
      value: 'SERVER',
      help: "the CCS server that runs the job, by its name in the worker's CCS_SERVERS_FILE (default: default)",
    },
    { name: 'poll', type: 'string', value: '30s', help: 'first wait between status reads (at least 1s)' },
    { name: 'max-poll', type: 'string', value: '5m', help: 'longest wait between status reads' },
    { name: 'timeout', type: 'string', value: '8h', help: 'abort the run and fail when it takes longer' },
    {
      name: 'if-running',
      type: 'string',
      value: 'fail|attach',
      help: 'attach: follow a run of the job that is already executing instead of failing (default fail)',
    },
    {
      name: 'expect',
      type: 'string',
      value: '45m|auto',
      help: "flag the run LATE (status, CcsLate, a metric, one WARN log) when it takes longer than this; auto: the p95 of the job's last completed runs × --expect-factor; never aborts",
    },
    { name: 'expect-factor', type: 'string', value: '1.5', help: 'the margin over the p95 for --expect auto (default 1.5)' },
    { name: 'id', type: 'string', value: 'WORKFLOW_ID', help: 'the workflow id (default ccs-job-<JobID>)' },
    {
      name: 'requested-by',
      type: 'string',
      value: 'TEXT',
      help: 'who asks, for the evidence record (default $USER; at most 200 characters)',
    },
    { name: 'json', type: 'boolean', help: 'machine-readable output' },
  ],
  examples: [
    'ccs-jobs run 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --wait',
    'ccs-jobs run 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --timeout 8h --poll 1m --json',
    'ccs-jobs run 24f58e54-5d94-45f8-97a8-ccb6d959233a --ccs emea --wait',
    'ccs-jobs run --name "Data collection - Windows servers" --wait',
  ],
  async run({ args, flags, env, out, cli }) {
    const name = flags.string('name');
    if (name === undefined) {
      const input = jobInput(args[0], flags, requesterOf(flags, env));
      return startJob(await cli(), input, flags, out);
    }
    if (args[0] !== undefined) throw new CliError('ccs-jobs run: give a JobID or --name "<JobName>", not both');
    try {
      requireJobName('--name', name);
    } catch (err) {
      throw flagError(err, {});
    }
    jobInput(ANY_JOB_ID, flags); // every other flag checked before anything is contacted
    const c = await cli();
    const jobId = await resolveJobName(c, name, flags.string('ccs'), out, flags.boolean('json'));
    return startJob(c, jobInput(jobId, flags, requesterOf(flags, env)), flags, out, name);
  },
};
