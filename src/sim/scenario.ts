/** Scenario jobs (from `--scenario` files and `POST /__sim/jobs`), checked before the simulator keeps them. */
import { randomUUID } from 'node:crypto';
import type { SimJob } from './state';
import { GUID } from './wire';

/** Checks a scenario job; throws a one-line error naming the field. */
export function validateJob(input: unknown, where = 'job'): SimJob {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${where} must be an object`);
  const job = input as Partial<SimJob>;
  if (job.JobID !== undefined && !GUID.test(String(job.JobID)))
    throw new Error(`${where}.JobID must be a GUID; got ${JSON.stringify(job.JobID)}`);
  const checkSteps = (steps: unknown, at: string): void => {
    if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${at} must be a non-empty list of [status, seconds]`);
    steps.forEach((step, i) => {
      if (
        !Array.isArray(step) ||
        step.length !== 2 ||
        !['string', 'number'].includes(typeof step[0]) ||
        typeof step[1] !== 'number' ||
        step[1] < 0
      ) {
        throw new Error(`${at}[${i}] must be [status, seconds ≥ 0]; got ${JSON.stringify(step)}`);
      }
    });
  };
  checkSteps(job.steps, `${where}.steps`);
  const stream = job.messageStream;
  if (
    stream !== undefined &&
    (typeof stream !== 'object' ||
      !Number.isInteger(stream.count) ||
      stream.count < 0 ||
      stream.count > 1_000_000 ||
      !(stream.everySeconds > 0) ||
      typeof stream.text !== 'string')
  ) {
    throw new Error(
      `${where}.messageStream must be {"count": 0–1000000, "everySeconds": > 0, "text": "..."}; got ${JSON.stringify(stream)}`,
    );
  }
  job.runs?.forEach((plan, i) => plan.steps !== undefined && checkSteps(plan.steps, `${where}.runs[${i}].steps`));
  return { JobName: `Simulated job`, ...job, JobID: job.JobID ?? randomUUID() } as SimJob;
}
