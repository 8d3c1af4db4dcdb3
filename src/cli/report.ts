/** `ccs-jobs report`: a pipeline run as a self-contained HTML page, from Temporal. */
import { writeFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { WorkflowName, pipelineStatusQuery } from '../domain/contract';
import type { PipelineReport } from '../domain/pipeline';
import { renderPipelineReport } from '../evidence/html-report';
import { notFound, type Cli } from './connect';
import { CliError, ExitCode } from './output';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';

/** The report a pipeline's failure carries as its details, if any. */
function reportOfFailure(err: unknown): PipelineReport | undefined {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : undefined;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as PipelineReport | undefined) : undefined;
  return report?.stages ? report : undefined;
}

/** A pipeline's report: its result, the report its failure carries, or (still running) its live report. */
async function pipelineReportOf(cli: Cli, workflowId: string): Promise<PipelineReport> {
  const handle = cli.client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(notFound(workflowId, cli.namespace));
  if (d.type !== WorkflowName.runCcsPipeline)
    throw new CliError(`workflow ${printable(workflowId)} is a ${printable(d.type)}, not a pipeline; ccs-jobs report draws pipelines`);
  if (d.status.name === 'RUNNING') return handle.query(pipelineStatusQuery);
  try {
    return (await handle.result()) as PipelineReport;
  } catch (err) {
    const report = reportOfFailure(err);
    if (report) return report;
    throw new CliError(`pipeline ${printable(workflowId)} ended ${d.status.name} without a report to draw`);
  }
}

export const reportCommand: CommandSpec = {
  name: 'report',
  synopsis: 'report <workflowId> --html FILE',
  summary: 'a pipeline run as a self-contained HTML page: timeline, jobs, summary',
  usage: ['ccs-jobs report <pipeline workflowId> --html FILE'],
  description: `A self-contained HTML page (no script, no network fetch) of a pipeline run, from Temporal: its stages
and jobs as a timeline (bars from start to end, coloured by outcome), each job's status, duration,
exception and messages, and a summary. For runs older than Temporal keeps, use
ccs-jobs evidence export --format html.`,
  flags: [{ name: 'html', type: 'string', value: 'FILE', help: 'the file to write (required)' }],
  examples: ['ccs-jobs report ccs-pipeline-nightly-scan --html nightly.html'],
  async run({ args, flags, out, cli }) {
    const workflowId = args[0];
    const html = flags.string('html');
    if (!workflowId) throw new CliError('name the pipeline workflow: ccs-jobs report <workflowId> --html FILE');
    if (!html) throw new CliError('name the file: ccs-jobs report <workflowId> --html FILE');
    const report = await pipelineReportOf(await cli(), workflowId);
    writeFileSync(html, renderPipelineReport({ workflowId, report, generatedAt: new Date().toISOString(), source: 'Temporal' }));
    out.write(`wrote the report of ${printable(workflowId)} (${printable(report.status)}) to ${printable(html)}\n`);
    return ExitCode.ok;
  },
};
