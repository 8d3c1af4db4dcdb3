/** `ccs-jobs report`: a pipeline run, or every attempt of a redriven scan, as a self-contained HTML page, from Temporal. */
import { writeFileSync } from 'node:fs';
import { WorkflowName, pipelineStatusQuery } from '../domain/contract';
import type { PipelineReport } from '../domain/pipeline';
import { scanRootId } from '../domain/redrive';
import { renderPipelineReport, type ScanAttemptPage } from '../evidence/html-report';
import { reportOfFailure, scanAttempts } from '../redrive/attempts';
import { notFound, type Cli } from './connect';
import { CliError, ExitCode } from './output';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';

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

/**
 * Every attempt of the scan `workflowId` belongs to (`<root>`, `<root>/redrive-<n>`), oldest first,
 * each with its report (a running one's live report); an attempt that left no report is left out.
 */
async function attemptPagesOf(cli: Cli, workflowId: string): Promise<ScanAttemptPage[]> {
  const pages: ScanAttemptPage[] = [];
  for (const attempt of await scanAttempts(cli.client, workflowId)) {
    const report =
      attempt.report ??
      (attempt.status === 'RUNNING'
        ? await cli.client.workflow
            .getHandle(attempt.workflowId, attempt.runId)
            .query(pipelineStatusQuery)
            .catch(() => null)
        : null);
    if (report) pages.push({ workflowId: attempt.workflowId, report });
  }
  return pages;
}

export const reportCommand: CommandSpec = {
  name: 'report',
  synopsis: 'report <workflowId> --html FILE',
  summary: 'a pipeline run (every attempt of a redriven scan) as a self-contained HTML page: timeline, jobs, summary',
  usage: ['ccs-jobs report <pipeline workflowId> --html FILE'],
  description: `A self-contained HTML page (no script, no network fetch) of a pipeline run, from Temporal: its stages
and jobs as a timeline (bars from start to end, coloured by outcome), each job's status, duration,
exception and messages, the stale-data gate's checks, and a summary. A scan that was redriven
(ccs-jobs pipeline redrive) is drawn whole from any of its attempts' ids: the first attempt and each
<id>/redrive-<n> in one timeline, a band per attempt, carried jobs marked and linked to the attempt
that ran them. For runs older than Temporal keeps, use ccs-jobs evidence export --format html.`,
  flags: [{ name: 'html', type: 'string', value: 'FILE', help: 'the file to write (required)' }],
  examples: [
    'ccs-jobs report ccs-pipeline-nightly-scan --html nightly.html',
    'ccs-jobs report ccs-pipeline-nightly-scan/redrive-1 --html nightly.html',
  ],
  async run({ args, flags, out, cli }) {
    const workflowId = args[0];
    const html = flags.string('html');
    if (!workflowId) throw new CliError('name the pipeline workflow: ccs-jobs report <workflowId> --html FILE');
    if (!html) throw new CliError('name the file: ccs-jobs report <workflowId> --html FILE');
    const connected = await cli();
    const report = await pipelineReportOf(connected, workflowId);
    const attempts = await attemptPagesOf(connected, workflowId);
    writeFileSync(html, renderPipelineReport({ workflowId, report, attempts, generatedAt: new Date().toISOString(), source: 'Temporal' }));
    const scan = attempts.length > 1 ? `, with the ${attempts.length} attempts of scan ${printable(scanRootId(workflowId))},` : '';
    out.write(`wrote the report of ${printable(workflowId)} (${printable(report.status)})${scan} to ${printable(html)}\n`);
    return ExitCode.ok;
  },
};
