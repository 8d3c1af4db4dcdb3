/**
 * Baseline (b): the common Temporal pattern. Execute, then loop: sleep on a workflow timer, read the
 * status in an activity, until the run ends. Every poll adds a timer, an activity and a workflow
 * task to the history. No adoption, no abort on cancel: it is the pattern, not our product.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { TimerLoopActivities } from './timer-loop-activities';

const { startJob, readRunStatus } = proxyActivities<TimerLoopActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '1m', backoffCoefficient: 2 },
});

const TERMINAL = ['Completed', 'Faulted', 'Aborted'];

export async function timerLoopRun(input: {
  jobId: string;
  pollIntervalMs: number;
}): Promise<{ jobRunId: string; status: string; polls: number }> {
  const run = await startJob(input.jobId);
  let status = run.status;
  let polls = 0;
  while (!TERMINAL.includes(status)) {
    await sleep(input.pollIntervalMs);
    status = await readRunStatus(input.jobId, run.jobRunId);
    polls++;
  }
  return { jobRunId: run.jobRunId, status, polls };
}
