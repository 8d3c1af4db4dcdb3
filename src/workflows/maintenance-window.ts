/**
 * `ccsMaintenanceWindow`: one per CCS server while its maintenance window is open (workflow id
 * `ccs-maintenance-<server>`). It pauses every run on the server (a `pause` signal with `by:
 * maintenance`), sweeps again every minute for runs that started meanwhile, and when the window ends
 * (the `end` signal, or its `until`) resumes the runs it paused. Runs starting during the window find
 * it themselves and hold before executing. Durable: a worker restart changes nothing.
 */
import { ApplicationFailure, condition, continueAsNew, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { endMaintenanceSignal, maintenanceSignal, maintenanceStatusQuery, type MaintenanceStatus } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { checkedMaintenance } from '../domain/maintenance';
import { validateServerName } from '../domain/validation';
import { activitySummary, maintenanceDetails } from '../domain/ui-summary';
import { fleetCall } from './activity-options';
import { CurrentDetails } from './ui-details';

/** How often an open window looks again for runs that started on its server without pausing. */
export const SWEEP_EVERY_MS = 60_000;

export interface MaintenanceWindowInput {
  ccs: string;
  /** Internal: the window's state carried across continue-as-new. */
  carry?: MaintenanceStatus;
}

export async function ccsMaintenanceWindow(input: MaintenanceWindowInput): Promise<MaintenanceStatus> {
  const ccs = validateServerName('ccs', input?.ccs);
  let status: MaintenanceStatus | undefined = input.carry;
  let changed = false;
  let endedBy: string | undefined;
  setHandler(maintenanceSignal, (arg) => {
    try {
      const m = checkedMaintenance(arg, Date.now());
      if (!status)
        status = {
          ccs,
          state: 'open',
          reason: m.reason,
          since: new Date().toISOString(),
          until: m.until,
          requestedBy: m.requestedBy,
          paused: 0,
          resumed: 0,
        };
      else if (status.state === 'open') Object.assign(status, { until: m.until, ...(m.reason === null ? {} : { reason: m.reason }) });
      changed = true;
    } catch (err) {
      log.warn('maintenance signal ignored', { ccs, error: (err as Error).message });
    }
  });
  setHandler(endMaintenanceSignal, (arg) => {
    endedBy ??= typeof arg?.reason === 'string' ? arg.reason.slice(0, 500) : 'end signal';
  });
  setHandler(
    maintenanceStatusQuery,
    () =>
      status ?? {
        ccs,
        state: 'open',
        reason: null,
        since: new Date().toISOString(),
        until: null,
        requestedBy: null,
        paused: 0,
        resumed: 0,
      },
  );

  // Started with signal-with-start: the window's settings arrive with the first workflow task.
  if (!(await condition(() => status !== undefined || endedBy !== undefined, '1m')) || !status) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: 'a maintenance window is opened with ccs-jobs maintenance start (signal-with-start of "maintenance")',
    });
  }
  const window = status;
  const details = new CurrentDetails();
  details.show(maintenanceDetails(window));
  if (!input.carry) log.info('maintenance window open: runs on the server hold', { ccs, reason: window.reason, until: window.until });
  while (endedBy === undefined) {
    const pause = {
      ...(window.reason === null ? {} : { reason: window.reason }),
      ...(window.until === null ? {} : { until: window.until }),
    };
    window.paused += await fleetCall.signalRunsOnServer.executeWithOptions({ summary: activitySummary.sweep(ccs, 'pause') }, [
      { ccs, action: 'pause', pause },
    ]);
    details.show(maintenanceDetails(window));
    const left = window.until === null ? SWEEP_EVERY_MS : Date.parse(window.until) - Date.now();
    if (left <= 0) {
      endedBy = `until ${window.until} passed`;
      break;
    }
    changed = false;
    const waitMs = Math.min(left, SWEEP_EVERY_MS);
    await condition(() => endedBy !== undefined || changed, waitMs, { summary: activitySummary.windowWait(waitMs) });
    if (endedBy === undefined && workflowInfo().continueAsNewSuggested)
      await continueAsNew<typeof ccsMaintenanceWindow>({ ccs, carry: window });
  }
  window.state = 'ended';
  window.endedAt = new Date().toISOString();
  window.endedBy = endedBy;
  window.resumed += await fleetCall.signalRunsOnServer.executeWithOptions({ summary: activitySummary.sweep(ccs, 'resume') }, [
    { ccs, action: 'resume' },
  ]);
  details.show(maintenanceDetails(window));
  log.info('maintenance window ended: runs on the server resume', { ccs, endedBy, resumed: window.resumed });
  return window;
}
