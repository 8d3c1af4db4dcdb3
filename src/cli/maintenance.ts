/** `ccs-jobs maintenance start|end|list`: one window per CCS server, as a workflow. */
import {
  WorkflowName,
  endMaintenanceSignal,
  maintenanceSignal,
  maintenanceStatusQuery,
  maintenanceWorkflowId,
  type MaintenanceStatus,
} from '../domain/contract';
import { checkedMaintenance } from '../domain/maintenance';
import { maintenanceSummary } from '../domain/ui-summary';
import type { Cli } from './connect';
import { flagError } from './flag-errors';
import { CliError, ExitCode, table } from './output';
import type { Out } from './progress';
import type { CommandContext, CommandSpec } from './spec';
import { printable as p } from './terminal-text';
import { untilFrom } from './until';
import { signalRunning } from './workflow-calls';

async function listWindows(cli: Cli, json: boolean, out: Out): Promise<number> {
  const rows: string[][] = [];
  const items: MaintenanceStatus[] = [];
  for await (const wf of cli.client.workflow.list({
    query: `WorkflowType = '${WorkflowName.ccsMaintenanceWindow}' AND ExecutionStatus = 'Running'`,
    pageSize: 100,
  })) {
    const s = await cli.client.workflow
      .getHandle(wf.workflowId)
      .query(maintenanceStatusQuery)
      .catch(() => undefined);
    if (!s) continue;
    items.push(s);
    rows.push([p(s.ccs), p(s.since), s.until ? p(s.until) : '(until ended)', String(s.paused), s.reason ? p(s.reason) : '-']);
  }
  out.write(
    json
      ? `${JSON.stringify(items, null, 2)}\n`
      : rows.length
        ? `${table(['CCS', 'SINCE', 'UNTIL', 'RUNS PAUSED', 'REASON'], rows)}\n`
        : 'no maintenance window is open\n',
  );
  return ExitCode.ok;
}

async function startWindow({ flags, env, out, cli }: CommandContext, ccs: string, workflowId: string): Promise<number> {
  const reason = flags.string('reason');
  const until = untilFrom(flags.string('until'));
  const input = { ...(reason ? { reason } : {}), ...(until ? { until } : {}), requestedBy: env.USER ?? env.USERNAME ?? 'ccs-jobs' };
  try {
    checkedMaintenance(input, Date.now());
  } catch (err) {
    throw flagError(err, {});
  }
  const c = await cli();
  await c.client.workflow.signalWithStart(WorkflowName.ccsMaintenanceWindow, {
    taskQueue: c.taskQueue,
    workflowId,
    args: [{ ccs }],
    signal: maintenanceSignal,
    signalArgs: [input],
    staticSummary: maintenanceSummary(ccs),
  });
  out.write(
    `maintenance window open on CCS server ${ccs}${input.until ? ` until ${input.until}` : ' until ccs-jobs maintenance end'}: its runs hold (no CCS request, no abort) and no new run executes there (${workflowId})\n`,
  );
  return ExitCode.ok;
}

async function endWindow({ flags, out, cli }: CommandContext, ccs: string, workflowId: string): Promise<number> {
  const reason = flags.string('reason');
  const { handle } = await signalRunning(await cli(), workflowId, endMaintenanceSignal, [reason ? { reason } : {}], {
    verb: 'end',
    missing: () => `no maintenance window is open on CCS server ${ccs}`,
  });
  const ended = (await handle.result()) as MaintenanceStatus;
  out.write(
    flags.boolean('json')
      ? `${JSON.stringify(ended, null, 2)}\n`
      : `maintenance window on CCS server ${ccs} ended: ${ended.resumed} run(s) resumed (${ended.paused} paused during it)\n`,
  );
  return ExitCode.ok;
}

export const maintenanceCommand: CommandSpec = {
  name: 'maintenance',
  synopsis: 'maintenance ...',
  summary: "start|end|list a CCS server's maintenance window: its runs hold, then resume",
  verbs: ['start', 'end', 'list'],
  usage: [
    'ccs-jobs maintenance start --ccs NAME [--until 2h|2026-12-01T06:00:00Z] [--reason TEXT]',
    'ccs-jobs maintenance end --ccs NAME [--reason TEXT] [--json]',
    'ccs-jobs maintenance list [--json]',
  ],
  description: `A CCS server's maintenance window (workflow ccs-maintenance-<NAME>): every run on that server is
paused (no CCS request, never aborted: CcsPaused = 'maintenance'), runs that start during it hold
before executing (so schedules and pipelines start nothing there), and when it ends (end, or --until)
they resume by themselves. Runs paused by a person stay paused. Survives worker restarts. Runs on
other servers are not touched.`,
  flags: [
    {
      name: 'ccs',
      type: 'string',
      value: 'NAME',
      verbs: ['start', 'end'],
      help: "the CCS server, as the worker's CCS_SERVERS_FILE names it, e.g. default (required)",
    },
    {
      name: 'until',
      type: 'string',
      value: '2h|ISO_TIME',
      verbs: ['start'],
      help: 'end the window by itself after this duration or at this time (within 31 days)',
    },
    { name: 'reason', type: 'string', value: 'TEXT', verbs: ['start', 'end'], help: 'why, shown by list and on the paused runs' },
    { name: 'json', type: 'boolean', verbs: ['end', 'list'], help: 'machine-readable output' },
  ],
  examples: [
    'ccs-jobs maintenance start --ccs emea --until 3h --reason "CCS 12.7 patch CHG0012345"',
    'ccs-jobs maintenance list',
    'ccs-jobs maintenance end --ccs emea',
  ],
  async run(ctx) {
    const verb = ctx.args[0];
    if (verb !== 'start' && verb !== 'end' && verb !== 'list')
      throw new CliError('use ccs-jobs maintenance start|end|list --ccs NAME (see ccs-jobs maintenance --help)');
    if (verb === 'list') return listWindows(await ctx.cli(), ctx.flags.boolean('json'), ctx.out);
    const ccs = ctx.flags.string('ccs');
    if (ccs === undefined)
      throw new CliError(
        `ccs-jobs maintenance ${verb}: --ccs NAME is required (the CCS server, as the worker's CCS_SERVERS_FILE names it, e.g. default)`,
      );
    let workflowId: string;
    try {
      workflowId = maintenanceWorkflowId(ccs);
    } catch (err) {
      throw flagError(err, { ccs: '--ccs' });
    }
    return verb === 'start' ? startWindow(ctx, ccs, workflowId) : endWindow(ctx, ccs, workflowId);
  },
};
