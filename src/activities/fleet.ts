/**
 * Activities that act on the orchestrator's own workflows through Temporal, not on CCS: find the
 * runs on a CCS server and signal them, and read a server's maintenance window. Built over a
 * Temporal client by the worker's hosting; they never send anything to CCS.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { SearchAttribute, WorkflowName, maintenanceStatusQuery, maintenanceWorkflowId, pauseSignal, resumeSignal, type PauseInput } from '../domain/contract';
import type { MaintenanceWindowView } from '../domain/maintenance';

/** At most this many runs are signalled by one sweep (a sweep repeats while a window is open). */
export const MAX_SWEEP = 10_000;

export interface SignalRunsInput {
  ccs: string;
  /** `pause`: running runs on the server not paused yet; `resume`: those paused by maintenance. */
  action: 'pause' | 'resume';
  pause?: PauseInput;
}

export interface FleetDeps {
  client: Client;
}

export function createFleetActivities({ client }: FleetDeps) {
  return {
    /**
     * Signals every running `runCcsJob` on a CCS server: pause the ones not yet paused, or resume the
     * ones paused by maintenance. Safe to retry (a repeated pause or resume changes nothing). Returns
     * how many were signalled.
     */
    async signalRunsOnServer(input: SignalRunsInput): Promise<number> {
      const ccs = input.ccs.replace(/'/g, '');
      const filter =
        input.action === 'pause'
          ? `${SearchAttribute.paused.name} IS NULL`
          : `${SearchAttribute.paused.name} = 'maintenance'`;
      const query = `WorkflowType = '${WorkflowName.runCcsJob}' AND ExecutionStatus = 'Running' AND ${SearchAttribute.server.name} = '${ccs}' AND ${filter}`;
      const ctx = Context.current();
      let signalled = 0;
      for await (const wf of client.workflow.list({ query, pageSize: 500 })) {
        if (signalled >= MAX_SWEEP) break;
        const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
        const sent = input.action === 'pause' ? handle.signal(pauseSignal, { ...input.pause, by: 'maintenance' }) : handle.signal(resumeSignal, { reason: `maintenance window of ${ccs} ended` });
        // A run that closed since it was listed cannot be signalled, and needs nothing.
        await sent.then(
          () => signalled++,
          (err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          },
        );
        ctx.heartbeat(signalled);
      }
      return signalled;
    },

    /** The server's open maintenance window, or null when none is open. */
    async maintenanceWindowOf(input: { ccs: string }): Promise<MaintenanceWindowView | null> {
      const handle = client.workflow.getHandle(maintenanceWorkflowId(input.ccs));
      try {
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') return null;
        const status = await handle.query(maintenanceStatusQuery);
        return status.state === 'open' ? { reason: status.reason, until: status.until } : null;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    },
  };
}

export type FleetActivities = ReturnType<typeof createFleetActivities>;
