/** `ccs-jobs pipeline validate|run|redrive`: scan pipelines from a YAML or JSON file, and redrives of failed ones. */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowName, pipelineWorkflowId } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { pipelineSummary } from '../domain/ui-summary';
import { planRedrive, redriveWorkflowId, scanRootId, type PipelineRedriveInput } from '../domain/redrive';
import { readRedriveSource, scanAttempts } from '../redrive/attempts';
import type { Cli } from './connect';
import type { FlagValues } from './spec';
import { CliError, ExitCode } from './output';
import { loadPipelineFile } from './pipeline-file';
import { waitForPipeline, type Out } from './progress';
import { requesterOf } from './run-command';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';
import { startOrAttach } from './workflow-calls';

export const pipelineCommand: CommandSpec = {
  name: 'pipeline',
  synopsis: 'pipeline run|validate|redrive',
  summary: 'scan pipelines from a YAML or JSON file; redrive a failed one from where it failed',
  verbs: ['validate', 'run', 'redrive'],
  usage: [
    'ccs-jobs pipeline validate <file>',
    'ccs-jobs pipeline run <file> [--wait] [--id <workflowId>] [--requested-by TEXT] [--json]',
    'ccs-jobs pipeline redrive <workflowId> [--wait] [--json] [--only-failed | --from-stage N] [--requested-by TEXT]',
  ],
  description: `A pipeline file (YAML or JSON):
  name: nightly scan
  timeout: 8h
  stages:
    - name: collect
      jobs: [0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16]
    - name: evaluate
      continueOnFailure: false
      jobs:
        - 24f58e54-5d94-45f8-97a8-ccb6d959233a
        - { jobId: a282d163-2248-4904-8135-0eaf08be8e55, timeout: 2h, pollInterval: 1m }
        - { name: "Reporting - monthly compliance" }
Stages run in order; the jobs of a stage run in parallel. A failed job stops the pipeline and
aborts its running siblings unless the stage says continueOnFailure. A job given by name is resolved
once when the pipeline starts: exactly one CCS job of that name, else the pipeline fails before any
stage, listing the candidates.
pipeline redrive starts <scan>/redrive-<n> from the scan's latest ended attempt: by default it re-runs
the failed, cancelled, skipped and never-started jobs and carries the completed ones (their JobRunIDs
and evidence); --only-failed re-runs only failed jobs; --from-stage N re-runs stage N and after (the
stages before it must have completed). Refused, in one line and before anything starts, while an
attempt of the scan is running or when nothing is left to re-run.`,
  flags: [
    {
      name: 'wait',
      type: 'boolean',
      verbs: ['run', 'redrive'],
      help: 'follow the pipeline until it ends; exit 0 when Completed, non-zero otherwise',
    },
    { name: 'id', type: 'string', value: 'WORKFLOW_ID', verbs: ['run'], help: 'the workflow id (default ccs-pipeline-<name as a slug>)' },
    {
      name: 'requested-by',
      type: 'string',
      value: 'TEXT',
      verbs: ['run', 'redrive'],
      help: 'who asks, for the evidence record, unless the file says (default $USER)',
    },
    { name: 'json', type: 'boolean', verbs: ['run', 'redrive'], help: 'machine-readable output' },
    { name: 'only-failed', type: 'boolean', verbs: ['redrive'], help: 're-run only failed jobs; skipped and cancelled ones stay so' },
    {
      name: 'from-stage',
      type: 'string',
      value: 'N',
      verbs: ['redrive'],
      help: 're-run every job of stage N (1-based) and after, completed or not',
    },
  ],
  examples: [
    'ccs-jobs pipeline validate scans/nightly.yaml',
    'ccs-jobs pipeline run scans/nightly.yaml --wait',
    'ccs-jobs pipeline redrive ccs-pipeline-nightly-scan --wait',
  ],
  async run({ args, flags, env, out, cli }) {
    const [verb, file] = args;
    if (verb === 'redrive') return redrive(file, flags, env, out, cli);
    if (verb !== 'run' && verb !== 'validate')
      throw new CliError('use ccs-jobs pipeline run <file>, ccs-jobs pipeline validate <file> or ccs-jobs pipeline redrive <workflowId>');
    if (!file) throw new CliError(`name the pipeline file: ccs-jobs pipeline ${verb} <file>`);
    const definition = loadPipelineFile(file);
    const jobs = definition.stages.reduce((n, s) => n + s.jobs.length, 0);
    const shape = `${definition.stages.length} stage(s)`;
    if (verb === 'validate') {
      out.write(`${printable(file)}: valid pipeline ${printable(JSON.stringify(definition.name))} with ${shape} and ${jobs} job(s)\n`);
      return ExitCode.ok;
    }
    const requester = requesterOf(flags, env);
    if (requester && definition.requestedBy === undefined) definition.requestedBy = requester;
    const json = flags.boolean('json');
    const wait = flags.boolean('wait');
    const c = await cli();
    const started = await startOrAttach(
      c,
      WorkflowName.runCcsPipeline,
      flags.string('id') ?? pipelineWorkflowId(definition.name),
      [definition],
      {
        staticSummary: pipelineSummary(definition.name, {
          kind: 'cli',
          command: 'pipeline run',
          ...(requester ? { requestedBy: requester } : {}),
        }),
      },
    );
    const { workflowId, attached } = started;
    if (!json)
      out.write(
        `${attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsPipeline} ${printable(workflowId)}: ${shape}, ${jobs} job(s)\n`,
      );
    else if (!wait) out.write(`${JSON.stringify({ workflowId, attached })}\n`);
    return wait ? waitForPipeline(started.handle, c.client, out, json, started.startTime) : ExitCode.ok;
  },
};

/** The redrive options from the command line, checked before anything is contacted. */
function redriveOptions(flags: FlagValues): { onlyFailed?: true; fromStage?: number } {
  const onlyFailed = flags.boolean('only-failed');
  const from = flags.string('from-stage');
  if (onlyFailed && from !== undefined)
    throw new CliError('--only-failed and --from-stage cannot be given together: --from-stage re-runs every job of its stages');
  if (from === undefined) return onlyFailed ? { onlyFailed: true } : {};
  if (!/^[1-9][0-9]{0,2}$/.test(from.trim())) throw new CliError(`--from-stage must be a stage number, 1 or more; got ${printable(from)}`);
  return { fromStage: Number(from.trim()) };
}

/**
 * `pipeline redrive`: the next attempt of the scan `given` belongs to, from its latest attempt. The
 * checks here only spare a start that would be refused; the workflow makes them again (readRedriveSource).
 */
async function redrive(
  given: string | undefined,
  flags: FlagValues,
  env: Record<string, string | undefined>,
  out: Out,
  cli: () => Promise<Cli>,
): Promise<number> {
  if (!given) throw new CliError('name the pipeline workflow: ccs-jobs pipeline redrive <workflowId>');
  const options = redriveOptions(flags);
  const json = flags.boolean('json');
  const wait = flags.boolean('wait');
  const c = await cli();
  const root = scanRootId(given);
  // Statuses only: readRedriveSource below reads the one report the plan needs.
  const attempts = await scanAttempts(c.client, root, { reports: false });
  const latest = attempts[attempts.length - 1];
  if (!latest) throw new CliError(`no pipeline ${printable(JSON.stringify(root))} in namespace ${c.namespace}; see ccs-jobs list --all`);
  if (latest.status === 'RUNNING')
    throw new CliError(
      latest.workflowId === given
        ? `pipeline ${printable(given)} is still running: cancel it or wait for it to end before redriving it`
        : `a later attempt of scan ${printable(root)} is running (${printable(latest.workflowId)}): wait for it to end, then redrive it`,
    );
  const n = latest.attempt + 1;
  const workflowId = redriveWorkflowId(root, n);
  const redriveOf = { workflowId: latest.workflowId, runId: latest.runId };
  let counts: { rerun: number; carried: number };
  let source: Awaited<ReturnType<typeof readRedriveSource>>;
  try {
    source = await readRedriveSource(c.client, { redriveOf, workflowId });
    const planned = planRedrive(source, options);
    if ('refusal' in planned) throw new CliError(printable(planned.refusal));
    const jobs = planned.plan.stages.flatMap((s) => s.jobs);
    counts = { rerun: jobs.filter((j) => j.carry === null).length, carried: jobs.filter((j) => j.carry !== null).length };
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === ErrorType.RedriveRefused) throw new CliError(printable(err.message));
    throw err;
  }
  const requester = requesterOf(flags, env);
  const input: PipelineRedriveInput = { redriveOf, ...options, ...(requester ? { requestedBy: requester } : {}) };
  const started = await startOrAttach(c, WorkflowName.runCcsPipeline, workflowId, [input], {
    staticSummary: pipelineSummary(source.definition.name, {
      kind: 'cli',
      command: 'pipeline redrive',
      ...(requester ? { requestedBy: requester } : {}),
    }),
  });
  if (!json)
    out.write(
      `${started.attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsPipeline} ${printable(workflowId)}: redrive ${n} of ${printable(root)}, re-runs ${counts.rerun} job(s), carries ${counts.carried}\n`,
    );
  else if (!wait)
    out.write(
      `${JSON.stringify({ workflowId, attached: started.attached, redrive: n, rootWorkflowId: root, of: redriveOf, ...counts })}\n`,
    );
  return wait ? waitForPipeline(started.handle, c.client, out, json, started.startTime) : ExitCode.ok;
}
