/**
 * The duration alert of a followed run (`expectedDuration`): once the run is known its expected end
 * is fixed (the duration given, or "auto" from the job's history), and a run still going then is
 * flagged late (query, `CcsLate`, a metric, one WARN log), never aborted. Workflow code:
 * deterministic, no I/O.
 */
import { CancellationScope, log, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute, type RunCcsJobResume, type RunCcsJobStatus } from '../domain/contract';
import { expectedFromHistory, MIN_HISTORY_RUNS, type LateInfo } from '../domain/duration-alert';
import type { JobRun } from '../domain/job-run';
import type { ValidRunCcsJobInput } from '../domain/job-workflow';
import { formatDuration } from '../domain/validation';

type Expected = NonNullable<RunCcsJobResume['expected']>;

/** What the alert needs of the run it watches, read when its timer fires. */
export interface AlertTarget {
  /** True while the run is followed and has not ended. */
  going: () => boolean;
  /** Log fields naming the run (job, run, status). */
  context: () => Record<string, unknown>;
  /** Counts a late run (the `ccs_runs_late` metric). */
  countLate: () => void;
  /** Announces it (`run.late`). */
  announceLate: (late: LateInfo) => void;
}

export class DurationAlert {
  private expected: Expected | undefined;
  private late: LateInfo | undefined;

  /** `carried`: what a predecessor handed over (an expectation already fixed, a run already late). */
  constructor(
    private readonly want: ValidRunCcsJobInput['expected'],
    carried: Pick<RunCcsJobResume, 'expected' | 'late'> | null,
  ) {
    this.expected = carried?.expected;
    this.late = carried?.late;
  }

  /**
   * Arms the alert once the run is known: the expectation given, or "auto" from `history` (the job's
   * runs listed before executing, without the run itself); a continuation re-arms the one it inherited.
   * `startedAt`: when the run started (epoch ms). The timer runs outside the root scope, like the deadline.
   */
  arm(run: JobRun, history: readonly JobRun[], startedAt: number, target: AlertTarget): void {
    if (!this.want || this.late) return;
    if (!this.expected) {
      const found =
        'ms' in this.want
          ? { ms: this.want.ms, basis: 'given' }
          : expectedFromHistory(
              history.filter((r) => r.jobRunId !== run.jobRunId),
              this.want.auto,
            );
      if (!found) {
        log.info('no duration alert: too few completed runs in the job history for "auto"', {
          jobId: run.jobId,
          jobRunId: run.jobRunId,
          needed: MIN_HISTORY_RUNS,
        });
        return;
      }
      this.expected = { ...found, endAt: startedAt + found.ms };
    }
    const { endAt } = this.expected;
    void CancellationScope.nonCancellable(() => sleep(Math.max(1, endAt - Date.now()))).then(() => this.markLate(target));
  }

  /** Set once the run outlasted its expectation. */
  get lateInfo(): LateInfo | undefined {
    return this.late;
  }

  /** The `status` query's part. */
  view(): Pick<RunCcsJobStatus, 'expected' | 'late'> {
    return {
      ...(this.expected
        ? { expected: { ms: this.expected.ms, basis: this.expected.basis, endBy: new Date(this.expected.endAt).toISOString() } }
        : {}),
      ...(this.late ? { late: this.late } : {}),
    };
  }

  /** What a continuation inherits. */
  handover(): Pick<RunCcsJobResume, 'expected' | 'late'> {
    return { ...(this.expected ? { expected: this.expected } : {}), ...(this.late ? { late: this.late } : {}) };
  }

  private markLate(target: AlertTarget): void {
    if (this.late || !this.expected || !target.going()) return;
    const { ms, basis } = this.expected;
    this.late = { since: new Date().toISOString(), expectedMs: ms, basis };
    upsertSearchAttributes([{ key: SearchAttribute.late, value: formatDuration(ms) }]);
    target.countLate();
    target.announceLate(this.late);
    log.warn('CCS run is late: it has run longer than expected and is still followed', {
      ...target.context(),
      expected: formatDuration(ms),
      basis,
    });
  }
}
