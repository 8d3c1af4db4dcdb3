/**
 * `runCcsJob`: starts one CCS job run (or adopts one), follows it to Completed, Faulted or Aborted,
 * and aborts it when cancelled or past its deadline. Deterministic orchestration only: every CCS
 * call is an activity, imported as a type.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ContinueAsNew,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CcsActivities, LiveMessages, WaitForJobRunChangeInput, WaitForJobRunChangeResult } from '../activities';
import { SearchAttribute, pauseSignal, resumeSignal, statusQuery, type LiveMessage, type RunCcsJobInput, type RunCcsJobPhase, type RunCcsJobResult, type RunCcsJobStatus } from '../domain/contract';
import { ErrorType, type Attention } from '../domain/errors';
import { invalidInputFailure, jobAlreadyRunning } from '../domain/failures';
import { validateRunCcsJobInput, type ValidRunCcsJobInput } from '../domain/job-workflow';
import { jobEvidence } from '../domain/evidence';
import { pauseFrom, type PauseState } from '../domain/pause';
import { expectedFromHistory, MIN_HISTORY_RUNS, type LateInfo } from '../domain/duration-alert';
import { formatDuration, invalidInput } from '../domain/validation';
import { hasEnded, hasUndocumentedStatus, isTerminalStatus, newestFirst, type JobRun } from '../domain/job-run';
import {
  CCS_CALL,
  CONFIRM_MAX_POLL_MS,
  evidenceCall,
  maintenanceLookup,
  startedBy,
  CONFIRM_POLL_MS,
  RETRY,
  RUN_SNAPSHOT_SIZE,
  ccsCall,
  heldWatchActivities,
  pollActivities,
  runCounters,
  settleCall,
  watchActivities,
  watchedExecute,
  type WaitOutcome,
} from './activity-options';
import { CancelListener } from './cancellation';
import { cancelledBeforeExecute, outcomeOf, resultOf } from './job-outcome';

/**
 * Workflows from this change on (ids of `patched()`): a followed run is never dropped on an error that
 * needs a person (it is flagged for attention and retried), and a cancel or deadline is honoured
 * while the job is being started. Histories recorded before it replay on the old path.
 */
const WATCH_PATCH = 'ccs-watch-attention-v1';

/**
 * Workflows from this change on let a wait hold: short poll intervals are polled inside one
 * heartbeating activity attempt instead of one attempt per poll (issue "polling that scales").
 */
const HELD_WATCH_PATCH = 'ccs-held-watch-v1';

/**
 * Workflows from this change on, after an execute cancelled before its outcome was known, look for its
 * run twice, one CCS request timeout apart: CCS may process a request its client gave up on.
 */
const EXECUTE_SETTLE_PATCH = 'ccs-execute-settle-v1';

/** Workflows from this change on refuse inputs beyond the upper bounds, and a `resume` they did not hand themselves. */
const INPUT_BOUNDS_PATCH = 'ccs-input-bounds-v1';

/**
 * Workflows from this change on wait for a wait's cancellation to complete before they count as
 * paused: a held wait polls until its worker hears of the cancel (at its next heartbeat), and a pause
 * promises that nothing more is sent to CCS.
 */
const PAUSE_PATCH = 'ccs-pause-v1';

/**
 * Workflows from this change on say which CCS server they are on (`CcsServer`) and hold while that
 * server's maintenance window is open: they look for one before their first CCS request, and a
 * maintenance pause looks again every minute so it ends even if the window's own resume missed it.
 */
const MAINTENANCE_PATCH = 'ccs-maintenance-v1';
const MAINTENANCE_RECHECK_MS = 60_000;

/** Workflows from this change on read their run's messages while it goes (liveMessagesEvery). */
const LIVE_MESSAGES_PATCH = 'ccs-live-messages-v1';
/** Messages kept in the workflow's state (the newest): bounded whatever the run emits. */
const LIVE_KEPT = 50;

/** Workflows from this change on write an evidence record when they close (any outcome). */
const EVIDENCE_PATCH = 'ccs-evidence-v1';

/** Workflows given an expectedDuration from this change on flag their run late (a timer; nothing else changes). */
const DURATION_ALERT_PATCH = 'ccs-duration-alert-v1';

/** What a wait's race reports when a pause was requested. */
const PAUSED: unique symbol = Symbol('paused');

export async function runCcsJob(raw: RunCcsJobInput): Promise<RunCcsJobResult> {
  let input: ValidRunCcsJobInput;
  const bounded = patched(INPUT_BOUNDS_PATCH);
  try {
    input = validateRunCcsJobInput(raw, { bounded });
    // `resume` is the state a run hands to its own continuation: from anyone else it would make this
    // workflow follow (and on cancel, abort) a CCS run it never started.
    if (bounded && input.resume && !workflowInfo().continuedFromExecutionRunId) {
      throw invalidInput('resume is internal to continue-as-new and must not be set by callers; remove it');
    }
  } catch (err) {
    const failure = invalidInputFailure(err);
    await recordRefusedInput(raw, failure);
    throw failure;
  }
  return new JobRunFollower(input, raw).run();
}

/** A run refused for its input closes too, so it has its record (EVIDENCE_PATCH): nothing was sent to CCS. */
async function recordRefusedInput(raw: RunCcsJobInput, failure: ApplicationFailure): Promise<void> {
  if (!patched(EVIDENCE_PATCH)) return;
  const info = workflowInfo();
  const given = typeof raw === 'object' && raw !== null ? raw : ({} as Partial<RunCcsJobInput>);
  await CancellationScope.nonCancellable(() =>
    evidenceCall.recordEvidence(
      jobEvidence({
        workflowId: info.workflowId,
        runId: info.runId,
        startedBy: startedBy(given.requestedBy),
        ccs: typeof given.ccs === 'string' ? given.ccs.slice(0, 64) : 'default',
        jobId: typeof given.jobId === 'string' ? given.jobId.slice(0, 64) : '',
        result: undefined,
        error: { type: failure.type ?? ErrorType.InvalidInput, message: failure.message },
        cancel: undefined,
        deadlineAt: null,
      }),
    ),
  );
}

/**
 * One `runCcsJob` execution: what it knows of its CCS run, and the steps that move it from
 * starting, through running (and cancelling), to finished. Handlers read this state; only the
 * steps change it.
 */
class JobRunFollower {
  private phase: RunCcsJobPhase;
  /** The run as last seen in CCS; undefined until it is executed or adopted. */
  private current: JobRun | undefined;
  private lastChangeAt: string | undefined;
  private polls: number;
  /** Reads made before this execution (carried by a continuation). */
  private readonly pollsAtStart: number;
  private adopted: boolean;
  private readonly cancel: CancelListener;
  private readonly counters = runCounters();
  private readonly server: string;
  /** The new behaviour (WATCH_PATCH); false only when replaying a history recorded before it. */
  private readonly watching: boolean;
  /** Waits may hold (HELD_WATCH_PATCH); false when replaying a history recorded before it. */
  private readonly holding: boolean;
  private attention: Attention | undefined;
  /** Since when (ISO-8601) the run has shown a status outside 0–7; undefined while its status is known. */
  private unknownStatusSince: string | undefined;
  /** The job's latest runs as listed before executing: the history an "auto" expectation reads. */
  private history: JobRun[] = [];
  /** When the run is expected to have ended, once known. */
  private expected: { endAt: number; ms: number; basis: string } | undefined;
  private late: LateInfo | undefined;
  /** The pause in effect, if any. */
  private pause: PauseState | undefined;
  /** Settles when a pause is requested; replaced after each resume. */
  private pauseRequested!: Promise<void>;
  private announcePause: () => void = () => undefined;
  /** Waits stop completely before the run counts as paused (PAUSE_PATCH). */
  private readonly pausable: boolean;
  /** Messages CCS listed so far, and the newest of them (LIVE_MESSAGES_PATCH). */
  private messageTotal = 0;
  private recentMessages: LiveMessage[] = [];
  private readonly liveMessages: boolean;
  /** Knows maintenance windows (MAINTENANCE_PATCH). */
  private maintenanceAware = false;
  /** Epoch ms of the deadline; moved later by a pause that holds it. */
  private deadlineAt: number | null;

  constructor(
    private readonly input: ValidRunCcsJobInput,
    private readonly raw: RunCcsJobInput,
  ) {
    const { resume } = input;
    this.watching = patched(WATCH_PATCH);
    this.holding = this.watching && patched(HELD_WATCH_PATCH);
    this.server = input.ccs;
    this.phase = resume ? 'running' : 'starting';
    this.polls = resume?.polls ?? 0;
    this.pollsAtStart = this.polls;
    this.adopted = resume?.adopted ?? false;
    this.lastChangeAt = resume?.lastChangeAt;
    // A continuation handed over before this field existed: the status has been what it is since its last change.
    this.unknownStatusSince = resume?.unknownStatusSince ?? (resume?.statusCode === null ? resume.lastChangeAt : undefined);
    if (resume) {
      this.current = {
        jobId: input.jobId,
        jobRunId: resume.jobRunId,
        status: resume.status,
        statusCode: resume.statusCode,
        customStatusText: resume.customStatusText,
        startTime: null,
        endTime: null,
        exception: null,
        summary: null,
        activities: [],
      };
    }
    this.pausable = this.holding && patched(PAUSE_PATCH);
    this.pause = resume?.paused;
    this.liveMessages = this.holding && input.liveMessagesEvery > 0 && patched(LIVE_MESSAGES_PATCH);
    if (resume?.messages) {
      this.messageTotal = resume.messages.total;
      this.recentMessages = resume.messages.recent.slice(-LIVE_KEPT);
    }
    this.armPauseTrigger();
    if (this.pause) this.announcePause();
    if (resume?.expected) this.expected = resume.expected;
    if (resume?.late) this.late = resume.late;
    this.cancel = new CancelListener({
      accepting: () => this.phase !== 'finished',
      onCancel: ({ by, reason }) => log.info('cancel requested', { jobId: input.jobId, jobRunId: this.current?.jobRunId, by, reason }),
    });
    setHandler(statusQuery, (arg) => this.status(arg?.messagesSince));
    setHandler(pauseSignal, (arg) => this.requestPause(arg));
    setHandler(resumeSignal, (arg) => this.endPause(typeof arg?.reason === 'string' ? arg.reason.slice(0, 500) : 'resume signal'));
    this.cancel.listen();
    this.deadlineAt = resume ? resume.deadlineAt : input.timeoutMs === null ? null : Date.now() + input.timeoutMs;
    if (this.deadlineAt !== null) {
      // Outside the root scope, so a native cancellation does not cancel the deadline timer itself.
      void CancellationScope.nonCancellable(() => this.untilDeadline()).then(() =>
        this.cancel.request('timeout', `deadline of ${raw.timeout ?? 'the previous run'} passed`),
      );
    }
  }

  /**
   * Settles when the deadline passes. A pause that holds the deadline stops the clock: the deadline
   * is moved by the paused time when it ends, and the timer is armed again for the rest.
   */
  private async untilDeadline(): Promise<void> {
    for (;;) {
      const target = this.deadlineAt!;
      await sleep(Math.max(1, target - Date.now()));
      if (this.pause?.holdDeadline) {
        await condition(() => !this.pause?.holdDeadline);
        continue;
      }
      if (this.deadlineAt === target) return;
    }
  }

  private armPauseTrigger(): void {
    this.pauseRequested = new Promise<void>((resolve) => (this.announcePause = resolve));
  }

  /** The `pause` signal: holds the run from the next step on; a bad input is logged and ignored (a signal cannot be refused). */
  private requestPause(arg: unknown): void {
    if (this.phase === 'finished' || this.cancel.info) return;
    let next: PauseState;
    try {
      next = pauseFrom(arg, Date.now());
    } catch (err) {
      log.warn('pause signal ignored', { jobId: this.input.jobId, error: (err as Error).message });
      return;
    }
    const was = this.pause;
    this.pause = was ? { ...next, since: was.since } : next;
    if (was?.by !== next.by) upsertSearchAttributes([{ key: SearchAttribute.paused, value: next.by }]);
    log.info(was ? 'pause updated' : 'pause requested: no CCS request until resumed', { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, by: next.by, reason: next.reason, until: next.until });
    this.announcePause();
  }

  /** Ends the pause (a `resume` signal, or its `until` passed); a held deadline moves by the paused time. */
  private endPause(why: string): void {
    const was = this.pause;
    if (!was) return;
    if (was.holdDeadline && this.deadlineAt !== null) this.deadlineAt += Math.max(0, Date.now() - Date.parse(was.since));
    this.pause = undefined;
    this.armPauseTrigger();
    upsertSearchAttributes([{ key: SearchAttribute.paused, value: null }]);
    log.info('resumed', { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, why, pausedMs: Date.now() - Date.parse(was.since) });
  }

  /**
   * Holds while paused: returns once resumed (or `until` passed), or at once on a cancel. A pause by
   * maintenance also ends when its window is found closed (looked up every minute, Temporal only).
   */
  private async holdWhilePaused(): Promise<void> {
    while (this.pause && !this.cancel.info) {
      const pause = this.pause;
      const previous = this.phase;
      this.phase = 'paused';
      const untilAt = pause.until === null ? Infinity : Date.parse(pause.until);
      const recheck = pause.by === 'maintenance' && this.maintenanceAware;
      const waitMs = Math.min(untilAt - Date.now(), recheck ? MAINTENANCE_RECHECK_MS : Infinity);
      const woken = (): boolean => this.pause !== pause || this.cancel.info !== undefined;
      const changed = waitMs === Infinity ? await condition(woken).then(() => true) : await condition(woken, Math.max(1, waitMs));
      this.phase = previous;
      if (changed) continue;
      if (Date.now() >= untilAt) this.endPause(`until ${pause.until} passed`);
      else if (recheck && (await maintenanceLookup.maintenanceWindowOf({ ccs: this.server })) === null && this.pause === pause) this.endPause('maintenance window ended');
    }
  }

  /** MAINTENANCE_PATCH: names the run's server, and holds first when the server's maintenance window is open. */
  private async joinMaintenance(): Promise<void> {
    if (!patched(MAINTENANCE_PATCH)) return;
    this.maintenanceAware = true;
    upsertSearchAttributes([{ key: SearchAttribute.server, value: this.server }]);
    if (this.pause) return;
    const window = await maintenanceLookup.maintenanceWindowOf({ ccs: this.server });
    if (window) this.requestPause({ by: 'maintenance', ...(window.reason === null ? {} : { reason: window.reason }), ...(window.until === null ? {} : { until: window.until }) });
  }

  /**
   * Whether a run has ended: a terminal status, or (from WATCH_PATCH on) an end time that is set,
   * whatever the status (the reference, §9).
   */
  private ended(run: JobRun | undefined): boolean {
    return this.watching ? hasEnded(run) : isTerminalStatus(run?.status);
  }

  /** What the `status` query answers; with `messagesSince`, only the messages after that number. */
  private status(messagesSince?: number): RunCcsJobStatus {
    const since = typeof messagesSince === 'number' ? messagesSince : 0;
    const run = this.current;
    return {
      phase: this.phase,
      jobId: this.input.jobId,
      ...(run ? { jobRunId: run.jobRunId, status: run.status, statusCode: run.statusCode, customStatusText: run.customStatusText } : {}),
      ...(this.lastChangeAt ? { lastChangeAt: this.lastChangeAt } : {}),
      polls: this.polls,
      ...(this.cancel.info ? { cancelReason: this.cancel.info.reason } : {}),
      ...(this.attention ? { attention: this.attention } : {}),
      ...(this.expected ? { expected: { ms: this.expected.ms, basis: this.expected.basis, endBy: new Date(this.expected.endAt).toISOString() } } : {}),
      ...(this.late ? { late: this.late } : {}),
      ...(this.pause ? { paused: this.pause } : {}),
      ...(this.messageTotal > 0 ? { messageCount: this.messageTotal, messages: this.recentMessages.filter((m) => m.seq > since) } : {}),
    };
  }

  /** The whole execution; no step is cancelled by a native cancellation: it is turned into an abort. */
  /** The whole execution, then its evidence record (from EVIDENCE_PATCH on), whatever the outcome. */
  run(): Promise<RunCcsJobResult> {
    return CancellationScope.nonCancellable(async () => {
      let result: RunCcsJobResult;
      try {
        result = await this.follow();
      } catch (err) {
        // Continuing as new is not closing: the continuation writes the record when it closes.
        if (!(err instanceof ContinueAsNew)) await this.recordEvidence(err);
        throw err;
      }
      await this.recordEvidence(undefined, result);
      return result;
    });
  }

  /**
   * Writes this run's evidence record (EVIDENCE_PATCH), retried until it succeeds; the outcome is
   * decided already and does not change. A failure's details carry the run's result when there was one.
   */
  private async recordEvidence(err: unknown, result?: RunCcsJobResult): Promise<void> {
    if (!patched(EVIDENCE_PATCH)) return;
    const failure = err instanceof ApplicationFailure ? err : undefined;
    const details = failure?.details?.[0] as Partial<RunCcsJobResult> | undefined;
    const info = workflowInfo();
    await evidenceCall.recordEvidence(
      jobEvidence({
        workflowId: info.workflowId,
        runId: info.runId,
        startedBy: startedBy(this.raw.requestedBy),
        ccs: this.server,
        jobId: this.input.jobId,
        result: result ?? (details?.jobRunId ? (details as RunCcsJobResult) : undefined),
        error: err === undefined ? null : { type: failure?.type ?? (err instanceof CancelledFailure ? 'Cancelled' : err instanceof Error ? err.name : 'Error'), message: err instanceof Error ? err.message : 'unknown failure' },
        cancel: this.cancel.info,
        deadlineAt: this.deadlineAt,
      }),
    );
  }

  private async follow(): Promise<RunCcsJobResult> {
    if (this.input.resume) {
      this.announceResumed();
      if (this.pausable) await this.joinMaintenance();
    } else await this.executeOrAdopt();
    this.phase = 'running';
    this.armDurationAlert();
    const stopWaiting = await this.followUntilEndOrCancel();
    let final = this.current as JobRun;
    if (this.cancel.info && !this.ended(final)) {
      this.phase = 'cancelling';
      final = await this.abortAndConfirm(final, stopWaiting);
    } else if (final.messages === undefined) {
      // Ended before the first poll (e.g. an adopted or instantly faulted run): one read for its messages.
      final = this.watching ? await this.readFinalWatched(final) : ((this.record(await this.readFinal(final)) as WaitForJobRunChangeResult).run);
    }
    this.phase = 'finished';
    this.counters.ended.add(1, { ccs: this.server, status: final.status });
    const result = resultOf(final, this.polls, this.adopted, this.cancel.info);
    if (this.late) result.late = this.late;
    return outcomeOf(result, this.cancel.info, this.cancel.native);
  }

  /** A continuation: the run is known; make the search attributes say so again. */
  private announceResumed(): void {
    const resume = this.input.resume!;
    upsertSearchAttributes([
      { key: SearchAttribute.jobId, value: this.input.jobId },
      { key: SearchAttribute.jobRunId, value: resume.jobRunId },
      { key: SearchAttribute.jobStatus, value: resume.status },
    ]);
  }

  /**
   * Records the job's latest runs, then adopts a run in progress (when allowed) or executes the job.
   * The snapshot is in history before executing, so a retried execute can recognise the run it started.
   */
  private async executeOrAdopt(): Promise<void> {
    const { jobId } = this.input;
    upsertSearchAttributes([{ key: SearchAttribute.jobId, value: jobId }]);
    if (this.watching) return this.executeOrAdoptWatched();
    const known = await ccsCall.listJobRuns({ jobId, count: RUN_SNAPSHOT_SIZE, ccs: this.server });
    this.history = known;
    if (this.adoptInProgress(known)) return;
    if (this.cancel.info) return this.endBeforeExecute();
    this.recordStart(await ccsCall.executeJob({ jobId, knownRunIds: known.map((r) => r.jobRunId), ccs: this.server }));
  }

  /** Follows the job's latest run in progress (by start time) when the input allows it (true); fails when it does not. */
  private adoptInProgress(known: JobRun[]): boolean {
    const inProgress = newestFirst(known).find((r) => !this.ended(r));
    if (!inProgress) return false;
    if (this.input.ifRunning === 'fail') throw jobAlreadyRunning(this.input.jobId, inProgress);
    this.adopted = true;
    this.counters.adopted.add(1, { ccs: this.server });
    this.observe(inProgress, new Date().toISOString());
    return true;
  }

  /** The run an execute started (or adopted after an ambiguous answer) becomes the one followed. */
  private recordStart(started: { run: JobRun; adopted: boolean }): void {
    this.adopted = started.adopted;
    (this.adopted ? this.counters.adopted : this.counters.started).add(1, { ccs: this.server });
    this.observe(started.run, new Date().toISOString());
  }

  /**
   * `executeOrAdopt` honouring a cancel or the deadline at every step: a listing is simply dropped; an
   * execute in flight is waited for (its run, if any, is then aborted), or, when it was between
   * attempts, cancelled, and the job listed again so that a run an earlier attempt started is found.
   */
  private async executeOrAdoptWatched(): Promise<void> {
    const { jobId } = this.input;
    if (this.pausable) await this.joinMaintenance();
    await this.holdWhilePaused();
    if (this.cancel.info) return this.endBeforeExecute();
    const listing = this.untilCancelled(() => ccsCall.listJobRuns({ jobId, count: RUN_SNAPSHOT_SIZE, ccs: this.server }));
    const known = await listing.result;
    if (known === null) return this.endBeforeExecute();
    this.history = known;
    if (this.adoptInProgress(known)) return;
    await this.holdWhilePaused();
    if (this.cancel.info) return this.endBeforeExecute();
    const knownRunIds = known.map((r) => r.jobRunId);
    const execute = this.untilCancelled(() => watchedExecute.executeJob({ jobId, knownRunIds, ccs: this.server }));
    let started = await execute.result;
    if (started === null) {
      started = await execute.settled.catch(() => null);
      if (started === null) {
        // Cancelled between attempts (or the attempt failed): look for a run an earlier attempt started.
        let ours: JobRun | null | undefined;
        if (patched(EXECUTE_SETTLE_PATCH)) {
          ours = await settleCall.findRunOfCancelledExecute({ jobId, knownRunIds, ccs: this.server });
        } else {
          const after = await ccsCall.listJobRuns({ jobId, count: knownRunIds.length + 5, ccs: this.server });
          ours = after.find((r) => !knownRunIds.includes(r.jobRunId));
        }
        if (!ours) return this.endBeforeExecute();
        started = { run: ours, adopted: true };
      }
    }
    this.recordStart(started);
  }

  /**
   * Runs an activity call in its own scope, raced with a cancel request. `result` is the call's
   * value, or null once a cancel came first (the scope is then cancelled); `settled` is the call
   * itself, for a caller that must learn how it ended after all.
   */
  private untilCancelled<T>(call: () => Promise<T>): { result: Promise<T | null>; settled: Promise<T> } {
    const scope = new CancellationScope();
    const settled = scope.run(call);
    settled.catch(() => undefined);
    const result = Promise.race([settled, this.cancel.requested.then(() => null)]).then((value) => {
      if (value === null) scope.cancel();
      return value;
    });
    return { result, settled };
  }

  /** Cancelled (or past the deadline) before CCS had a run: nothing to abort. */
  private endBeforeExecute(): never {
    this.phase = 'finished';
    if (this.cancel.native) throw this.cancel.native;
    throw cancelledBeforeExecute(this.input.jobId, this.cancel.info!);
  }

  /**
   * Polls until the run ends or a cancel is requested; hands over to a continuation when history grows.
   * On a cancel, returns how to stop the wait still in flight: the abort is scheduled first, then the
   * wait cancelled, in that order in history.
   */
  private async followUntilEndOrCancel(): Promise<(() => void) | undefined> {
    const { input } = this;
    const poll = this.holding
      ? heldWatchActivities(input.pollIntervalMs, input.maxPollIntervalMs, input.heartbeatTimeoutMs, this.pausable)
      : this.watching
        ? watchActivities(input.pollIntervalMs, input.maxPollIntervalMs)
        : pollActivities(input.pollIntervalMs, input.maxPollIntervalMs);
    while (!this.ended(this.current) && !this.cancel.info) {
      if (this.pause) {
        await this.holdWhilePaused();
        continue;
      }
      const current = this.current as JobRun;
      // From ccs-pause-v1 on, an execution reads the run at least once before it continues as new: a
      // continuation that starts over the server's suggestion (its own markers and upserts) would
      // otherwise hand over again at once, forever, without ever reading the run.
      if (workflowInfo().continueAsNewSuggested && (!this.pausable || this.polls > this.pollsAtStart)) await this.continueAsNew(current);
      const scope = new CancellationScope();
      const change = scope.run(() =>
        poll.waitForJobRunChange({
          jobId: input.jobId,
          jobRunId: current.jobRunId,
          lastStatus: current.status,
          lastCustomStatusText: current.customStatusText,
          pollIntervalMs: input.pollIntervalMs,
          maxPollIntervalMs: input.maxPollIntervalMs,
          delayFirstPoll: true,
          ...(this.holding ? { hold: true } : {}),
          ccs: this.server,
          ...this.watchInput(),
          ...(this.liveMessages ? { live: { known: this.messageTotal, every: input.liveMessagesEvery, pollsBefore: this.polls } } : {}),
        }),
      );
      const outcome = await Promise.race([change, this.cancel.requested.then(() => null), this.pauseRequested.then((): typeof PAUSED => PAUSED)]);
      if (outcome === null) {
        change.catch(() => undefined);
        return () => scope.cancel();
      }
      if (outcome === PAUSED) {
        // Stop the wait, and (PAUSE_PATCH) wait until it has stopped: from then on nothing reaches CCS.
        scope.cancel();
        const last = await change.catch(() => undefined);
        if (last) this.record(last);
        continue;
      }
      this.record(outcome);
    }
    return undefined;
  }

  private continueAsNew(current: JobRun): Promise<never> {
    const { input } = this;
    return continueAsNew<typeof runCcsJob>({
      jobId: input.jobId,
      ...(this.raw.ccs === undefined ? {} : { ccs: this.server }),
      pollInterval: input.pollIntervalMs,
      maxPollInterval: input.maxPollIntervalMs,
      ifRunning: input.ifRunning,
      abortConfirmTimeout: input.abortConfirmTimeoutMs,
      ...(this.raw.heartbeatTimeout === undefined ? {} : { heartbeatTimeout: input.heartbeatTimeoutMs }),
      resume: {
        jobRunId: current.jobRunId,
        adopted: this.adopted,
        polls: this.polls,
        deadlineAt: this.deadlineAt,
        status: current.status,
        statusCode: current.statusCode,
        customStatusText: current.customStatusText,
        lastChangeAt: this.lastChangeAt ?? new Date().toISOString(),
        ...(this.unknownStatusSince ? { unknownStatusSince: this.unknownStatusSince } : {}),
        ...(this.expected ? { expected: this.expected } : {}),
        ...(this.late ? { late: this.late } : {}),
        ...(this.pause ? { paused: this.pause } : {}),
        ...(this.messageTotal > 0 ? { messages: { total: this.messageTotal, recent: this.recentMessages } } : {}),
      },
      ...(this.raw.liveMessagesEvery === undefined ? {} : { liveMessagesEvery: this.raw.liveMessagesEvery }),
      ...(this.raw.unknownStatusAttentionAfter === undefined ? {} : { unknownStatusAttentionAfter: this.raw.unknownStatusAttentionAfter }),
      ...(this.raw.requestedBy === undefined ? {} : { requestedBy: this.raw.requestedBy }),
      ...(this.raw.expectedDuration === undefined ? {} : { expectedDuration: this.raw.expectedDuration }),
      ...(this.raw.expectedDurationFactor === undefined ? {} : { expectedDurationFactor: this.raw.expectedDurationFactor }),
    });
  }

  /** What a watched read tells the activity: the attention the workflow flags now, and since when the status has been unknown. */
  private watchInput(): { watch?: WaitForJobRunChangeInput['watch'] } {
    if (!this.watching) return {};
    const since = this.unknownStatusSince;
    const unknownStatus = since === undefined ? {} : { unknownStatus: { since, afterMs: this.input.unknownStatusAttentionAfterMs } };
    return { watch: { attention: this.attention?.type ?? null, ...unknownStatus } };
  }

  /** One read of an ended run, with its messages, repeated while it needs attention. */
  private async readFinalWatched(run: JobRun): Promise<JobRun> {
    for (;;) {
      const outcome = this.record(await this.readFinal(run));
      if (outcome.run) return outcome.run;
    }
  }

  /** One read of an ended run, with its messages (watched from WATCH_PATCH on). */
  private readFinal(run: JobRun): Promise<WaitOutcome> {
    const { input } = this;
    const activities = this.watching ? watchActivities : pollActivities;
    return activities(input.pollIntervalMs, input.maxPollIntervalMs).waitForJobRunChange({
      jobId: input.jobId,
      jobRunId: run.jobRunId,
      lastStatus: '',
      lastCustomStatusText: null,
      pollIntervalMs: input.pollIntervalMs,
      maxPollIntervalMs: input.maxPollIntervalMs,
      ccs: this.server,
      ...this.watchInput(),
    });
  }

  /**
   * Arms the duration alert once the run is known: the expectation given, or "auto" from the job's
   * history (without the run itself); a continuation re-arms what its predecessor handed over.
   */
  private armDurationAlert(): void {
    const want = this.input.expected;
    if (!want || this.late || !patched(DURATION_ALERT_PATCH)) return;
    if (!this.expected) {
      const run = this.current as JobRun;
      const found = 'ms' in want ? { ms: want.ms, basis: 'given' } : expectedFromHistory(this.history.filter((r) => r.jobRunId !== run.jobRunId), want.auto);
      if (!found) {
        log.info('no duration alert: too few completed runs in the job history for "auto"', { jobId: this.input.jobId, jobRunId: run.jobRunId, needed: MIN_HISTORY_RUNS });
        return;
      }
      this.expected = { ...found, endAt: this.runStartedAt(run) + found.ms };
    }
    const { endAt } = this.expected;
    // Outside the root scope, like the deadline: a cancellation does not cancel the alert's timer.
    void CancellationScope.nonCancellable(() => sleep(Math.max(1, endAt - Date.now()))).then(() => this.markLate());
  }

  /** When the followed run started: now for a run this workflow executed, CCS's start time for an adopted one. */
  private runStartedAt(run: JobRun): number {
    const now = Date.now();
    if (!this.adopted || !run.startTime) return now;
    const at = Date.parse(run.startTime);
    return Number.isFinite(at) && at <= now ? at : now;
  }

  /** The run outlasted its expected duration: flag it (query, search attribute, metric, one WARN log); never abort. */
  private markLate(): void {
    if (this.late || !this.expected || this.phase === 'finished' || this.ended(this.current)) return;
    const { ms, basis } = this.expected;
    this.late = { since: new Date().toISOString(), expectedMs: ms, basis };
    upsertSearchAttributes([{ key: SearchAttribute.late, value: formatDuration(ms) }]);
    this.counters.late.add(1, { ccs: this.server });
    log.warn('CCS run is late: it has run longer than expected and is still followed', {
      jobId: this.input.jobId,
      jobRunId: this.current?.jobRunId,
      expected: formatDuration(ms),
      basis,
      status: this.current?.status,
    });
  }

  /** Counts a wait's polls and records what it saw: a run (clearing any attention), or why it could not. */
  private record<T extends WaitOutcome>(change: T): T {
    this.polls += change.polls;
    if (change.live && change.live.total > this.messageTotal) this.learnMessages(change.live);
    // A read that failed carries attention and no run; a read of a run whose status stayed outside 0–7 too long, both.
    if (change.attention) this.raiseAttention(change.attention, change.observedAt);
    else if (change.run && this.attention) this.clearAttention();
    if (change.run) this.observe(change.run, change.observedAt);
    return change;
  }

  /** Numbers the new messages as CCS listed them and keeps the newest LIVE_KEPT. */
  private learnMessages(live: LiveMessages): void {
    const first = live.total - live.fresh.length + 1;
    const numbered = live.fresh.map((m, i) => ({ seq: first + i, time: m.time, text: m.text })).filter((m) => m.seq > this.messageTotal);
    this.recentMessages = [...this.recentMessages, ...numbered].slice(-LIVE_KEPT);
    this.messageTotal = live.total;
    log.info('CCS run messages', { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, total: live.total, newest: numbered.at(-1)?.text });
  }

  /** Flags the run: query, search attribute, one WARN log and a metric per change of type. */
  private raiseAttention(found: { type: string; message: string }, at: string): void {
    if (this.attention?.type === found.type) return;
    this.attention = { type: found.type, message: found.message, since: at };
    upsertSearchAttributes([{ key: SearchAttribute.attention, value: found.type }]);
    this.counters.attentionRaised.add(1, { ccs: this.server, type: found.type });
    log.warn('CCS run needs attention: it is still followed and the read is retried', {
      jobId: this.input.jobId,
      jobRunId: this.current?.jobRunId,
      type: found.type,
      message: found.message,
    });
  }

  private clearAttention(): void {
    const was = this.attention;
    this.attention = undefined;
    upsertSearchAttributes([{ key: SearchAttribute.attention, value: null }]);
    this.counters.attentionCleared.add(1, { ccs: this.server, type: was?.type ?? 'unknown' });
    log.info('CCS run readable again; attention cleared', { jobId: this.input.jobId, jobRunId: this.current?.jobRunId, was: was?.type });
  }

  /** Records what CCS reported; keeps the status query and search attributes current. */
  private observe(next: JobRun, observedAt: string): void {
    const previous = this.current;
    const first = previous === undefined || previous.jobRunId !== next.jobRunId;
    const changed = first || previous?.status !== next.status || previous?.customStatusText !== next.customStatusText;
    this.current = next;
    this.unknownStatusSince = hasUndocumentedStatus(next) ? (this.unknownStatusSince ?? observedAt) : undefined;
    if (!changed) return;
    this.lastChangeAt = observedAt;
    log.info('CCS run status', { jobId: this.input.jobId, jobRunId: next.jobRunId, status: next.status, customStatusText: next.customStatusText });
    upsertSearchAttributes([
      ...(first ? [{ key: SearchAttribute.jobRunId, value: next.jobRunId }] : []),
      { key: SearchAttribute.jobStatus, value: next.status },
    ]);
  }

  /** Aborts the run (once) and waits, bounded by abortConfirmTimeout, until CCS reports it ended. */
  private async abortAndConfirm(target: JobRun, stopWaiting: (() => void) | undefined): Promise<JobRun> {
    const { input } = this;
    const unconfirmed = (cause: unknown): ApplicationFailure =>
      ApplicationFailure.create({
        type: ErrorType.AbortUnconfirmed,
        nonRetryable: true,
        message: `CCS did not confirm the abort of job run ${target.jobRunId} (job ${input.jobId}); check it in the CCS console and abort it there if it is still running`,
        details: [{ jobId: input.jobId, jobRunId: target.jobRunId, lastStatus: this.current?.status ?? target.status }],
        cause: cause instanceof Error ? cause : undefined,
      });
    const giveUpAt = Date.now() + input.abortConfirmTimeoutMs;
    let answer;
    try {
      const abortOptions = this.watching ? { ...CCS_CALL, retry: { ...RETRY, nonRetryableErrorTypes: [] } } : CCS_CALL;
      const abort = proxyActivities<CcsActivities>({ ...abortOptions, scheduleToCloseTimeout: input.abortConfirmTimeoutMs }).abortJobRun({
        jobId: input.jobId,
        jobRunId: target.jobRunId,
        ccs: this.server,
        ...(this.watching ? { retryAnyway: true } : {}),
      });
      stopWaiting?.();
      answer = await abort;
    } catch (err) {
      throw unconfirmed(err);
    }
    if (!answer.accepted && answer.run) {
      this.observe(answer.run, new Date().toISOString());
      return answer.run;
    }
    let latest = target;
    while (!this.ended(latest)) {
      const remaining = giveUpAt - Date.now();
      if (remaining <= 0) throw unconfirmed(undefined);
      try {
        const confirmPoll = Math.min(input.pollIntervalMs, CONFIRM_POLL_MS);
        const confirmActivities = this.watching ? watchActivities : pollActivities;
        const next = await confirmActivities(confirmPoll, CONFIRM_MAX_POLL_MS, remaining).waitForJobRunChange({
          jobId: input.jobId,
          jobRunId: latest.jobRunId,
          lastStatus: latest.status,
          lastCustomStatusText: latest.customStatusText,
          pollIntervalMs: confirmPoll,
          maxPollIntervalMs: CONFIRM_MAX_POLL_MS,
          ccs: this.server,
          ...this.watchInput(),
        });
        latest = this.record(next).run ?? latest;
      } catch (err) {
        throw unconfirmed(err);
      }
    }
    return latest;
  }
}
