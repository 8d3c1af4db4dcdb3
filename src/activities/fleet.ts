/**
 * Activities that act on the orchestrator's own workflows through Temporal, not on CCS: find the
 * runs on a CCS server and signal them, and read a server's maintenance window. Built over a
 * Temporal client by the worker's hosting; they never send anything to CCS.
 */
import { Context } from '@temporalio/activity';
import { jobStartMetadata } from '../domain/ui-summary';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  SearchAttribute,
  WorkflowName,
  adoptionWorkflowId,
  maintenanceStatusQuery,
  maintenanceWorkflowId,
  pauseSignal,
  resumeSignal,
  type PauseInput,
} from '../domain/contract';
import type { MaintenanceWindowView } from '../domain/maintenance';
import type { ClosedTracker } from '../domain/reconcile';

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
      const filter = input.action === 'pause' ? `${SearchAttribute.paused.name} IS NULL` : `${SearchAttribute.paused.name} = 'maintenance'`;
      const query = `WorkflowType = '${WorkflowName.runCcsJob}' AND ExecutionStatus = 'Running' AND ${SearchAttribute.server.name} = '${ccs}' AND ${filter}`;
      const ctx = Context.current();
      let signalled = 0;
      for await (const wf of client.workflow.list({ query, pageSize: 500 })) {
        if (signalled >= MAX_SWEEP) break;
        const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
        const sent =
          input.action === 'pause'
            ? handle.signal(pauseSignal, { ...input.pause, by: 'maintenance' })
            : handle.signal(resumeSignal, { reason: `maintenance window of ${ccs} ended` });
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

    /**
     * The workflows that follow (or followed) a CCS run, by `CcsJobRunId`: the running ones, and the
     * closed ones with how and when they closed (a `Terminated` one left its run behind). At most 20 of each.
     */
    async trackersOfRun(input: { jobId: string; jobRunId: string }): Promise<{ running: string[]; closed: ClosedTracker[] }> {
      const id = input.jobRunId.replace(/[^0-9a-fA-F-]/g, '');
      const running: string[] = [];
      const closed: ClosedTracker[] = [];
      // A workflow of the job still starting has executed but not yet named its run: it may be this
      // run's owner, so the run counts as followed (the next reconcile will know).
      const starting = `WorkflowType = '${WorkflowName.runCcsJob}' AND ExecutionStatus = 'Running' AND ${SearchAttribute.jobId.name} = '${input.jobId.replace(/[^0-9a-fA-F-]/g, '')}' AND ${SearchAttribute.jobRunId.name} IS NULL`;
      for await (const wf of client.workflow.list({ query: starting, pageSize: 5 })) {
        running.push(wf.workflowId);
        break;
      }
      for await (const wf of client.workflow.list({ query: `${SearchAttribute.jobRunId.name} = '${id}'`, pageSize: 50 })) {
        if (wf.status.name === 'RUNNING') {
          if (running.length < 20) running.push(wf.workflowId);
        } else if (closed.length < 20)
          closed.push({ workflowId: wf.workflowId, status: wf.status.name, closeTime: wf.closeTime?.toISOString() ?? null });
        if (running.length >= 20 && closed.length >= 20) break;
      }
      return { running, closed };
    },

    /** The jobs `runCcsJob` workflows on a CCS server started since `since` (ISO), at most 1,000. */
    async recentJobIds(input: { ccs: string; since: string }): Promise<string[]> {
      const ccs = input.ccs.replace(/'/g, '');
      const since = new Date(Date.parse(input.since)).toISOString();
      const query = `WorkflowType = '${WorkflowName.runCcsJob}' AND StartTime > '${since}' AND ${SearchAttribute.server.name} = '${ccs}'`;
      const jobs = new Set<string>();
      let seen = 0;
      for await (const wf of client.workflow.list({ query, pageSize: 500 })) {
        const jobId = (wf.searchAttributes as Record<string, unknown[] | undefined>)[SearchAttribute.jobId.name]?.[0];
        if (typeof jobId === 'string') jobs.add(jobId.toLowerCase());
        if (jobs.size >= 1_000 || ++seen >= 50_000) break;
      }
      return [...jobs];
    },

    /**
     * Starts `runCcsJob` with `ifRunning: 'attach'` for a run nobody follows, under a workflow id that
     * names the run (`ccs-adopt-<JobRunID>`), refused if that id was ever used: two reconciles never
     * adopt one run twice. `started` is false when another reconcile adopted it first.
     */
    async adoptRun(input: { ccs: string; jobId: string; jobRunId: string }): Promise<{ workflowId: string; started: boolean }> {
      const workflowId = adoptionWorkflowId(input.jobRunId);
      try {
        await client.workflow.start(WorkflowName.runCcsJob, {
          taskQueue: Context.current().info.taskQueue,
          workflowId,
          args: [{ jobId: input.jobId, ccs: input.ccs, ifRunning: 'attach' }],
          ...jobStartMetadata({ jobId: input.jobId, ccs: input.ccs, startedBy: { kind: 'reconcile' } }),
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return { workflowId, started: true };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
        throw err;
      }
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
