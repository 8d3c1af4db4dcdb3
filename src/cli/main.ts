/**
 * `ccs-jobs`: start, follow, cancel and list CCS job runs and scan pipelines, and schedule them.
 * Every error is one line and a non-zero exit; stack traces only with --verbose.
 */
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { TimeoutFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import {
  DEFAULT_TASK_QUEUE,
  SearchAttribute,
  WorkflowName,
  cancelSignal,
  endMaintenanceSignal,
  jobListQuery,
  maintenanceSignal,
  maintenanceStatusQuery,
  maintenanceWorkflowId,
  pauseSignal,
  resumeSignal,
  jobWorkflowId,
  pipelineStatusQuery,
  pipelineWorkflowId,
  statusQuery,
  type MaintenanceStatus,
  type RunCcsJobInput,
} from '../domain/contract';
import { checkedMaintenance } from '../domain/maintenance';
import { CcsError } from '../domain/errors';
import { requireJobName } from '../domain/job-names';
import type { resolveCcsJobNames } from '../workflows/job-names';
import { checkedRunCcsJobInput } from '../domain/job-workflow';
import { pauseFrom, type PauseInput } from '../domain/pause';
import { formatDuration, parseDuration } from '../domain/validation';
import { ccsCheck, ccsInspect } from './ccs-server';
import { connect, notFound, type Cli, type GlobalOptions } from './connect';
import { loadPipelineFile } from './pipeline-file';
import type { PipelineReport } from '../domain/pipeline';
import { renderPipelineReport } from '../evidence/html-report';
import { evidence } from './evidence';
import { reconcile } from './reconcile';
import { HELP } from './help';
import { CliError, ExitCode, elapsed, table } from './output';
import { jobLine, pipelineText, waitForJob, waitForPipeline, type Out } from './progress';
import { changeSchedule, createSchedule, describeSchedule, listSchedules, scheduleSpec } from './schedules';

const OPTIONS = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  'task-queue': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  poll: { type: 'string' },
  'max-poll': { type: 'string' },
  timeout: { type: 'string' },
  'if-running': { type: 'string' },
  expect: { type: 'string' },
  'expect-factor': { type: 'string' },
  ccs: { type: 'string' },
  id: { type: 'string' },
  reason: { type: 'string' },
  status: { type: 'string' },
  job: { type: 'string' },
  all: { type: 'boolean' },
  attention: { type: 'boolean' },
  cron: { type: 'string' },
  pipeline: { type: 'string' },
  timezone: { type: 'string' },
  overlap: { type: 'string' },
  'catchup-window': { type: 'string' },
  note: { type: 'string' },
  name: { type: 'string' },
  ca: { type: 'string' },
  pem: { type: 'boolean' },
  until: { type: 'string' },
  jobs: { type: 'string' },
  search: { type: 'string' },
  recent: { type: 'string' },
  policy: { type: 'string' },
  'max-requests': { type: 'string' },
  schedule: { type: 'string' },
  since: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  dir: { type: 'string' },
  anchor: { type: 'string', multiple: true },
  after: { type: 'string' },
  html: { type: 'string' },
  'requested-by': { type: 'string' },
  'hold-deadline': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function listQuery(values: Values): string {
  return jobListQuery({ all: values.all, attention: values.attention, status: values.status, jobId: values.job }, { status: '--status', jobId: '--job' });
}

/** The runCcsJob input from the command line, every flag checked before anything is contacted. */
function jobInput(jobIdArg: string | undefined, values: Values, requester?: string): RunCcsJobInput {
  if (!jobIdArg) throw new CliError('name the CCS job: ccs-jobs run <JobID> or ccs-jobs run --name "<JobName>"');
  const input: RunCcsJobInput = {
    jobId: jobIdArg,
    ...(values.ccs === undefined ? {} : { ccs: values.ccs }),
    ...(values.poll ? { pollInterval: values.poll } : {}),
    ...(values['max-poll'] ? { maxPollInterval: values['max-poll'] } : {}),
    ...(values.timeout ? { timeout: values.timeout } : {}),
    ...(values['if-running'] ? { ifRunning: values['if-running'] as 'fail' | 'attach' } : {}),
    ...(values.expect ? { expectedDuration: values.expect } : {}),
    ...(values['expect-factor'] === undefined ? {} : { expectedDurationFactor: Number(values['expect-factor']) }),
    ...(requester ? { requestedBy: requester } : {}),
  };
  try {
    return checkedRunCcsJobInput(input);
  } catch (err) {
    // Name the argument or flag the user typed, not the workflow field.
    const flags: Record<string, string> = { jobId: 'JobID', pollInterval: '--poll', maxPollInterval: '--max-poll', timeout: '--timeout', ifRunning: '--if-running', ccs: '--ccs', expectedDuration: '--expect', expectedDurationFactor: '--expect-factor' };
    throw new CliError((err as Error).message.replace(/^(\w+)/, (field) => flags[field] ?? field));
  }
}

/** `--until` as an ISO time: a duration from now, or an ISO time as given. */
function untilFrom(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const hint = 'a duration such as 2h or an ISO time such as 2026-12-01T06:00:00Z';
  if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (!Number.isFinite(at)) throw new CliError(`--until must be ${hint}; got ${JSON.stringify(text)}`);
    return new Date(at).toISOString();
  }
  try {
    return new Date(Date.now() + parseDuration('--until', trimmed)).toISOString();
  } catch {
    throw new CliError(`--until must be ${hint}; got ${JSON.stringify(text)}`);
  }
}

/** `ccs-jobs maintenance start|end|list`: one window per CCS server, as a workflow. */
async function maintenance(cli: () => Promise<Cli>, verb: string | undefined, values: Values, env: Record<string, string | undefined>, out: Out): Promise<number> {
  if (verb !== 'start' && verb !== 'end' && verb !== 'list') throw new CliError('use ccs-jobs maintenance start|end|list --ccs NAME (see ccs-jobs maintenance --help)');
  if (verb === 'list') {
    const c = await cli();
    const rows: string[][] = [];
    const items: MaintenanceStatus[] = [];
    for await (const wf of c.client.workflow.list({ query: `WorkflowType = '${WorkflowName.ccsMaintenanceWindow}' AND ExecutionStatus = 'Running'`, pageSize: 100 })) {
      const s = await c.client.workflow.getHandle(wf.workflowId).query(maintenanceStatusQuery).catch(() => undefined);
      if (!s) continue;
      items.push(s);
      rows.push([s.ccs, s.since, s.until ?? '(until ended)', String(s.paused), s.reason ?? '-']);
    }
    out.write(values.json ? `${JSON.stringify(items, null, 2)}\n` : rows.length ? `${table(['CCS', 'SINCE', 'UNTIL', 'RUNS PAUSED', 'REASON'], rows)}\n` : 'no maintenance window is open\n');
    return ExitCode.ok;
  }
  if (values.ccs === undefined) throw new CliError(`ccs-jobs maintenance ${verb}: --ccs NAME is required (the CCS server, as the worker's CCS_SERVERS_FILE names it, e.g. default)`);
  let workflowId: string;
  try {
    workflowId = maintenanceWorkflowId(values.ccs);
  } catch (err) {
    throw new CliError((err as Error).message.replace(/^ccs/, '--ccs'));
  }
  if (verb === 'start') {
    const input = { ...(values.reason ? { reason: values.reason } : {}), ...(values.until ? { until: untilFrom(values.until) } : {}), requestedBy: env.USER ?? env.USERNAME ?? 'ccs-jobs' };
    try {
      checkedMaintenance(input, Date.now());
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const c = await cli();
    await c.client.workflow.signalWithStart(WorkflowName.ccsMaintenanceWindow, { taskQueue: c.taskQueue, workflowId, args: [{ ccs: values.ccs }], signal: maintenanceSignal, signalArgs: [input] });
    out.write(`maintenance window open on CCS server ${values.ccs}${input.until ? ` until ${input.until}` : ' until ccs-jobs maintenance end'}: its runs hold (no CCS request, no abort) and no new run executes there (${workflowId})\n`);
    return ExitCode.ok;
  }
  const c = await cli();
  const handle = c.client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(() => undefined);
  if (d?.status.name !== 'RUNNING') throw new CliError(`no maintenance window is open on CCS server ${values.ccs}`);
  await handle.signal(endMaintenanceSignal, values.reason ? { reason: values.reason } : {});
  const ended = (await handle.result()) as MaintenanceStatus;
  out.write(values.json ? `${JSON.stringify(ended, null, 2)}\n` : `maintenance window on CCS server ${values.ccs} ended: ${ended.resumed} run(s) resumed (${ended.paused} paused during it)\n`);
  return ExitCode.ok;
}

/** The `pause` signal's input from the command line: --until as a duration from now or an ISO time. */
function pauseInput(values: Values): PauseInput {
  const until = untilFrom(values.until);
  const input: PauseInput = { ...(values.reason ? { reason: values.reason } : {}), ...(until ? { until } : {}), ...(values['hold-deadline'] ? { holdDeadline: true } : {}) };
  try {
    pauseFrom(input, Date.now());
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return input;
}

/** A pipeline's report: its result, the report its failure carries, or (still running) its live report. */
async function pipelineReportOf(cli: Cli, workflowId: string): Promise<PipelineReport> {
  const handle = cli.client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(notFound(workflowId, cli.namespace));
  if (d.type !== WorkflowName.runCcsPipeline) throw new CliError(`workflow ${workflowId} is a ${d.type}, not a pipeline; ccs-jobs report draws pipelines`);
  if (d.status.name === 'RUNNING') return handle.query(pipelineStatusQuery);
  try {
    return (await handle.result()) as PipelineReport;
  } catch (err) {
    let cause: unknown = err instanceof WorkflowFailedError ? err.cause : undefined;
    while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
    const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as PipelineReport | undefined) : undefined;
    if (report?.stages) return report;
    throw new CliError(`pipeline ${workflowId} ended ${d.status.name} without a report to draw`);
  }
}

/** Who asks, for the evidence record: --requested-by, else the user running the CLI. */
function requesterOf(values: Values, env: Record<string, string | undefined>): string | undefined {
  const who = values['requested-by'] ?? env.USER ?? env.USERNAME;
  return who === undefined || who === '' ? undefined : who.slice(0, 200);
}

/** A placeholder JobID, to check the other flags of `run --name` before the name is resolved. */
const ANY_JOB_ID = '00000000-0000-0000-0000-000000000000';

function requireName(name: string): void {
  try {
    requireJobName('--name', name);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/**
 * The one JobID behind a job name, asked of a worker (it holds the CCS credentials; this CLI may
 * not): a short read-only workflow, bounded to three minutes. Exactly one job of that name, or a
 * clear error listing the candidates.
 */
async function resolveJobName(cli: Cli, name: string, ccs: string | undefined, out: Out, json: boolean): Promise<string> {
  const workflowId = `ccs-resolve-names-${randomUUID()}`;
  try {
    const { jobs } = await cli.client.workflow.execute<typeof resolveCcsJobNames>(WorkflowName.resolveCcsJobNames, {
      taskQueue: cli.taskQueue,
      workflowId,
      args: [{ names: [{ name, ...(ccs === undefined ? {} : { ccs }) }] }],
      workflowExecutionTimeout: '3m',
    });
    const jobId = jobs[0]!.jobId;
    if (!json) out.write(`job ${JSON.stringify(name)} is ${jobId}\n`);
    return jobId;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const root = rootCause(err);
      throw new CliError(root instanceof TimeoutFailure ? `no worker on task queue ${cli.taskQueue} resolved the job name within 3 minutes; is a worker running?` : root.message);
    }
    throw err;
  }
}

/** The innermost cause of a failure: the error a person can act on. */
function rootCause(err: Error): Error {
  let e = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}

async function startJob(cli: Cli, input: RunCcsJobInput, values: Values, out: Out): Promise<number> {
  const workflowId = values.id ?? jobWorkflowId(input.jobId);
  const existing = await cli.client.workflow.getHandle(workflowId).describe().catch(() => undefined);
  const attached = existing?.status.name === 'RUNNING';
  const handle = await cli.client.workflow.start(WorkflowName.runCcsJob, {
    taskQueue: cli.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const runId = (await handle.describe()).runId;
  if (values.json && !values.wait) out.write(`${JSON.stringify({ workflowId, runId, attached })}\n`);
  else if (!values.json) out.write(`${attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsJob} ${workflowId} (run ${runId}) on task queue ${cli.taskQueue}\n`);
  return values.wait ? waitForJob(handle, out, Boolean(values.json)) : ExitCode.ok;
}

async function showStatus(cli: Cli, workflowId: string | undefined, values: Values, out: Out): Promise<number> {
  if (!workflowId) throw new CliError('name the workflow: ccs-jobs status <workflowId>');
  const handle = cli.client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(notFound(workflowId, cli.namespace));
  if (d.type === WorkflowName.runCcsPipeline) {
    const report = await handle.query(pipelineStatusQuery);
    out.write(values.json ? `${JSON.stringify({ workflow: d.status.name, ...report }, null, 2)}\n` : `${(await pipelineText(report, cli.client)).join('\n')}\nworkflow ${d.status.name}\n`);
    return ExitCode.ok;
  }
  const s = await handle.query(statusQuery).catch((err: unknown) => {
    throw new CliError(`workflow ${workflowId} (${d.status.name}) did not answer the status query: ${(err as Error).message.split('\n')[0]}; is a worker running?`);
  });
  if (values.json) out.write(`${JSON.stringify({ workflowId, workflow: d.status.name, startTime: d.startTime, ...s }, null, 2)}\n`);
  else out.write(`${workflowId}  workflow ${d.status.name}\n${jobLine(s, d.startTime)}\n${s.lastChangeAt ? `last change ${s.lastChangeAt}\n` : ''}${s.cancelReason ? `cancel reason: ${s.cancelReason}\n` : ''}${s.expected ? `expected to take ${formatDuration(s.expected.ms)} (${s.expected.basis}), by ${s.expected.endBy}\n` : ''}${s.paused ? `PAUSED since ${s.paused.since} by ${s.paused.by}${s.paused.reason ? `: ${s.paused.reason}` : ''}${s.paused.until ? `; resumes by itself at ${s.paused.until}` : ''}${s.paused.holdDeadline ? '; deadline held' : ''}\n` : ''}${s.late ? `LATE since ${s.late.since}: longer than expected; still followed (the timeout, if any, is the hard limit)\n` : ''}${s.attention ? `needs attention since ${s.attention.since}: ${s.attention.type}: ${s.attention.message}\n  (the run is still followed; the read is retried until the cause is fixed)\n` : ''}`);
  return ExitCode.ok;
}

async function list(cli: Cli, query: string, values: Values, out: Out): Promise<number> {
  const rows: string[][] = [];
  const items: unknown[] = [];
  for await (const wf of cli.client.workflow.list({ query, pageSize: 100 })) {
    const sa = wf.searchAttributes as Record<string, string[] | undefined>;
    const first = (key: { name: string }): string | undefined => sa[key.name]?.[0];
    const [jobId, jobRunId, ccsStatus, attention] = [first(SearchAttribute.jobId), first(SearchAttribute.jobRunId), first(SearchAttribute.jobStatus), first(SearchAttribute.attention)];
    rows.push([wf.workflowId, jobId ?? '-', jobRunId ?? '-', ccsStatus ?? '-', attention ?? '-', wf.status.name, elapsed(wf.startTime)]);
    items.push({ workflowId: wf.workflowId, jobId, jobRunId, ccsStatus, ...(attention ? { attention } : {}), workflow: wf.status.name, startTime: wf.startTime });
    if (rows.length >= 500) break;
  }
  if (values.json) out.write(`${JSON.stringify(items, null, 2)}\n`);
  else out.write(rows.length ? `${table(['WORKFLOW ID', 'JOB ID', 'JOB RUN ID', 'CCS STATUS', 'ATTENTION', 'WORKFLOW', 'AGE'], rows)}\n` : `no job workflows match ${query}\n`);
  return ExitCode.ok;
}

async function pipeline(cli: () => Promise<Cli>, verb: string | undefined, file: string | undefined, values: Values, env: Record<string, string | undefined>, out: Out): Promise<number> {
  if (verb !== 'run' && verb !== 'validate') throw new CliError('use ccs-jobs pipeline run <file> or ccs-jobs pipeline validate <file>');
  if (!file) throw new CliError(`name the pipeline file: ccs-jobs pipeline ${verb} <file>`);
  const definition = loadPipelineFile(file);
  const requester = requesterOf(values, env);
  if (requester && definition.requestedBy === undefined) definition.requestedBy = requester;
  const jobs = definition.stages.reduce((n, s) => n + s.jobs.length, 0);
  if (verb === 'validate') {
    out.write(`${file}: valid pipeline ${JSON.stringify(definition.name)} with ${definition.stages.length} stage(s) and ${jobs} job(s)\n`);
    return ExitCode.ok;
  }
  const c = await cli();
  const workflowId = values.id ?? pipelineWorkflowId(definition.name);
  const existing = await c.client.workflow.getHandle(workflowId).describe().catch(() => undefined);
  const handle = await c.client.workflow.start(WorkflowName.runCcsPipeline, { taskQueue: c.taskQueue, workflowId, args: [definition], workflowIdConflictPolicy: 'USE_EXISTING' });
  const attached = existing?.status.name === 'RUNNING';
  if (!values.json) out.write(`${attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsPipeline} ${workflowId}: ${definition.stages.length} stage(s), ${jobs} job(s)\n`);
  else if (!values.wait) out.write(`${JSON.stringify({ workflowId, attached })}\n`);
  return values.wait ? waitForPipeline(handle, c.client, out, Boolean(values.json)) : ExitCode.ok;
}

async function schedule(cli: () => Promise<Cli>, verb: string | undefined, name: string | undefined, values: Values, out: Out): Promise<number> {
  const say = (text: string): number => {
    out.write(`${text}\n`);
    return ExitCode.ok;
  };
  switch (verb) {
    case 'create': {
      const options = { cron: values.cron, job: values.job, pipeline: values.pipeline, timezone: values.timezone, overlap: values.overlap, catchupWindow: values['catchup-window'], poll: values.poll, timeout: values.timeout };
      scheduleSpec(name, options); // all checks before connecting
      return say(await createSchedule(await cli(), name, options));
    }
    case 'list':
      return say(await listSchedules(await cli()));
    case 'describe':
      return say(await describeSchedule(await cli(), name, Boolean(values.json)));
    case 'pause':
    case 'unpause':
    case 'trigger':
    case 'delete':
      return say(await changeSchedule(await cli(), verb, name, values.note));
    default:
      throw new CliError('use ccs-jobs schedule create|list|describe|pause|unpause|trigger|delete (see ccs-jobs schedule --help)');
  }
}

/** Runs the CLI; returns the exit code. Never calls process.exit: the entry point does. */
export async function main(argv: string[], env: Record<string, string | undefined>, out: Out, err: (text: string) => void): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`ccs-jobs: ${(e as Error).message.split('\n')[0]} (see ccs-jobs --help)\n`);
    return ExitCode.error;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out.write(`${HELP[command ?? ''] ?? HELP['']!}\n`);
    return command && !HELP[command] ? ExitCode.error : ExitCode.ok;
  }
  const options: GlobalOptions = { address: values.address, namespace: values.namespace, taskQueue: values['task-queue'] ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE, verbose: Boolean(values.verbose) };
  let cli: Cli | undefined;
  const lazyCli = async (): Promise<Cli> => (cli ??= await connect(options, env));
  try {
    switch (command) {
      case 'run': {
        if (values.name !== undefined) {
          if (rest[0] !== undefined) throw new CliError('ccs-jobs run: give a JobID or --name "<JobName>", not both');
          requireName(values.name);
          jobInput(ANY_JOB_ID, values); // every other flag checked before anything is contacted
          const c = await lazyCli();
          const jobId = await resolveJobName(c, values.name, values.ccs, out, Boolean(values.json));
          return await startJob(c, jobInput(jobId, values, requesterOf(values, env)), values, out);
        }
        const input = jobInput(rest[0], values, requesterOf(values, env));
        return await startJob(await lazyCli(), input, values, out);
      }
      case 'status':
        return await showStatus(await lazyCli(), rest[0], values, out);
      case 'cancel': {
        const workflowId = rest[0];
        if (!workflowId) throw new CliError('name the workflow: ccs-jobs cancel <workflowId>');
        const c = await lazyCli();
        const handle = c.client.workflow.getHandle(workflowId);
        const d = await handle.describe().catch(notFound(workflowId, c.namespace));
        if (d.status.name !== 'RUNNING') throw new CliError(`workflow ${workflowId} is ${d.status.name}, nothing to cancel`);
        await handle.signal(cancelSignal, values.reason ? { reason: values.reason } : {});
        out.write(`cancel requested for ${workflowId}; it aborts its CCS run(s) and waits for CCS to confirm (follow with ccs-jobs status ${workflowId})\n`);
        return ExitCode.ok;
      }
      case 'pause':
      case 'resume': {
        const workflowId = rest[0];
        if (!workflowId) throw new CliError(`name the workflow: ccs-jobs ${command} <workflowId>`);
        const input = command === 'pause' ? pauseInput(values) : undefined;
        const c = await lazyCli();
        const handle = c.client.workflow.getHandle(workflowId);
        const d = await handle.describe().catch(notFound(workflowId, c.namespace));
        if (d.status.name !== 'RUNNING') throw new CliError(`workflow ${workflowId} is ${d.status.name}, nothing to ${command}`);
        if (input) {
          await handle.signal(pauseSignal, input);
          out.write(`pause requested for ${workflowId}: no CCS request${d.type === WorkflowName.runCcsPipeline ? ' and no new job' : ''} until ${input.until ? `${input.until} or ` : ''}ccs-jobs resume ${workflowId}; the run is not aborted${input.holdDeadline ? '; its deadline is held' : ''}\n`);
        } else {
          await handle.signal(resumeSignal, values.reason ? { reason: values.reason } : {});
          out.write(`resume requested for ${workflowId}\n`);
        }
        return ExitCode.ok;
      }
      case 'report': {
        const workflowId = rest[0];
        if (!workflowId) throw new CliError('name the pipeline workflow: ccs-jobs report <workflowId> --html FILE');
        if (!values.html) throw new CliError('name the file: ccs-jobs report <workflowId> --html FILE');
        const c = await lazyCli();
        const report = await pipelineReportOf(c, workflowId);
        writeFileSync(values.html, renderPipelineReport({ workflowId, report, generatedAt: new Date().toISOString(), source: 'Temporal' }));
        out.write(`wrote the report of ${workflowId} (${report.status}) to ${values.html}\n`);
        return ExitCode.ok;
      }
      case 'evidence':
        return await evidence(rest[0], rest[1], { dir: values.dir, since: values.since, job: values.job, status: values.status, format: values.format, out: values.out, json: values.json, anchor: values.anchor, after: values.after }, env, out);
      case 'reconcile':
        return await reconcile(lazyCli, { ccs: values.ccs, jobs: values.jobs, search: values.search, recent: values.recent, policy: values.policy, maxRequests: values['max-requests'], schedule: values.schedule, json: values.json }, out);
      case 'maintenance':
        return await maintenance(lazyCli, rest[0], values, env, out);
      case 'list': {
        const query = listQuery(values);
        return await list(await lazyCli(), query, values, out);
      }
      case 'pipeline':
        return await pipeline(lazyCli, rest[0], rest[1], values, env, out);
      case 'schedule':
        return await schedule(lazyCli, rest[0], rest[1], values, out);
      case 'ccs':
        if (rest[0] === 'check') return await ccsCheck(env, { ccs: values.ccs, job: values.job, name: values.name, json: values.json }, out);
        if (rest[0] === 'inspect') return await ccsInspect(rest[1], { ca: values.ca, pem: values.pem, json: values.json }, out);
        throw new CliError('use ccs-jobs ccs check [--ccs NAME] [--job ID|--name NAME] or ccs-jobs ccs inspect <url> (see ccs-jobs ccs --help)');
      case 'worker':
        // Loaded on demand: the worker pulls in the SDK's native runtime, which other commands do not need.
        await (await import('../worker')).runWorker(env);
        return ExitCode.ok;
      default:
        throw new CliError(`unknown command ${JSON.stringify(command)}; commands: run, status, cancel, pause, resume, maintenance, reconcile, evidence, report, list, pipeline, schedule, ccs, worker`);
    }
  } catch (e) {
    if (options.verbose) err(`${(e as Error).stack ?? String(e)}\n`);
    const message = e instanceof CliError || e instanceof CcsError ? e.message : e instanceof WorkflowExecutionAlreadyStartedError ? `workflow ${e.workflowId} already exists` : `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`;
    err(`ccs-jobs: ${message}\n`);
    return e instanceof CliError ? e.exitCode : ExitCode.error;
  } finally {
    await (cli)?.close();
  }
}

/** The `ccs-jobs` entry point. */
export function run(): void {
  const out: Out = { write: (t) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) };
  main(process.argv.slice(2), process.env, out, (t) => process.stderr.write(t)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`ccs-jobs: ${(e as Error).message}\n`);
      process.exitCode = ExitCode.error;
    },
  );
}

if (require.main === module) run();
