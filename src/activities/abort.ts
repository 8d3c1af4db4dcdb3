/**
 * The abort activities: of a run a workflow follows (retried whatever the error, until the
 * workflow's abort-confirm timeout), and of a run no workflow owns (a reconcile's, confirmed here).
 */
import { Context } from '@temporalio/activity';
import type { AbortJobRunInput, AbortJobRunResult, AbortOrphanRunInput, AbortOrphanRunResult } from '../domain/activities';
import { CcsError, ErrorType } from '../domain/errors';
import { hasEnded } from '../domain/job-run';
import { boundedRun } from './bounded-run';
import { heartbeating, sleepHeartbeating } from './heartbeat';
import type { ServerOf } from './servers';
import { toFailure } from './to-failure';

/** How often an orphan's abort is checked until CCS reports the run ended. */
const ORPHAN_CONFIRM_POLL_MS = 2_000;

/** The abort activities over the clients `serverOf` picks. */
export function createAbortActivities(serverOf: ServerOf) {
  return {
    /**
     * Asks CCS to abort the run. When CCS refuses because the run already ended, reports that
     * instead (`accepted: false` with the final run). Every failure is retryable (the abort of a
     * followed run is retried until the workflow's scheduleToClose); typed as its CCS error.
     */
    async abortJobRun(input: AbortJobRunInput): Promise<AbortJobRunResult> {
      const { jobId, jobRunId } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      // Heartbeating: the abort and the look after it may together outlast the 10 s heartbeat timeout on a slow CCS.
      return heartbeating(async () => {
        try {
          await client.abortJobRun(jobRunId, signal);
          return { accepted: true };
        } catch (err) {
          if (err instanceof CcsError && err.type === ErrorType.BadRequest) {
            // Usually "not running": the run ended before the abort. If the look fails, retry the whole
            // abort rather than report CCS's 400 as final.
            const run = await client.getJobRun(jobId, jobRunId, { signal, showMessages: true }).catch((lookErr: unknown) => {
              throw toFailure(lookErr, { retryAnyway: true });
            });
            if (hasEnded(run)) return { accepted: false, run: boundedRun(run) };
          }
          throw toFailure(err, { retryAnyway: true });
        }
      });
    },

    /**
     * Aborts a run no workflow owns (a reconcile's `abort`) and reads it every two seconds until CCS
     * reports it ended, for at most `confirmWithinMs`. A 400 on a run that already ended counts as
     * confirmed. Returns the CCS requests it made. Failures are typed as their CCS errors.
     */
    async abortOrphanRun(input: AbortOrphanRunInput): Promise<AbortOrphanRunResult> {
      const { jobId, jobRunId } = input;
      const client = serverOf(input);
      const signal = Context.current().cancellationSignal;
      let requests = 1;
      try {
        await heartbeating(() =>
          client.abortJobRun(jobRunId, signal).catch((err: unknown) => {
            if (!(err instanceof CcsError && err.type === ErrorType.BadRequest)) throw err;
          }),
        );
        const giveUpAt = Date.now() + input.confirmWithinMs;
        for (;;) {
          requests++;
          const run = await heartbeating(() => client.getJobRun(jobId, jobRunId, { signal }));
          if (hasEnded(run)) return { confirmed: true, status: run.status, requests };
          if (Date.now() >= giveUpAt) return { confirmed: false, status: run.status, requests };
          await sleepHeartbeating(ORPHAN_CONFIRM_POLL_MS);
        }
      } catch (err) {
        throw toFailure(err);
      }
    },
  };
}
