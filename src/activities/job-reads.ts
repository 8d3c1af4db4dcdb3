/**
 * The read-only activities: jobs by name, a page of a job search, a job's latest runs. Each is one
 * CCS call (a read), safe to retry, heartbeating while it waits: a CCS slower to answer than the
 * activity's heartbeat timeout (10 s) is waited for, not timed out on every attempt.
 */
import { Context } from '@temporalio/activity';
import {
  RUN_SNAPSHOT_SIZE,
  type FindJobsByNameInput,
  type FindJobsByNameResult,
  type ListJobRunsInput,
  type SearchJobIdsInput,
} from '../domain/activities';
import { MAX_CANDIDATES } from '../domain/job-names';
import type { JobRun } from '../domain/job-run';
import { runSummary } from './bounded-run';
import { heartbeating } from './heartbeat';
import type { ServerOf } from './servers';
import { toFailure } from './to-failure';

/** The read activities over the clients `serverOf` picks. */
export function createReadActivities(serverOf: ServerOf) {
  return {
    /** The jobs CCS knows by this exact name (Search Job by Name), bounded. Safe to retry. */
    async findJobsByName(input: FindJobsByNameInput): Promise<FindJobsByNameResult> {
      const client = serverOf(input);
      try {
        const jobs = await heartbeating(() => client.findJobsByName(input.name, Context.current().cancellationSignal));
        const candidates = jobs
          .slice(0, MAX_CANDIDATES)
          .map((job) => ({ jobId: job.jobId, name: job.name?.slice(0, 256) ?? null, type: job.type?.slice(0, 100) ?? null }));
        return { candidates, total: jobs.length };
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** One page of Search Jobs: the JobIDs matching `search`. Safe to retry. */
    async searchJobIds(input: SearchJobIdsInput): Promise<string[]> {
      const client = serverOf(input);
      try {
        const jobs = await heartbeating(() =>
          client.searchJobs(input.search, {
            page: input.page,
            pageSize: input.pageSize,
            signal: Context.current().cancellationSignal,
          }),
        );
        return jobs.map((job) => job.jobId);
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** The job's `count` most recent runs, in CCS's order (undocumented: order them with `newestFirst`). Safe to retry. */
    async listJobRuns(input: ListJobRunsInput): Promise<JobRun[]> {
      const { jobId, count = RUN_SNAPSHOT_SIZE } = input;
      const client = serverOf(input);
      try {
        return (await heartbeating(() => client.getJobRuns(jobId, { count, signal: Context.current().cancellationSignal }))).map(
          runSummary,
        );
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}
