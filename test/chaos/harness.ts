/**
 * The chaos harness: starts many runCcsJob workflows with mixed outcomes and cancels against a
 * simulator, lets a scenario break things while they run, then checks the invariants:
 * every workflow ends in the state that matches its CCS run, no run is left going (orphan), exactly
 * one execute per workflow (no duplicate), no workflow stuck, no credential or token anywhere in
 * histories, logs, error messages or evidence records, and one evidence record per closed workflow
 * that says what CCS says, on an intact chain.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { cancelSignal, type RunCcsJobResult } from '../../src/domain/contract';
import { ATTENTION_ERROR_TYPES } from '../../src/domain/errors';
import type { Simulator } from '../../src/sim/server';
import type { SimJob } from '../../src/sim/state';
import type { EvidenceContent } from '../../src/domain/evidence';
import { ChainWalker } from '../../src/evidence/chain';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import { SIM_USER } from '../helpers';

export type Plan = 'complete' | 'fault' | 'cancel' | 'race';

export interface Tracked {
  jobId: string;
  plan: Plan;
  handle: WorkflowHandle;
  /** Set when the workflow closed: the CCS status it reported, or its error type. */
  outcome?: { status?: string; type?: string; jobRunId?: string };
}

export interface Summary {
  scenario: string;
  workflows: number;
  duplicates: number;
  /** CCS runs left going with no workflow following them. */
  orphans: number;
  /** Workflows whose outcome does not match their run's CCS status. */
  lost: number;
  /** Workflows closed by an error while their run was not ended (the invariant). */
  closedEarly: number;
  stuck: number;
  leaked: number;
  /** 1 when a fresh run on the same worker does not complete afterwards (a process would need a restart). */
  restartNeeded: number;
  /** Runs aborted that no cancel asked for (a deploy, a restart or a fault must never abort a run). */
  unplannedAborts: number;
  /** Workflows that failed fast before CCS had a run for them (allowed: nothing to follow). */
  failedBeforeRun: number;
  /**
   * Closed workflows without exactly one evidence record, or whose record disagrees with CCS (run,
   * status), plus 1 for a broken chain; 0 when the scenario's sink was not given.
   */
  evidence: number;
  seconds: number;
}

/** Outcomes a workflow may end with once its run exists: the run's own end, or our abort. */
const RUN_OUTCOMES = ['Completed', 'Aborted', 'Cancelled', 'CcsJobFaulted', 'CcsJobAborted', 'CcsJobTimedOut'];

/** A small deterministic generator, so a scenario's mix can be reproduced from its seed. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLANS: Plan[] = ['complete', 'complete', 'complete', 'fault', 'fault', 'cancel', 'race'];

/** Adds one job per workflow, with steps that realise its plan. */
export function planJobs(
  sim: Simulator,
  count: number,
  rnd: () => number,
  scale = 1,
): { jobId: string; plan: Plan; endsAfterMs: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const plan = PLANS[i % PLANS.length]!;
    const pending = 0.5 + rnd() * 1.5;
    const executing = (2 + rnd() * 6) * scale;
    const steps: SimJob['steps'] =
      plan === 'cancel'
        ? [
            ['Pending', pending],
            ['Executing', 3600],
          ]
        : [
            ['Pending', pending],
            ['Executing', executing],
            [plan === 'fault' ? 'Faulted' : 'Completed', 0],
          ];
    const jobId = sim.state.addJob({
      JobID: randomUUID(),
      JobName: `chaos ${plan} ${i}`,
      steps,
      exception: plan === 'fault' ? 'chaos fault' : null,
    }).JobID;
    return { jobId, plan, endsAfterMs: (pending + executing) * 1000 };
  });
}

/** When a plan's cancel is sent (ms after start): cancel some time into the run; race around the moment CCS ends it. */
export type CancelTiming = (plan: Plan, endsAfterMs: number, rnd: () => number) => number | undefined;

export const DEFAULT_CANCELS: CancelTiming = (plan, endsAfterMs, rnd) =>
  plan === 'cancel' ? 1000 + rnd() * 5000 : plan === 'race' ? endsAfterMs - 500 + rnd() * 1000 : undefined;

/**
 * Starts the workflows (`parallel` starts in flight at a time) and sends the cancels their plans call
 * for, each timed from its own workflow's start.
 */
export async function startAll(
  client: Client,
  taskQueue: string,
  jobs: ReturnType<typeof planJobs>,
  rnd: () => number,
  cancelAt: CancelTiming = DEFAULT_CANCELS,
  parallel = 1,
): Promise<Tracked[]> {
  const tracked: Tracked[] = [];
  // Cancel times are drawn in job order before anything starts, so a seed gives the same plan at any parallelism.
  const cancels = jobs.map((job) => cancelAt(job.plan, job.endsAfterMs, rnd));
  let next = 0;
  const startOne = async (): Promise<void> => {
    for (let i = next++; i < jobs.length; i = next++) {
      const job = jobs[i]!;
      const handle = await client.workflow.start('runCcsJob', {
        taskQueue,
        workflowId: `chaos-${job.plan}-${randomUUID()}`,
        args: [{ jobId: job.jobId, pollInterval: '1s', maxPollInterval: '2s', abortConfirmTimeout: '5m' }],
      });
      tracked[i] = { jobId: job.jobId, plan: job.plan, handle };
      const at = cancels[i];
      if (at !== undefined) setTimeout(() => void handle.signal(cancelSignal, { reason: 'chaos' }).catch(() => undefined), at);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, startOne));
  return tracked;
}

/** Waits for every workflow to close (up to `timeoutMs`), recording each outcome. */
export async function settle(tracked: Tracked[], timeoutMs: number): Promise<void> {
  const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  await Promise.all(
    tracked.map(async (t) => {
      const result = await Promise.race([
        t.handle.result().then(
          (r: RunCcsJobResult) => r,
          (e: unknown) => e,
        ),
        deadline,
      ]);
      if (result === 'timeout') return;
      if (result instanceof WorkflowFailedError) {
        // The type that counts is the root's: an activity's failure arrives wrapped in an ActivityFailure.
        let cause: unknown = result.cause;
        while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
        const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<RunCcsJobResult> | undefined) : undefined;
        t.outcome = {
          type: cause instanceof CancelledFailure ? 'Cancelled' : cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : 'Error',
          status: details?.status,
          jobRunId: details?.jobRunId,
        };
      } else if (result instanceof Error) {
        t.outcome = { type: result.name };
      } else {
        const r = result as RunCcsJobResult;
        t.outcome = { status: r.status, jobRunId: r.jobRunId };
      }
    }),
  );
}

/** Counts invariant violations. `secrets` must appear nowhere in `texts` (histories, logs, errors). */
export async function check(
  scenario: string,
  sim: Simulator,
  tracked: Tracked[],
  texts: string[],
  startedAt: number,
  extraSecrets: string[] = [],
  evidenceDir?: string,
): Promise<Summary> {
  let duplicates = 0;
  let orphans = 0;
  let lost = 0;
  let closedEarly = 0;
  let failedBeforeRun = 0;
  let stuck = 0;
  let unplannedAborts = 0;
  const problems: string[] = [];
  const closedEarlyIds = new Set<string>();
  for (const t of tracked) {
    const runs = sim.state.runsOf(t.jobId);
    if (runs.length > 1) {
      duplicates++;
      problems.push(`${t.handle.workflowId}: ${runs.length} runs`);
    }
    for (const run of runs) {
      if (!['Completed', 'Faulted', 'Aborted'].includes(String(sim.state.view(run).status))) {
        orphans++;
        problems.push(`${t.handle.workflowId}: run ${run.JobRunID} left ${sim.state.view(run).status}`);
      }
    }
    if (!t.outcome) {
      stuck++;
      const d = await t.handle.describe().catch(() => undefined);
      const pending = d?.raw.pendingActivities?.map(
        (a) => `${a.activityType?.name} attempt ${a.attempt} ${a.state} last failure: ${a.lastFailure?.message ?? '-'}`,
      );
      problems.push(
        `${t.handle.workflowId}: still running; pending: ${pending?.join('; ') || 'none'}; CCS: ${runs.map((r) => String(sim.state.view(r).status)).join(',') || 'no run'}`,
      );
      continue;
    }
    const run = runs[0];
    const ccs = run ? String(sim.state.view(run).status) : undefined;
    if (ccs === 'Aborted' && t.plan !== 'cancel' && t.plan !== 'race') {
      unplannedAborts++;
      problems.push(`${t.handle.workflowId} (${t.plan}): its run was aborted and no cancel asked for it`);
    }
    // What the workflow must report for what CCS says happened to its run.
    const expected: Record<string, string[]> = {
      Completed: ['Completed'],
      Faulted: ['CcsJobFaulted'],
      Aborted: ['Aborted', 'Cancelled'],
    };
    const reported = t.outcome.type ?? t.outcome.status ?? '';
    const matches =
      ccs !== undefined &&
      (expected[ccs] ?? []).includes(reported) &&
      (t.outcome.jobRunId === undefined || t.outcome.jobRunId === run?.JobRunID);
    const plannedAbort = t.plan === 'cancel' || t.plan === 'race';
    const noRunCancelled = !run && plannedAbort && ['CcsJobAborted', 'Cancelled'].includes(reported);
    // Before CCS has a run, an error that needs a person still fails fast: there is nothing to follow.
    const noRunFailedFast = !run && t.outcome.type !== undefined && (ATTENTION_ERROR_TYPES as readonly string[]).includes(t.outcome.type);
    if (noRunFailedFast) failedBeforeRun++;
    if (run && !RUN_OUTCOMES.includes(reported)) {
      closedEarly++;
      closedEarlyIds.add(t.handle.workflowId);
      problems.push(`${t.handle.workflowId} (${t.plan}): closed with ${reported} while its run was followed (CCS says ${ccs})`);
    }
    if (!matches && !noRunCancelled && !noRunFailedFast) {
      lost++;
      problems.push(`${t.handle.workflowId} (${t.plan}): workflow says ${reported}, CCS says ${ccs ?? 'no run'}`);
    }
  }
  const evidence = evidenceDir ? await checkEvidence(evidenceDir, sim, tracked, problems, texts) : 0;
  const secrets = [SIM_USER.password, ...extraSecrets, ...sim.issuedTokens()];
  let slowest: { ms: number; workflowId: string; history: History } | undefined;
  const timelines: string[] = [];
  for (const t of tracked) {
    const history = await t.handle.fetchHistory().catch(() => undefined);
    texts.push(JSON.stringify(history ?? {}));
    if (!history) continue;
    const abortMs = abortDuration(history);
    if (abortMs !== undefined && abortMs > (slowest?.ms ?? -1)) slowest = { ms: abortMs, workflowId: t.handle.workflowId, history };
    if (closedEarlyIds.has(t.handle.workflowId)) timelines.push(`${t.handle.workflowId}:\n    ${timeline(history).join('\n    ')}`);
  }
  // The slowest confirmation against abortConfirmTimeout (5 min): a wide margin, or a flake waiting to happen; its story when it is long.
  if (slowest && !timelines.length && slowest.ms > SLOW_ABORT_MS)
    timelines.push(`${slowest.workflowId} (slowest abort):\n    ${timeline(slowest.history).join('\n    ')}`);
  if (slowest) console.error(`${scenario}: slowest abort ${Math.round(slowest.ms / 1000)} s from its scheduling to the close`);
  if (timelines.length) console.error(`${scenario}: timelines\n  ${timelines.slice(0, 3).join('\n  ')}`);
  const leaked = secrets.filter((s) => texts.some((text) => text.includes(s))).length;
  if (leaked) problems.push(`${leaked} secret(s) found in histories or logs`);
  if (problems.length) console.error(`${scenario}: ${problems.slice(0, 10).join('\n  ')}`);
  return {
    scenario,
    workflows: tracked.length,
    duplicates,
    orphans,
    lost,
    closedEarly,
    stuck,
    leaked,
    restartNeeded: 0,
    unplannedAborts,
    failedBeforeRun,
    evidence,
    seconds: Math.round((Date.now() - startedAt) / 1000),
  };
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

const eventMs = (e: HistoryEvent): number => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
const eventName = (e: HistoryEvent): string => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType);

/** From the abort's scheduling to the close, in ms (the confirmation, bounded by abortConfirmTimeout); undefined when no abort was sent. */
function abortDuration(history: History): number | undefined {
  const events = history.events ?? [];
  const abort = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'abortJobRun');
  const last = events.at(-1);
  return abort && last ? eventMs(last) - eventMs(abort) : undefined;
}

/** A confirmation slower than this prints its timeline. */
const SLOW_ABORT_MS = 60_000;

/** A closed-early workflow's history, one line per event that tells the story (seconds from start, type, activity, failure). */
function timeline(history: History): string[] {
  const events = history.events ?? [];
  const start = events[0] ? eventMs(events[0]) : 0;
  const scheduled = new Map<string, string>();
  const lines: string[] = [];
  for (const e of events) {
    const name = eventName(e).replace(/^EVENT_TYPE_/, '');
    if (/WORKFLOW_TASK|MARKER|UPSERT|PROPERTIES/.test(name)) continue;
    const id = String(e.eventId);
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity) scheduled.set(id, activity);
    const of =
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId ??
      e.activityTaskFailedEventAttributes?.scheduledEventId ??
      e.activityTaskTimedOutEventAttributes?.scheduledEventId ??
      e.activityTaskCancelRequestedEventAttributes?.scheduledEventId ??
      e.activityTaskCanceledEventAttributes?.scheduledEventId;
    const failure =
      e.activityTaskFailedEventAttributes?.failure ??
      e.activityTaskTimedOutEventAttributes?.failure ??
      e.activityTaskStartedEventAttributes?.lastFailure ??
      e.workflowExecutionFailedEventAttributes?.failure;
    const attempt = e.activityTaskStartedEventAttributes?.attempt;
    lines.push(
      [
        `${((eventMs(e) - start) / 1000).toFixed(1)} s`,
        name,
        activity ?? (of ? scheduled.get(String(of)) : undefined) ?? e.workflowExecutionSignaledEventAttributes?.signalName ?? '',
        attempt && attempt > 1 ? `attempt ${attempt}` : '',
        failure?.message
          ? `(${failure.message.slice(0, 200)}${failure.cause?.message ? ` ← ${failure.cause.message.slice(0, 200)}` : ''})`
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  return lines;
}

/**
 * The evidence of the scenario's closed workflows: exactly one record each (retried writes and
 * replayed closes add none), naming the run CCS has and the status CCS ended it with (`NotStarted`
 * when there is none), on a chain that verifies. The records' text joins `texts` for the leak check.
 */
async function checkEvidence(dir: string, sim: Simulator, tracked: Tracked[], problems: string[], texts: string[]): Promise<number> {
  // One read of the chain: it is walked (verified) and indexed by workflow in the same pass.
  const walker = new ChainWalker();
  const byWorkflow = new Map<string, EvidenceContent[]>();
  for await (const record of new JsonlEvidenceSink<EvidenceContent>(dir).records()) {
    walker.add(record);
    if (!record) continue;
    const ofWorkflow = byWorkflow.get(record.workflowId);
    if (ofWorkflow) ofWorkflow.push(record);
    else byWorkflow.set(record.workflowId, [record]);
    texts.push(JSON.stringify(record));
  }
  let violations = 0;
  for (const t of tracked) {
    if (!t.outcome) continue; // stuck: counted already
    const records = byWorkflow.get(t.handle.workflowId) ?? [];
    const run = sim.state.runsOf(t.jobId)[0];
    const ccs = run ? String(sim.state.view(run).status) : 'NotStarted';
    const record = records[0];
    if (records.length !== 1 || record?.status !== ccs || record.jobRunId !== (run?.JobRunID ?? null)) {
      violations++;
      problems.push(
        `${t.handle.workflowId}: ${records.length} evidence record(s)${record ? ` saying ${record.status} run ${record.jobRunId}` : ''}; CCS says ${ccs} run ${run?.JobRunID ?? 'none'}`,
      );
    }
  }
  const verdict = walker.finish();
  if (verdict.broken) {
    violations++;
    problems.push(`evidence chain broken: ${verdict.broken.detail}`);
  }
  return violations;
}

/**
 * After a scenario, with its faults cleared: one more run on the same worker must complete. A worker
 * left wedged (a token flight never released, a pool stuck) would need a restart; that is a failure.
 * The bound is generous because a wedge never completes, while on a loaded two-core machine the
 * former 60 s ran out twice in a scenario that itself took 5 minutes instead of 30 s. When it fails,
 * what it was waiting on is printed, so a wedge names itself.
 */
export async function canary(client: Client, taskQueue: string, sim: Simulator, timeoutMs = 180_000): Promise<number> {
  const jobId = sim.state.addJob({
    JobID: randomUUID(),
    JobName: 'chaos canary',
    steps: [
      ['Executing', 1],
      ['Completed', 0],
    ],
  }).JobID;
  const started = Date.now();
  const handle = await client.workflow.start('runCcsJob', {
    taskQueue,
    workflowId: `chaos-canary-${randomUUID()}`,
    args: [{ jobId, pollInterval: '1s', maxPollInterval: '1s' }],
  });
  const outcome = await Promise.race([
    handle.result().then(
      (r: RunCcsJobResult) => r.status,
      (e: unknown) => String(e),
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), timeoutMs).unref()),
  ]);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (outcome !== 'Completed') {
    const d = await handle.describe().catch(() => undefined);
    const pending = d?.raw.pendingActivities?.map(
      (a) => `${a.activityType?.name} attempt ${a.attempt} ${a.state} last failure: ${a.lastFailure?.message ?? '-'}`,
    );
    const runs = sim.state.runsOf(jobId).map((r) => String(sim.state.view(r).status));
    console.error(
      `canary after the scenario: ${outcome} after ${seconds} s; pending: ${pending?.join('; ') || 'none'}; CCS: ${runs.join(',') || 'no run'}`,
    );
  } else if (seconds > 20) console.log(`canary after the scenario: completed in ${seconds} s`);
  return outcome === 'Completed' ? 0 : 1;
}

export function summaryTable(rows: Summary[]): string {
  const header =
    '| scenario | workflows | duplicates | orphans | lost | closed early | stuck | leaked | restart needed | unplanned aborts | evidence wrong | failed before a run | seconds |';
  const line = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  return [
    header,
    line,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.workflows} | ${r.duplicates} | ${r.orphans} | ${r.lost} | ${r.closedEarly} | ${r.stuck} | ${r.leaked} | ${r.restartNeeded} | ${r.unplannedAborts} | ${r.evidence} | ${r.failedBeforeRun} | ${r.seconds} |`,
    ),
  ].join('\n');
}

/** A scenario's invariants (its summary without names and timings): each must be 0. */
export const ZERO_INVARIANTS = Object.freeze({
  duplicates: 0,
  orphans: 0,
  lost: 0,
  closedEarly: 0,
  stuck: 0,
  leaked: 0,
  restartNeeded: 0,
  unplannedAborts: 0,
  evidence: 0,
});

export function invariants(s: Summary): Record<keyof typeof ZERO_INVARIANTS, number> {
  const { duplicates, orphans, lost, closedEarly, stuck, leaked, restartNeeded, unplannedAborts, evidence } = s;
  return { duplicates, orphans, lost, closedEarly, stuck, leaked, restartNeeded, unplannedAborts, evidence };
}
