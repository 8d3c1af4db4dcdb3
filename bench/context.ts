/**
 * What every benchmark phase works with: the settings, the simulator and its request log, the
 * Temporal client, the measured processes, and how to make a job and start a run of each approach.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowName } from '../src/domain/contract';
import type { Simulator } from '../src/sim/server';
import type { SimJob } from '../src/sim/state';
import type { Processes } from './processes';
import type { RequestLog } from './request-log';
import type { BenchSettings } from './settings';

export const USERS = {
  ours: 'bench-ours',
  retry: 'bench-retry',
  timer: 'bench-timer',
  vendor: 'bench-vendor',
  cluster: 'bench-cluster',
} as const;
export const PASSWORD = 'bench-password';
export const QUEUE = { ours: 'bench-ours', retry: 'bench-retry', timer: 'bench-timer' } as const;

/** How a worker polls a waiting run: `held` (this design) or `retry` (the previous one, every poll an activity retry). */
export type PollDesign = 'held' | 'retry';

export class BenchContext {
  private jobsMade = 0;
  /** Our history runs still going in the background (they share the task queue with the concurrency runs). */
  backgroundOurs = 0;
  /** The runs' heartbeatTimeout (--heartbeat-timeout); unset: the workflow's default. */
  heartbeatTimeout: string | undefined;

  constructor(
    readonly s: BenchSettings,
    readonly sim: Simulator,
    readonly log: RequestLog,
    readonly client: Client,
    readonly procs: Processes,
    readonly say: (line: string) => void,
  ) {}

  job(steps: SimJob['steps']): string {
    const job = this.sim.state.addJob({ JobID: randomUUID(), JobName: `bench ${++this.jobsMade}`, steps });
    return job.JobID;
  }

  startOurs(jobId: string, intervalMs: number, design: PollDesign = 'held'): Promise<WorkflowHandle> {
    return this.client.workflow.start(WorkflowName.runCcsJob, {
      taskQueue: design === 'held' ? QUEUE.ours : QUEUE.retry,
      workflowId: `bench-${jobId}`,
      args: [
        {
          jobId,
          pollInterval: intervalMs,
          maxPollInterval: intervalMs,
          ...(this.heartbeatTimeout ? { heartbeatTimeout: this.heartbeatTimeout } : {}),
        },
      ],
    });
  }

  startTimerLoop(jobId: string, intervalMs: number): Promise<WorkflowHandle> {
    return this.client.workflow.start('timerLoopRun', {
      taskQueue: QUEUE.timer,
      workflowId: `bench-timer-${jobId}`,
      args: [{ jobId, pollIntervalMs: intervalMs }],
    });
  }

  /** When the simulator says the job's (only) run ended. */
  endedAt(jobId: string): number {
    const run = this.sim.state.runsOf(jobId)[0];
    const view = run ? this.sim.state.view(run) : undefined;
    if (!view?.endedAt) throw new Error(`run of job ${jobId} has not ended`);
    return view.endedAt;
  }

  async closeTime(handle: WorkflowHandle): Promise<number> {
    const d = await handle.describe();
    if (!d.closeTime) throw new Error(`${handle.workflowId} is not closed`);
    return d.closeTime.getTime();
  }
}
