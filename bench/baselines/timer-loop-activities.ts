/** Activities of the timer-loop baseline, over the same CCS client (pooled connections, one token) as ours. */
import type { CcsClient } from '../../src/ccs/client';

export function timerLoopActivities(client: CcsClient) {
  return {
    async startJob(jobId: string): Promise<{ jobRunId: string; status: string }> {
      const run = await client.executeJob(jobId);
      return { jobRunId: run.jobRunId, status: run.status };
    },
    async readRunStatus(jobId: string, jobRunId: string): Promise<string> {
      return (await client.getJobRun(jobId, jobRunId)).status;
    },
  };
}

export type TimerLoopActivities = ReturnType<typeof timerLoopActivities>;
