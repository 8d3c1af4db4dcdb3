/** A JobRun as the client returns it, with every optional field empty: the base the scripted tests vary. */
import type { JobRun } from '../src/domain/job-run';

export function fakeRun(jobId: string, jobRunId: string, status: string, extra: Partial<JobRun> = {}): JobRun {
  return {
    jobId,
    jobRunId,
    status,
    statusCode: null,
    startTime: null,
    endTime: null,
    customStatusText: null,
    exception: null,
    summary: null,
    activities: [],
    ...extra,
  };
}
