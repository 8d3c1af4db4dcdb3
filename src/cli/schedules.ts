/** `ccs-jobs schedule ...`: Temporal Schedules that start runCcsJob or runCcsPipeline. */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription } from '@temporalio/client';
import { WorkflowName, jobWorkflowId } from '../domain/contract';
import { checkedRunCcsJobInput } from '../domain/job-workflow';
import { alertWindow, type PipelineDefinition } from '../domain/pipeline';
import { MAX_REDRIVES, MIN_REDRIVE_AFTER_MS, type AutoRedrive } from '../domain/redrive';
import { jobStartMetadata, pipelineSummary } from '../domain/ui-summary';
import { parseDuration, requireGuid } from '../domain/validation';
import { cancelScanWatch, scanWatchOf, startScanWatch } from './scan-watch';
import type { Cli } from './connect';
import { validateCron } from './cron';
import { checkedByField } from './flag-errors';
import { loadPipelineFile } from './pipeline-file';
import { CliError, ExitCode, table } from './output';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';
import { MIN_ALERT_IF_NO_SUCCESS_MS } from '../domain/notifications';

/** runCcsJob input field → the `schedule create` flag that sets it. */
const SCHEDULED_JOB_FLAGS = Object.freeze({ jobId: '--job', pollInterval: '--poll', timeout: '--timeout' });

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  allow: ScheduleOverlapPolicy.ALLOW_ALL,
};

export interface CreateScheduleOptions {
  cron?: string | undefined;
  job?: string | undefined;
  pipeline?: string | undefined;
  timezone?: string | undefined;
  overlap?: string | undefined;
  catchupWindow?: string | undefined;
  poll?: string | undefined;
  timeout?: string | undefined;
  alertIfNoSuccess?: string | undefined;
  /** `--redrive-after`: redrive an attempt that ended with failed jobs, this long after it ended (pipelines only). */
  redriveAfter?: string | undefined;
  /** `--max-redrives`: at most this many redrives per scan, 1 to MAX_REDRIVES (default 1). */
  maxRedrives?: string | undefined;
}

/** Everything about a schedule is checked here, before Temporal is contacted. */
export function scheduleSpec(name: string | undefined, o: CreateScheduleOptions) {
  if (!name || !/^[\w.-]{1,200}$/.test(name))
    throw new CliError(`schedule name must be 1-200 letters, digits, '.', '-' or '_'; got ${JSON.stringify(name ?? '')}`);
  if (!o.cron) throw new CliError('--cron is required, e.g. --cron "0 2 * * *"');
  const cron = validateCron(o.cron);
  if (Boolean(o.job) === Boolean(o.pipeline)) throw new CliError('give exactly one of --job <JobID> and --pipeline <file>');
  const timezone = o.timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new CliError(`--timezone ${JSON.stringify(timezone)} is not an IANA time zone such as Europe/Paris or UTC`);
  }
  const overlap = OVERLAP[o.overlap ?? 'skip'];
  if (overlap === undefined) throw new CliError(`--overlap must be skip, buffer-one or allow; got ${JSON.stringify(o.overlap)}`);
  const catchupWindow = o.catchupWindow === undefined ? undefined : parseDuration('--catchup-window', o.catchupWindow);
  if (catchupWindow !== undefined && catchupWindow < 60_000) throw new CliError('--catchup-window must be at least 1m');
  const flagAlert = o.alertIfNoSuccess === undefined ? undefined : checkedAlert('--alert-if-no-success', o.alertIfNoSuccess);
  const flagRedrive = checkedRedrive(o);
  const action = o.job
    ? {
        workflowType: WorkflowName.runCcsJob,
        workflowId: jobWorkflowId(requireGuid('--job', o.job)),
        ...jobStartMetadata({ jobId: o.job, ccs: 'default', startedBy: { kind: 'schedule', scheduleId: name } }),
        args: [
          checkedByField(
            { jobId: o.job, ...(o.poll ? { pollInterval: o.poll } : {}), ...(o.timeout ? { timeout: o.timeout } : {}) },
            ['jobId', 'pollInterval', 'timeout'],
            checkedRunCcsJobInput,
            SCHEDULED_JOB_FLAGS,
          ),
        ],
      }
    : (() => {
        const definition: PipelineDefinition = loadPipelineFile(o.pipeline!);
        // The flags win over the file's `redrive` (already checked with the file).
        if (flagRedrive) definition.redrive = flagRedrive;
        return {
          workflowType: WorkflowName.runCcsPipeline,
          workflowId: `ccs-pipeline-${name}`,
          args: [definition],
          staticSummary: pipelineSummary(definition.name, { kind: 'schedule', scheduleId: name }),
        };
      })();
  // The flag wins over the pipeline file's `alertIfNoSuccess` (already checked with the file).
  const fileAlert = (action.args[0] as { alertIfNoSuccess?: string | number }).alertIfNoSuccess;
  const alertIfNoSuccess = flagAlert ?? (fileAlert === undefined ? undefined : alertWindow(fileAlert));
  return { cron, timezone, overlap, catchupWindow, action, alertIfNoSuccess };
}

/** `--redrive-after` and `--max-redrives`: checked, pipelines only, one line naming the flag. */
function checkedRedrive(o: CreateScheduleOptions): AutoRedrive | undefined {
  if (o.redriveAfter === undefined && o.maxRedrives === undefined) return undefined;
  const flag = o.redriveAfter === undefined ? '--max-redrives' : '--redrive-after';
  if (o.job) throw new CliError(`${flag} is for pipeline schedules (--pipeline <file>); a --job schedule has nothing to redrive`);
  if (o.redriveAfter === undefined)
    throw new CliError('--max-redrives needs --redrive-after, how long after a failed attempt to redrive it, e.g. 30m');
  let ms: number;
  try {
    ms = parseDuration('--redrive-after', o.redriveAfter);
  } catch {
    throw new CliError(`--redrive-after must be a duration such as 30m or 2h; got ${JSON.stringify(printable(o.redriveAfter))}`);
  }
  if (ms < MIN_REDRIVE_AFTER_MS)
    throw new CliError(`--redrive-after must be at least 1m; got ${JSON.stringify(printable(o.redriveAfter))}`);
  const max = o.maxRedrives === undefined ? '1' : o.maxRedrives.trim();
  if (!/^[0-9]{1,3}$/.test(max) || Number(max) < 1 || Number(max) > MAX_REDRIVES)
    throw new CliError(
      `--max-redrives must be a whole number from 1 to ${MAX_REDRIVES}; got ${JSON.stringify(printable(o.maxRedrives ?? ''))}`,
    );
  return { after: o.redriveAfter.trim(), max: Number(max) };
}

/** The missed-scan window of `--alert-if-no-success`: a duration of at least 1m, or one line naming the flag. */
function checkedAlert(flag: string, value: string): string {
  let ms: number;
  try {
    ms = parseDuration(flag, value);
  } catch {
    throw new CliError(`${flag} must be a duration such as 26h, 90m or 7d; got ${JSON.stringify(printable(value))}`);
  }
  if (ms < MIN_ALERT_IF_NO_SUCCESS_MS) throw new CliError(`${flag} must be at least 1m; got ${JSON.stringify(printable(value))}`);
  return value.trim();
}

export async function createSchedule(cli: Cli, name: string | undefined, o: CreateScheduleOptions): Promise<string> {
  const spec = scheduleSpec(name, o);
  try {
    await cli.client.schedule.create({
      scheduleId: name!,
      spec: { cronExpressions: [spec.cron], timezone: spec.timezone },
      action: { type: 'startWorkflow', taskQueue: cli.taskQueue, ...spec.action },
      policies: { overlap: spec.overlap, ...(spec.catchupWindow === undefined ? {} : { catchupWindow: spec.catchupWindow }) },
      // Temporal turns cron text into calendar specs; keep the text as written for list and describe.
      memo: { createdBy: 'ccs-jobs', cron: spec.cron, ...(spec.alertIfNoSuccess ? { alertIfNoSuccess: spec.alertIfNoSuccess } : {}) },
    });
  } catch (err) {
    if ((err as Error).name === 'ScheduleAlreadyRunning')
      throw new CliError(`a schedule named ${JSON.stringify(name)} already exists; delete it first or pick another name`);
    throw err;
  }
  if (spec.alertIfNoSuccess) await startScanWatch(cli, name!, spec.alertIfNoSuccess);
  return `created schedule ${name}: ${spec.action.workflowType} ${spec.action.workflowType === WorkflowName.runCcsJob ? o.job : `pipeline ${printable(o.pipeline)}`} at "${spec.cron}" ${spec.timezone}, overlap ${o.overlap ?? 'skip'}${spec.alertIfNoSuccess ? `, scan.missed if no success within ${spec.alertIfNoSuccess}` : ''}${redriveText(spec.action.args[0]) ? `, ${redriveText(spec.action.args[0])}` : ''}`;
}

/** A pipeline's automatic redrive as list and describe show it: `redrive after 30m, at most 2`; undefined when it has none. */
function redriveText(input: unknown): string | undefined {
  const redrive = (input as { redrive?: AutoRedrive } | undefined)?.redrive;
  if (!redrive || typeof redrive !== 'object') return undefined;
  return `redrive after ${String(redrive.after)}, at most ${redrive.max ?? 1}`;
}

function redriveOf(d: ScheduleDescription): AutoRedrive | undefined {
  const action = d.action as { workflowType?: string; args?: unknown[] };
  if (action.workflowType !== WorkflowName.runCcsPipeline) return undefined;
  const redrive = (action.args?.[0] as { redrive?: AutoRedrive } | undefined)?.redrive;
  return redrive && typeof redrive === 'object' ? { after: redrive.after, max: redrive.max ?? 1 } : undefined;
}

function alertOf(d: ScheduleDescription): string | undefined {
  const alert = (d.memo as { alertIfNoSuccess?: unknown } | undefined)?.alertIfNoSuccess;
  return typeof alert === 'string' ? alert : undefined;
}

function cronOf(d: ScheduleDescription): string {
  const cron = (d.memo as { cron?: unknown } | undefined)?.cron;
  return typeof cron === 'string' ? cron : '(not created by ccs-jobs)';
}

function target(d: ScheduleDescription): string {
  const action = d.action as { workflowType?: string; args?: unknown[] };
  const arg = action.args?.[0] as { jobId?: string; name?: string } | undefined;
  if (action.workflowType === WorkflowName.reconcileCcsRuns) return `reconcile ${(arg as { ccs?: string } | undefined)?.ccs ?? 'default'}`;
  return action.workflowType === WorkflowName.runCcsPipeline ? `pipeline ${arg?.name ?? '?'}` : `job ${arg?.jobId ?? '?'}`;
}

export async function listSchedules(cli: Cli): Promise<string> {
  const rows: string[][] = [];
  for await (const s of cli.client.schedule.list()) {
    const d = await cli.client.schedule.getHandle(s.scheduleId).describe();
    const alert = alertOf(d);
    const watch = alert ? await scanWatchOf(cli, s.scheduleId) : undefined;
    rows.push([
      printable(s.scheduleId),
      // The automatic redrive goes with what the schedule starts: the columns other tools read stay as they were.
      printable([target(d), redriveText(d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined)].filter(Boolean).join(', ')),
      printable(cronOf(d)),
      d.state.paused ? 'paused' : 'active',
      d.info.nextActionTimes[0]?.toISOString() ?? '-',
      alert ? printable(alert) : '-',
      watch === undefined ? '-' : typeof watch === 'string' ? watch : (watch.lastSuccessAt ?? 'none yet'),
    ]);
  }
  return rows.length ? table(['NAME', 'STARTS', 'CRON', 'STATE', 'NEXT RUN', 'ALERT IF NO SUCCESS', 'LAST SUCCESS'], rows) : 'no schedules';
}

async function handleOf(cli: Cli, name: string | undefined) {
  if (!name) throw new CliError('name the schedule, e.g. ccs-jobs schedule describe nightly-scan');
  const handle = cli.client.schedule.getHandle(name);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule named ${JSON.stringify(name)}; see ccs-jobs schedule list`);
    throw err;
  }
}

export async function describeSchedule(cli: Cli, name: string | undefined, json: boolean): Promise<string> {
  const { description: d } = await handleOf(cli, name);
  const alert = alertOf(d);
  const watch = alert ? await scanWatchOf(cli, name!) : undefined;
  const summary = {
    name,
    starts: target(d),
    cron: cronOf(d),
    timezone: d.spec.timezone,
    paused: d.state.paused,
    note: d.state.note,
    overlap: d.policies.overlap,
    catchupWindowMs: d.policies.catchupWindow,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    alertIfNoSuccess: alert ?? null,
    redrive: redriveOf(d) ?? null,
    ...(watch === undefined
      ? {}
      : typeof watch === 'string'
        ? { scanWatch: watch }
        : {
            lastSuccessAt: watch.lastSuccessAt,
            missedSince: watch.missedSince,
            missedWindows: watch.missedWindows,
            alertDeadline: watch.deadline,
          }),
  };
  if (json) return JSON.stringify(summary, null, 2);
  // The text form says the redrive in words; JSON keeps its fields.
  return Object.entries({ ...summary, redrive: redriveText(d.action.type === 'startWorkflow' ? d.action.args?.[0] : undefined) ?? null })
    .map(
      ([k, v]) =>
        `${k.padEnd(16)} ${printable(Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') || '-' : String(v ?? '-'))}`,
    )
    .join('\n');
}

export async function changeSchedule(
  cli: Cli,
  verb: 'pause' | 'unpause' | 'trigger' | 'delete',
  name: string | undefined,
  note?: string,
): Promise<string> {
  const { handle, description } = await handleOf(cli, name);
  if (verb === 'pause') await handle.pause(note ?? 'paused with ccs-jobs');
  if (verb === 'unpause') await handle.unpause(note ?? 'unpaused with ccs-jobs');
  // The SDK triggers with overlap allow-all unless told: a trigger keeps the schedule's own policy, so
  // a scan still running is not started a second time (skip) by someone pressing trigger.
  if (verb === 'trigger') await handle.trigger(description.policies.overlap);
  if (verb === 'delete') {
    await handle.delete();
    // Its watchdog goes with it: a deleted schedule never succeeds again and must not page anyone.
    if (alertOf(description)) await cancelScanWatch(cli, name!);
  }
  const shown = printable(name);
  return {
    pause: `paused schedule ${shown}`,
    unpause: `unpaused schedule ${shown}`,
    trigger: `triggered schedule ${shown} now`,
    delete: `deleted schedule ${shown}`,
  }[verb];
}

const SCHEDULE_VERBS = ['create', 'list', 'describe', 'pause', 'unpause', 'trigger', 'delete'] as const;

export const scheduleCommand: CommandSpec = {
  name: 'schedule',
  synopsis: 'schedule ...',
  summary: 'create, list, describe, pause, unpause, trigger, delete schedules',
  verbs: SCHEDULE_VERBS,
  usage: [
    'ccs-jobs schedule create <name> --cron "<expr>" (--job <JobID> | --pipeline <file>) [--timezone Europe/Paris] [--overlap skip|buffer-one|allow] [--catchup-window 1h] [--poll 30s] [--timeout 8h] [--alert-if-no-success 26h] [--redrive-after 30m [--max-redrives 2]]',
    'ccs-jobs schedule list | describe <name> [--json] | pause <name> [--note TEXT] | unpause <name> [--note TEXT] | trigger <name> | delete <name>',
  ],
  description: `Temporal Schedules underneath. The default overlap policy is skip: a scan never overlaps itself.
trigger follows the schedule's overlap policy: with the default skip, a trigger while its run goes is skipped.
--alert-if-no-success (or alertIfNoSuccess in a pipeline file) starts a durable watchdog, workflow
ccs-scan-watch/<name>: when no Completed run of the schedule ended within the window, scan.missed is
announced once per window until one does (then scan.recovered), even if no worker was up at the
deadline (as soon as one is back). list and describe show the window and the last success; delete
cancels the watchdog. --redrive-after (or redrive: { after, max } in the pipeline file) makes an
attempt that ended with failed jobs start its own redrive after that delay, at most --max-redrives
times per scan (see ccs-jobs pipeline redrive); list and describe show it.`,
  flags: [
    { name: 'cron', type: 'string', value: '"0 2 * * *"', verbs: ['create'], help: 'when, five cron fields or an @-macro (required)' },
    { name: 'job', type: 'string', value: 'JOB_ID', verbs: ['create'], help: 'start runCcsJob for this job' },
    {
      name: 'pipeline',
      type: 'string',
      value: 'FILE',
      verbs: ['create'],
      help: 'start runCcsPipeline from this file (read and checked now)',
    },
    { name: 'timezone', type: 'string', value: 'ZONE', verbs: ['create'], help: 'the IANA time zone of the cron (default UTC)' },
    {
      name: 'overlap',
      type: 'string',
      value: 'skip|buffer-one|allow',
      verbs: ['create'],
      help: 'when the previous run still goes (default skip)',
    },
    { name: 'catchup-window', type: 'string', value: '1h', verbs: ['create'], help: 'how late a missed run may still start (at least 1m)' },
    { name: 'poll', type: 'string', value: '30s', verbs: ['create'], help: "the job's first wait between status reads" },
    { name: 'timeout', type: 'string', value: '8h', verbs: ['create'], help: "the job's timeout" },
    {
      name: 'alert-if-no-success',
      type: 'string',
      value: '26h',
      verbs: ['create'],
      help: 'scan.missed when no run Completed within this window (at least 1m; overrides the pipeline file)',
    },
    {
      name: 'redrive-after',
      type: 'string',
      value: '30m',
      verbs: ['create'],
      help: 'redrive an attempt that ended with failed jobs this long after it ended (at least 1m; --pipeline only)',
    },
    {
      name: 'max-redrives',
      type: 'string',
      value: 'N',
      verbs: ['create'],
      help: 'at most N automatic redrives per scan, 1 to 20 (default 1; needs --redrive-after)',
    },
    { name: 'json', type: 'boolean', verbs: ['describe'], help: 'machine-readable output' },
    { name: 'note', type: 'string', value: 'TEXT', verbs: ['pause', 'unpause'], help: "why, kept in the schedule's state" },
  ],
  examples: [
    'ccs-jobs schedule create nightly-cer --cron "0 2 * * *" --timezone Europe/Paris --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
    'ccs-jobs schedule create weekly-scan --cron "0 3 * * SUN" --pipeline scans/weekly.yaml',
    'ccs-jobs schedule create nightly-scan --cron "0 2 * * *" --job 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --alert-if-no-success 26h',
    'ccs-jobs schedule trigger nightly-cer',
  ],
  async run({ args, flags, out, cli }) {
    const [verb, name] = args;
    const say = (text: string): number => {
      out.write(`${text}\n`);
      return ExitCode.ok;
    };
    switch (verb) {
      case 'create': {
        const options: CreateScheduleOptions = {
          cron: flags.string('cron'),
          job: flags.string('job'),
          pipeline: flags.string('pipeline'),
          timezone: flags.string('timezone'),
          overlap: flags.string('overlap'),
          catchupWindow: flags.string('catchup-window'),
          poll: flags.string('poll'),
          timeout: flags.string('timeout'),
          alertIfNoSuccess: flags.string('alert-if-no-success'),
          redriveAfter: flags.string('redrive-after'),
          maxRedrives: flags.string('max-redrives'),
        };
        scheduleSpec(name, options); // all checks before connecting
        return say(await createSchedule(await cli(), name, options));
      }
      case 'list':
        return say(await listSchedules(await cli()));
      case 'describe':
        return say(await describeSchedule(await cli(), name, flags.boolean('json')));
      case 'pause':
      case 'unpause':
        return say(await changeSchedule(await cli(), verb, name, flags.string('note')));
      case 'trigger':
      case 'delete':
        return say(await changeSchedule(await cli(), verb, name));
      default:
        throw new CliError('use ccs-jobs schedule create|list|describe|pause|unpause|trigger|delete (see ccs-jobs schedule --help)');
    }
  },
};
