/** `ccs-jobs status` and `ccs-jobs list`: what a workflow is doing, and which job workflows there are. */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { SearchAttribute, WorkflowName, jobListQuery, pipelineStatusQuery, statusQuery, type RunCcsJobStatus } from '../domain/contract';
import { formatDuration } from '../domain/validation';
import { notFound, type Cli } from './connect';
import { flagError } from './flag-errors';
import { CliError, ExitCode, elapsed, table } from './output';
import { jobLine, pipelineText, type Out } from './progress';
import type { CommandSpec } from './spec';
import { printable as p } from './terminal-text';

/** `PAUSED since … by …: reason; resumes by itself at …; deadline held`. */
function pausedLine(paused: NonNullable<RunCcsJobStatus['paused']>): string {
  return `PAUSED since ${p(paused.since)} by ${p(paused.by)}${paused.reason ? `: ${p(paused.reason)}` : ''}${paused.until ? `; resumes by itself at ${p(paused.until)}` : ''}${paused.holdDeadline ? '; deadline held' : ''}`;
}

/** The lines of a job's status under its progress line, each present only when it has something to say. */
function statusDetailLines(s: RunCcsJobStatus): string[] {
  return [
    s.lastChangeAt ? `last change ${p(s.lastChangeAt)}` : '',
    s.cancelReason ? `cancel reason: ${p(s.cancelReason)}` : '',
    s.expected ? `expected to take ${formatDuration(s.expected.ms)} (${p(s.expected.basis)}), by ${p(s.expected.endBy)}` : '',
    s.paused ? pausedLine(s.paused) : '',
    s.late ? `LATE since ${p(s.late.since)}: longer than expected; still followed (the timeout, if any, is the hard limit)` : '',
    s.attention
      ? `needs attention since ${p(s.attention.since)}: ${p(s.attention.type)}: ${p(s.attention.message)}\n  (the run is still followed; the read is retried until the cause is fixed)`
      : '',
  ].filter(Boolean);
}

/** A job workflow's status as text: its id and workflow status, the progress line, the details. */
export function jobStatusText(
  workflowId: string,
  d: Pick<WorkflowExecutionDescription, 'status' | 'startTime'>,
  s: RunCcsJobStatus,
): string {
  return [`${p(workflowId)}  workflow ${d.status.name}`, jobLine(s, d.startTime), ...statusDetailLines(s)].map((l) => `${l}\n`).join('');
}

async function showStatus(cli: Cli, workflowId: string | undefined, json: boolean, out: Out): Promise<number> {
  if (!workflowId) throw new CliError('name the workflow: ccs-jobs status <workflowId>');
  const handle = cli.client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(notFound(workflowId, cli.namespace));
  if (d.type === WorkflowName.runCcsPipeline) {
    const report = await handle.query(pipelineStatusQuery);
    out.write(
      json
        ? `${JSON.stringify({ workflow: d.status.name, ...report }, null, 2)}\n`
        : `${(await pipelineText(report, cli.client)).join('\n')}\nworkflow ${d.status.name}\n`,
    );
    return ExitCode.ok;
  }
  const s = await handle.query(statusQuery).catch((err: unknown) => {
    throw new CliError(
      `workflow ${p(workflowId)} (${d.status.name}) did not answer the status query: ${p((err as Error).message.split('\n')[0])}; is a worker running?`,
    );
  });
  out.write(
    json
      ? `${JSON.stringify({ workflowId, workflow: d.status.name, startTime: d.startTime, ...s }, null, 2)}\n`
      : jobStatusText(workflowId, d, s),
  );
  return ExitCode.ok;
}

export const statusCommand: CommandSpec = {
  name: 'status',
  synopsis: 'status <workflowId>',
  summary: 'what a job or pipeline workflow is doing',
  usage: ['ccs-jobs status <workflowId> [--json]'],
  description: `Shows what a job or pipeline workflow is doing: phase, CCS status, polls, run id; for a pipeline, each
stage and job with the live CCS status of running jobs.`,
  flags: [{ name: 'json', type: 'boolean', help: 'machine-readable output' }],
  examples: ['ccs-jobs status ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16', 'ccs-jobs status ccs-pipeline-nightly-scan --json'],
  async run({ args, flags, out, cli }) {
    return showStatus(await cli(), args[0], flags.boolean('json'), out);
  },
};

const MAX_LISTED = 500;

async function list(cli: Cli, query: string, json: boolean, out: Out): Promise<number> {
  const rows: string[][] = [];
  const items: unknown[] = [];
  for await (const wf of cli.client.workflow.list({ query, pageSize: 100 })) {
    const sa = wf.searchAttributes as Record<string, string[] | undefined>;
    const first = (key: { name: string }): string | undefined => sa[key.name]?.[0];
    const [jobId, jobRunId, ccsStatus, attention] = [
      first(SearchAttribute.jobId),
      first(SearchAttribute.jobRunId),
      first(SearchAttribute.jobStatus),
      first(SearchAttribute.attention),
    ];
    rows.push([
      p(wf.workflowId),
      p(jobId) || '-',
      p(jobRunId) || '-',
      p(ccsStatus) || '-',
      p(attention) || '-',
      wf.status.name,
      elapsed(wf.startTime),
    ]);
    items.push({
      workflowId: wf.workflowId,
      jobId,
      jobRunId,
      ccsStatus,
      ...(attention ? { attention } : {}),
      workflow: wf.status.name,
      startTime: wf.startTime,
    });
    if (rows.length >= MAX_LISTED) break;
  }
  if (json) out.write(`${JSON.stringify(items, null, 2)}\n`);
  else
    out.write(
      rows.length
        ? `${table(['WORKFLOW ID', 'JOB ID', 'JOB RUN ID', 'CCS STATUS', 'ATTENTION', 'WORKFLOW', 'AGE'], rows)}\n`
        : `no job workflows match ${p(query)}\n`,
    );
  return ExitCode.ok;
}

export const listCommand: CommandSpec = {
  name: 'list',
  synopsis: 'list',
  summary: 'job workflows, filtered by CCS status or job',
  usage: ['ccs-jobs list [--status Executing] [--job <JobID>] [--attention] [--all] [--json]'],
  description: `Lists running job workflows (all, with --all; at most ${MAX_LISTED}) from Temporal's visibility store, with the error type
of any run that needs attention (still followed, but CCS refuses to show it: credentials, 403, TLS...).`,
  flags: [
    { name: 'status', type: 'string', value: 'STATUS', help: 'only runs in this CCS status (CcsJobStatus), e.g. Executing' },
    { name: 'job', type: 'string', value: 'JOB_ID', help: 'only workflows of this CCS job' },
    { name: 'attention', type: 'boolean', help: 'only runs that need attention (CcsAttention IS NOT NULL)' },
    { name: 'all', type: 'boolean', help: 'closed workflows too' },
    { name: 'json', type: 'boolean', help: 'machine-readable output' },
  ],
  examples: [
    'ccs-jobs list --attention',
    'ccs-jobs list --status Executing',
    'ccs-jobs list --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --all',
  ],
  async run({ flags, out, cli }) {
    let query: string;
    try {
      query = jobListQuery(
        { all: flags.boolean('all'), attention: flags.boolean('attention'), status: flags.string('status'), jobId: flags.string('job') },
        { status: '--status', jobId: '--job' },
      );
    } catch (err) {
      throw flagError(err, {});
    }
    return list(await cli(), query, flags.boolean('json'), out);
  },
};
