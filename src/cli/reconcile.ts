/** `ccs-jobs reconcile`: CCS runs no workflow follows, once or on a schedule. */
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
import { WorkflowName } from '../domain/contract';
import { validateReconcileInput, type ReconcileInput, type ReconcilePolicy, type ReconcileResult } from '../domain/reconcile';
import type { reconcileCcsRuns } from '../workflows/reconcile';
import type { Cli } from './connect';
import { validateCron } from './cron';
import { CliError, ExitCode, table } from './output';
import type { Out } from './progress';

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

/** The workflow input from the flags, checked as the workflow will check it (one line naming the flag). */
export function reconcileInput(o: ReconcileOptions): ReconcileInput {
  const input: ReconcileInput = {
    ...(o.ccs === undefined ? {} : { ccs: o.ccs }),
    ...(o.jobs === undefined ? {} : { jobs: o.jobs.split(',').map((j) => j.trim()).filter(Boolean) }),
    ...(o.search === undefined ? {} : { search: o.search }),
    ...(o.recent === undefined ? {} : { recent: o.recent }),
    ...(o.policy === undefined ? {} : { policy: o.policy as ReconcilePolicy }),
    ...(o.maxRequests === undefined ? {} : { maxRequests: Number(o.maxRequests) }),
  };
  try {
    validateReconcileInput(input);
  } catch (err) {
    const flags: Record<string, string> = { jobs: '--jobs', search: '--search', recent: '--recent', policy: '--policy', maxRequests: '--max-requests', ccs: '--ccs' };
    throw new CliError((err as Error).message.replace(/\b(jobs|search|recent|policy|maxRequests|ccs)\b/g, (f) => flags[f] ?? f).replace('reconcile needs', 'ccs-jobs reconcile needs'));
  }
  return input;
}

function describe(result: ReconcileResult): string {
  const head = `reconcile of CCS server ${result.ccs}: ${result.jobsChecked} job(s) checked, ${result.runsInProgress} run(s) in progress, ${result.tracked} followed by a workflow, ${result.findings.length} without an owner (${result.requests} CCS requests)`;
  const rows = result.findings.map((f) => [f.jobId, f.jobRunId, f.status, f.kind === 'terminated' ? `terminated workflow ${f.workflowId ?? ''}` : 'no workflow (console or script)', f.action + (f.adoptedBy ? ` by ${f.adoptedBy}` : '')]);
  const missing = result.missing.length ? `\n${result.missing.length} job(s) unknown to CCS (deleted since they ran?): ${result.missing.slice(0, 10).join(', ')}${result.missing.length > 10 ? ', …' : ''}` : '';
  const budget = result.budgetExhausted ? `\nthe request budget ran out: ${result.unchecked.length} job(s) not checked; raise --max-requests or narrow the selection` : '';
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
        action: { type: 'startWorkflow', taskQueue: c.taskQueue, workflowType: WorkflowName.reconcileCcsRuns, workflowId: scheduleId, args: [input] },
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        memo: { createdBy: 'ccs-jobs', cron },
      });
    } catch (err) {
      if ((err as Error).name === 'ScheduleAlreadyRunning') throw new CliError(`a schedule named ${scheduleId} already exists; ccs-jobs schedule delete ${scheduleId} first`);
      throw err;
    }
    out.write(`created schedule ${scheduleId}: reconcile (policy ${input.policy ?? 'report'}) at "${cron}" UTC; see ccs-jobs schedule describe ${scheduleId}\n`);
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
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      let cause: Error | undefined = err.cause;
      while (cause?.cause instanceof Error) cause = cause.cause;
      throw new CliError(`reconcile failed: ${cause?.message ?? err.message}`);
    }
    throw err;
  }
  out.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
  return result.findings.length > 0 && result.policy === 'report' ? ExitCode.orphans : ExitCode.ok;
}
