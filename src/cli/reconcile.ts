/** `ccs-jobs reconcile`: CCS runs no workflow follows, once or on a schedule. */
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { WorkflowName } from '../domain/contract';
import { validateReconcileInput, type ReconcileInput, type ReconcilePolicy, type ReconcileResult } from '../domain/reconcile';
import { reconcileSummary } from '../domain/ui-summary';
import type { reconcileCcsRuns } from '../workflows/reconcile';
import type { Cli } from './connect';
import { validateCron } from './cron';
import { CliError, ExitCode, table } from './output';
import { checkedByField } from './flag-errors';
import type { Out } from './progress';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';

export interface ReconcileOptions {
  ccs?: string | undefined;
  jobs?: string | undefined;
  search?: string | undefined;
  recent?: string | undefined;
  policy?: string | undefined;
  maxRequests?: string | undefined;
  schedule?: string | undefined;
  json?: boolean | undefined;
}

/** Reconcile input field → its flag. */
const RECONCILE_FLAGS = Object.freeze({
  jobs: '--jobs',
  search: '--search',
  recent: '--recent',
  policy: '--policy',
  maxRequests: '--max-requests',
  ccs: '--ccs',
});
/** The fields that select the jobs: exactly one is given. */
const SELECTIONS = ['jobs', 'search', 'recent'] as const;

/** The workflow input from the flags, checked as the workflow will check it (one line naming the flag). */
export function reconcileInput(o: ReconcileOptions): ReconcileInput {
  const input: ReconcileInput = {
    ...(o.ccs === undefined ? {} : { ccs: o.ccs }),
    ...(o.jobs === undefined
      ? {}
      : {
          jobs: o.jobs
            .split(',')
            .map((j) => j.trim())
            .filter(Boolean),
        }),
    ...(o.search === undefined ? {} : { search: o.search }),
    ...(o.recent === undefined ? {} : { recent: o.recent }),
    ...(o.policy === undefined ? {} : { policy: o.policy as ReconcilePolicy }),
    ...(o.maxRequests === undefined ? {} : { maxRequests: Number(o.maxRequests) }),
  };
  const selections = SELECTIONS.filter((k) => input[k] !== undefined);
  if (selections.length !== 1) {
    throw new CliError(
      `ccs-jobs reconcile needs exactly one of --jobs (a list of JobIDs), --search (Search Jobs attributes) or --recent (e.g. "7d"); got ${selections.length === 0 ? 'none' : selections.map((k) => RECONCILE_FLAGS[k]).join(' and ')}`,
    );
  }
  checkedByField(input, [...SELECTIONS, 'ccs', 'policy', 'maxRequests'], validateReconcileInput, RECONCILE_FLAGS);
  return input;
}

function describe(result: ReconcileResult): string {
  const head = `reconcile of CCS server ${result.ccs}: ${result.jobsChecked} job(s) checked, ${result.runsInProgress} run(s) in progress, ${result.tracked} followed by a workflow, ${result.findings.length} without an owner (${result.requests} CCS requests)`;
  const rows = result.findings.map((f) =>
    [
      f.jobId,
      f.jobRunId,
      f.status,
      f.kind === 'terminated' ? `terminated workflow ${f.workflowId ?? ''}` : 'no workflow (console or script)',
      f.action + (f.adoptedBy ? ` by ${f.adoptedBy}` : ''),
    ].map(printable),
  );
  const missing = result.missing.length
    ? `\n${result.missing.length} job(s) unknown to CCS (deleted since they ran?): ${printable(result.missing.slice(0, 10).join(', '))}${result.missing.length > 10 ? ', …' : ''}`
    : '';
  const budget = result.budgetExhausted
    ? `\nthe request budget ran out: ${result.unchecked.length} job(s) not checked; raise --max-requests or narrow the selection`
    : '';
  return `${head}${rows.length ? `\n${table(['JOB ID', 'JOB RUN ID', 'CCS STATUS', 'FOUND', 'ACTION'], rows)}` : ''}${missing}${budget}\n`;
}

/** Runs a reconcile now (or schedules it); exit 5 when runs without an owner were found and only reported. */
export async function reconcile(cli: () => Promise<Cli>, o: ReconcileOptions, out: Out): Promise<number> {
  const input = reconcileInput(o);
  const ccs = input.ccs ?? 'default';
  if (o.schedule !== undefined) {
    const cron = validateCron(o.schedule);
    const c = await cli();
    const scheduleId = `ccs-reconcile-${ccs}`;
    try {
      await c.client.schedule.create({
        scheduleId,
        spec: { cronExpressions: [cron], timezone: 'UTC' },
        action: {
          type: 'startWorkflow',
          taskQueue: c.taskQueue,
          workflowType: WorkflowName.reconcileCcsRuns,
          workflowId: scheduleId,
          args: [input],
          staticSummary: reconcileSummary(ccs, input.policy ?? 'report', scheduleId),
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        memo: { createdBy: 'ccs-jobs', cron },
      });
    } catch (err) {
      if ((err as Error).name === 'ScheduleAlreadyRunning')
        throw new CliError(`a schedule named ${scheduleId} already exists; ccs-jobs schedule delete ${scheduleId} first`);
      throw err;
    }
    out.write(
      `created schedule ${scheduleId}: reconcile (policy ${input.policy ?? 'report'}) at "${cron}" UTC; see ccs-jobs schedule describe ${scheduleId}\n`,
    );
    return ExitCode.ok;
  }
  const c = await cli();
  let result: ReconcileResult;
  try {
    result = await c.client.workflow.execute<typeof reconcileCcsRuns>(WorkflowName.reconcileCcsRuns, {
      taskQueue: c.taskQueue,
      workflowId: `ccs-reconcile-${ccs}-${randomUUID()}`,
      args: [input],
      workflowExecutionTimeout: '1h',
      staticSummary: reconcileSummary(ccs, input.policy ?? 'report'),
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      let cause: Error | undefined = err.cause;
      while (cause?.cause instanceof Error) cause = cause.cause;
      throw new CliError(`reconcile failed: ${printable(cause?.message ?? err.message)}`);
    }
    throw err;
  }
  out.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
  return result.findings.length > 0 && result.policy === 'report' ? ExitCode.orphans : ExitCode.ok;
}

export const reconcileCommand: CommandSpec = {
  name: 'reconcile',
  synopsis: 'reconcile',
  summary: 'CCS runs no workflow follows (terminated workflows, console runs): report, adopt, abort',
  usage: [
    'ccs-jobs reconcile [--ccs NAME] (--jobs ID,ID | --search "ATTRS" | --recent 7d) [--policy report|adopt|abort] [--max-requests 500] [--schedule "*/15 * * * *"] [--json]',
  ],
  description: `Finds the CCS runs still going that no running workflow follows: runs whose runCcsJob was terminated
(temporal workflow terminate runs no workflow code, so nothing aborted them) and runs started from the
CCS console or a script. One jobruns read per job; searches are paged; --max-requests bounds the whole.`,
  flags: [
    { name: 'ccs', type: 'string', value: 'NAME', help: 'the CCS server (default: default)' },
    { name: 'jobs', type: 'string', value: 'ID,ID', help: 'these JobIDs' },
    { name: 'search', type: 'string', value: '"ATTRS"', help: 'Search Jobs attributes, e.g. "JobName StartsWith Nightly"' },
    { name: 'recent', type: 'string', value: '7d', help: 'every job a runCcsJob on this server started within this long' },
    {
      name: 'policy',
      type: 'string',
      value: 'report|adopt|abort',
      help: 'report (default; exit 5 when any is found), adopt (runCcsJob follows it, workflow id ccs-adopt-<JobRunID>: never adopted twice), abort (aborted at CCS and confirmed)',
    },
    { name: 'max-requests', type: 'string', value: '500', help: 'the most CCS requests the reconcile sends (default 500)' },
    {
      name: 'schedule',
      type: 'string',
      value: '"CRON"',
      help: 'create the Temporal schedule ccs-reconcile-<NAME> that runs this reconcile on the cron',
    },
    { name: 'json', type: 'boolean', help: 'machine-readable output' },
  ],
  examples: [
    'ccs-jobs reconcile --recent 7d',
    'ccs-jobs reconcile --ccs emea --search "JobName StartsWith Nightly" --policy adopt',
    'ccs-jobs reconcile --recent 2d --policy abort --schedule "*/15 * * * *"',
  ],
  run({ flags, out, cli }) {
    const options: ReconcileOptions = {
      ccs: flags.string('ccs'),
      jobs: flags.string('jobs'),
      search: flags.string('search'),
      recent: flags.string('recent'),
      policy: flags.string('policy'),
      maxRequests: flags.string('max-requests'),
      schedule: flags.string('schedule'),
      json: flags.boolean('json'),
    };
    return reconcile(cli, options, out);
  },
};
