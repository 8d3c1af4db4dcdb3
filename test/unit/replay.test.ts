/**
 * Replays every committed history (test/fixtures/histories) against the current workflow code: a
 * change that would break running executions fails here. One fixture per shape a workflow can take,
 * named `<version that recorded it>-<scenario>.json`; every one is required by name below, and a
 * fixture nobody names fails the test (docs/versioning.md). Record them with
 * `npm run test:record-histories` (RECORD_HISTORIES=overwrite replaces existing ones).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { quietRuntime } from '../helpers';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** Each scenario, by the version that recorded it, and the test that records it. */
const REQUIRED_FIXTURES: Readonly<Record<string, string>> = {
  // runCcsJob
  '0.1.0-completed': 'run-ccs-job: a run followed to Completed',
  '0.1.0-faulted': 'run-ccs-job: a run that Faulted',
  '0.1.0-custom-idle-unknown': 'run-ccs-job: Custom and an undocumented status, then ended Idle',
  '0.1.0-ended-idle-with-end-time': 'dialects: a run ended Idle with its end time set',
  '0.1.0-aborted-externally': 'run-ccs-job: a run aborted in the CCS console',
  '0.1.0-already-running': 'run-ccs-job: refused, a run in progress (ifRunning fail)',
  '0.1.0-attach': 'run-ccs-job: a run in progress adopted (ifRunning attach)',
  '0.1.0-timed-out': 'run-ccs-job: the deadline passed, the run aborted',
  '0.1.0-invalid-input': 'run-ccs-job-input: an input refused, its evidence recorded',
  '0.1.0-cancel-signal': 'run-ccs-job-cancel: the cancel signal',
  '0.1.0-cancel-native': 'run-ccs-job-cancel: a native cancellation',
  '0.1.0-cancel-during-execute': 'run-ccs-job-cancel: a cancel while the execute is in flight',
  '0.1.0-cancel-after-end': 'run-ccs-job-cancel: a cancel after the run ended',
  '0.1.0-abort-unconfirmed': 'run-ccs-job-cancel: CCS never confirms the abort',
  '0.1.0-adopted-after-500': 'run-ccs-job-faults: an ambiguous execute (500) whose run is adopted',
  '0.1.0-execute-answered-without-runid': 'dialects: an execute answered without the run id',
  '0.1.0-cancel-while-execute-rate-limited': 'run-ccs-job-hostile: a cancel between execute attempts (the settle look)',
  '0.1.0-cancel-while-execute-in-flight': 'run-ccs-job-hostile: a cancel while an execute attempt is in flight',
  '0.1.0-attention-forbidden-then-completed': 'run-ccs-job-hostile: attention raised, then cleared',
  '0.1.0-attention-then-cancelled': 'run-ccs-job-hostile: attention raised, then cancelled',
  '0.1.0-fifty-polls': 'history-length: 3 changes and 50 polls',
  '0.1.0-continued-as-new': 'history-length: the continuation of a run that continued as new',
  '0.1.0-continue-as-new-first-execution': 'history-length: the execution that continued as new',
  '0.1.0-paused-then-resumed': 'pause-resume: a run paused, then resumed',
  '0.1.0-maintenance-paused-then-resumed': 'maintenance: a run held by its server’s maintenance window',
  '0.1.0-live-messages': 'live-messages: messages read while the run goes',
  '0.1.0-duration-late': 'duration-alert: a run flagged late',
  '0.1.0-evidence-completed': 'evidence: the closing evidence record',
  '0.1.0-held-watch-short-interval': 'held-watch: short intervals polled inside one held attempt',
  '0.1.0-held-watch-hand-over': 'held-watch: a held wait handed over to another worker',
  '0.1.0-worker-killed-mid-execute': 'worker-process: the worker killed during the execute',
  // runCcsPipeline
  '0.1.0-pipeline-completed': 'pipeline: stages in order, a failed job in a continueOnFailure stage',
  '0.1.0-pipeline-fail-fast': 'pipeline: a failed job stops the pipeline',
  '0.1.0-pipeline-cancelled': 'pipeline: cancelled, its running jobs aborted',
  '0.1.0-pipeline-job-names': 'jobs-by-name: jobs given by name, resolved first',
  '0.1.0-pipeline-stale-data': 'stale-data: the stale-data gate closed',
  '0.1.0-pipeline-paused': 'pause-resume: a pipeline paused, then resumed',
  '0.1.0-pipeline-redrive': 'pipeline-redrive: a redrive that carried the completed jobs and re-ran the faulted one and the stage after',
  '0.1.0-pipeline-redrive-stale': 'pipeline-redrive: a redrive whose carried collection went stale (the gate checked again: CcsStaleData)',
  '0.1.0-pipeline-redrive-refused': 'pipeline-redrive: a redrive refused before anything started (the definition no longer validates)',
  '0.1.0-pipeline-auto-redrive': 'pipeline-redrive: a failed attempt that started its automatic redrive, delayed',
  // reconcileCcsRuns, ccsMaintenanceWindow
  '0.1.0-reconcile-report': 'reconcile: a report of runs nobody follows',
  '0.1.0-maintenance-window': 'maintenance: a maintenance window opened and closed',
  // deliverCcsNotification
  '0.1.0-notify-delivered': 'deliver-notification (workflow tier): a channel down for 3 h, then delivered',
  '0.1.0-notify-given-up': 'deliver-notification (workflow tier): a channel down past giveUpAfter, given up and recorded',
  // ccsScanWatch
  '0.1.0-scan-watch-missed-recovered': 'scan-watch: a window missed (scan.missed), then a Completed run (scan.recovered)',
};

describe('replay of committed histories', () => {
  it('has every fixture the contract promises, and none that nobody names', () => {
    const names = files.map((f) => f.replace(/\.json$/, ''));
    expect(Object.keys(REQUIRED_FIXTURES).filter((name) => !names.includes(name))).toEqual([]);
    expect(names.filter((name) => !(name in REQUIRED_FIXTURES))).toEqual([]);
  });

  it('replays each without nondeterminism', async () => {
    quietRuntime();
    const histories = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { workflowId: string; history: unknown });
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error).slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
    expect(histories.length).toBe(Object.keys(REQUIRED_FIXTURES).length);
  }, 120_000);
});
