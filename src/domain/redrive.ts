/**
 * Redriving a scan pipeline: a new `runCcsPipeline` execution, `<scan's first workflow id>/redrive-<n>`,
 * that takes an ended attempt's definition and report and re-runs only what did not complete.
 * Completed jobs are carried into the new report with their JobRunIDs, times and evidence keys.
 * The names and shapes here are public (workflow input, CLI, evidence); pure: workflows import it.
 */
import { preview } from './validation';
import { MAX_STAGES, type PipelineDefinition, type PipelineJobReport, type PipelineReport, type PipelineStageReport } from './pipeline';
import type { RedriveMode, RedriveOf } from './redrive-shapes';

export {
  MAX_REDRIVES,
  MIN_REDRIVE_AFTER_MS,
  autoRedriveProblems,
  type AutoRedrive,
  type CarriedFrom,
  type FreshnessCheck,
  type RedriveInfo,
  type RedriveMode,
  type RedriveOf,
} from './redrive-shapes';

/**
 * `runCcsPipeline`'s input when it is a redrive (`ccs-jobs pipeline redrive`, or any client). The
 * definition is not given: it is the scan's own, read from Temporal by the worker.
 */
export interface PipelineRedriveInput {
  redriveOf: RedriveOf;
  /** Re-run only the jobs that failed; cancelled and skipped jobs and stages that never started stay as they were. */
  onlyFailed?: boolean;
  /** 1-based: re-run every job of stage N and after; the stages before it must have completed and are carried. */
  fromStage?: number;
  /** Who asked for the redrive, for its evidence record (default: the CLI user). */
  requestedBy?: string;
  /** Set by an ending attempt's automatic redrive (`redrive: { after, max }`), never by a person. */
  automatic?: boolean;
}

/** What `runCcsPipeline` accepts: a definition (a first attempt) or a redrive of an ended attempt. */
export type RunCcsPipelineInput = PipelineDefinition | PipelineRedriveInput;

/** What the worker reads of the attempt being redriven (activity `readRedriveSource`). */
export interface RedriveSource {
  /** The attempt redriven, exactly (as given, or its latest run when the runId was empty). */
  of: RedriveOf;
  rootWorkflowId: string;
  /** The attempt number of `of` (0 for the first). */
  attempt: number;
  /** The scan's definition with job names resolved, as the first attempt ran it. */
  definition: PipelineDefinition;
  /** `of`'s report when it ended: from its result, its failure's details, or rebuilt from its children. */
  report: PipelineReport;
  /** How `of` closed: COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  closedAs: string;
}

/** The input of activity `readRedriveSource`: the redrive's own id is checked against the scan's attempts. */
export interface ReadRedriveSourceInput {
  redriveOf: RedriveOf;
  /** The redriving execution's workflow id (must be `<root>/redrive-<n>`, the next attempt of the scan). */
  workflowId: string;
}

/** The input of activity `startAutoRedrive`, called by an ending attempt: starts the next attempt, delayed. */
export interface StartAutoRedriveInput {
  /** `<root>/redrive-<n>`. */
  workflowId: string;
  input: PipelineRedriveInput;
  /** Milliseconds the redrive waits before it starts (Temporal's start delay). */
  startDelayMs: number;
}

const REDRIVE_SUFFIX = /\/redrive-(\d+)$/;

/** The workflow id of attempt `n` (1-based) of a scan: `<root>/redrive-<n>`. */
export function redriveWorkflowId(rootWorkflowId: string, n: number): string {
  return `${rootWorkflowId}/redrive-${n}`;
}

/** The scan's first attempt's workflow id: the id without its `/redrive-<n>` suffix. */
export function scanRootId(workflowId: string): string {
  return workflowId.replace(REDRIVE_SUFFIX, '');
}

/** The attempt number of a workflow id: 0 for a first attempt, n for `/redrive-<n>`. */
export function attemptOf(workflowId: string): number {
  const match = REDRIVE_SUFFIX.exec(workflowId);
  return match ? Number(match[1]) : 0;
}

/** Whether a `runCcsPipeline` input is a redrive rather than a definition. */
export function isRedriveInput(input: unknown): input is PipelineRedriveInput {
  return typeof input === 'object' && input !== null && 'redriveOf' in input;
}

const REDRIVE_INPUT_KEYS = ['redriveOf', 'onlyFailed', 'fromStage', 'requestedBy', 'automatic'];
/** Bounds a workflow id given to a redrive (Temporal's own limit is the namespace's, about 1000). */
const MAX_WORKFLOW_ID = 1000;
const MAX_REQUESTED_BY = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every problem of a redrive input, each as `<field>: <what is wrong>`; empty when it is valid. */
export function redriveInputProblems(input: unknown): string[] {
  if (!isRecord(input)) return [`(top): a redrive must be an object with "redriveOf"; got ${preview(input)}`];
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!REDRIVE_INPUT_KEYS.includes(key)) problems.push(`${key}: unknown key; allowed: ${REDRIVE_INPUT_KEYS.join(', ')}`);
  }
  const of = input.redriveOf;
  if (!isRecord(of)) problems.push(`redriveOf: required, { workflowId, runId } of the attempt to redrive; got ${preview(of)}`);
  else {
    if (typeof of.workflowId !== 'string' || of.workflowId.trim() === '' || of.workflowId.length > MAX_WORKFLOW_ID)
      problems.push(
        `redriveOf.workflowId: required, a workflow id of at most ${MAX_WORKFLOW_ID} characters; got ${preview(of.workflowId)}`,
      );
    // Empty: the workflow id's latest run (readRedriveSource says which one it took).
    if (typeof of.runId !== 'string' || of.runId.length > 100)
      problems.push(`redriveOf.runId: must be a run id, or "" for the latest run; got ${preview(of.runId)}`);
  }
  if (input.onlyFailed !== undefined && typeof input.onlyFailed !== 'boolean') problems.push('onlyFailed: must be true or false');
  if (input.automatic !== undefined && typeof input.automatic !== 'boolean') problems.push('automatic: must be true or false');
  if (
    input.fromStage !== undefined &&
    (typeof input.fromStage !== 'number' || !Number.isInteger(input.fromStage) || input.fromStage < 1 || input.fromStage > MAX_STAGES)
  )
    problems.push(`fromStage: must be a stage number, 1 to ${MAX_STAGES}; got ${preview(input.fromStage)}`);
  if (input.onlyFailed === true && input.fromStage !== undefined) problems.push('fromStage: give onlyFailed or fromStage, not both');
  if (input.requestedBy !== undefined && (typeof input.requestedBy !== 'string' || input.requestedBy.length > MAX_REQUESTED_BY))
    problems.push(`requestedBy: must be text of at most ${MAX_REQUESTED_BY} characters; got ${preview(input.requestedBy)}`);
  return problems;
}

/** One job of a redrive's plan: its entry carried from the attempt redriven (as it was), or run again. */
export type RedriveJobPlan = { jobId: string; carry: PipelineJobReport } | { jobId: string; carry: null };

/** One stage of a redrive's plan. `source` is the stage's report in the attempt redriven (state, freshness), when it had one. */
export interface RedriveStagePlan {
  jobs: RedriveJobPlan[];
  source: PipelineStageReport | null;
}

export interface RedrivePlan {
  mode: RedriveMode;
  fromStage?: number;
  stages: RedriveStagePlan[];
}

/**
 * What a redrive of `source` re-runs, by mode (README, "Redriving a failed pipeline"), or why it is
 * refused, in one line. `unfinished` (default): every job that did not complete; `only-failed`: only
 * failed jobs; `from-stage N`: every job of stage N on, the stages before it having completed. A
 * carried job keeps its entry, with where it was run: an entry carried before keeps its origin.
 */
export function planRedrive(
  source: RedriveSource,
  options: { onlyFailed?: boolean | undefined; fromStage?: number | undefined },
): { refusal: string } | { plan: RedrivePlan } {
  const of = source.of.workflowId;
  if (source.report.status === 'running') return { refusal: `pipeline ${of} is still running; redrive it once it has ended` };
  const stages = source.definition.stages;
  const mode: RedriveMode = options.fromStage !== undefined ? 'from-stage' : options.onlyFailed ? 'only-failed' : 'unfinished';
  const from = options.fromStage;
  if (from !== undefined && (!Number.isInteger(from) || from < 1 || from > stages.length))
    return {
      refusal: `--from-stage ${String(from)}: pipeline ${of} has ${stages.length} stage${stages.length === 1 ? '' : 's'}; give 1 to ${stages.length}`,
    };
  const entryOf = (i: number, j: number, jobId: string): PipelineJobReport | null => {
    const entry = source.report.stages[i]?.jobs[j];
    return entry && entry.jobId.toLowerCase() === jobId.toLowerCase() ? entry : null;
  };
  const carried = (entry: PipelineJobReport): PipelineJobReport => ({
    ...entry,
    carried: entry.carried ?? {
      workflowId: source.of.workflowId,
      runId: source.of.runId,
      evidenceKey: entry.runId ? `${entry.workflowId}/${entry.runId}` : null,
      attempt: source.attempt,
    },
  });
  const planned: RedriveStagePlan[] = [];
  for (const [i, stage] of stages.entries()) {
    const jobs: RedriveJobPlan[] = [];
    for (const [j, job] of stage.jobs.entries()) {
      const jobId = (typeof job === 'string' ? job : (job.jobId ?? '')).toLowerCase();
      const entry = entryOf(i, j, jobId);
      const state = entry?.state ?? 'pending';
      if (from !== undefined && i + 1 < from && state !== 'completed')
        return {
          refusal: `--from-stage ${from}: stage ${i + 1} ${JSON.stringify(stage.name)} of ${of} did not complete (job ${jobId} ${state}); redrive from stage ${i + 1} or earlier`,
        };
      const rerun = from !== undefined ? i + 1 >= from : options.onlyFailed ? state === 'failed' : state !== 'completed';
      jobs.push(rerun || !entry ? { jobId, carry: null } : { jobId, carry: carried(entry) });
    }
    planned.push({ jobs, source: source.report.stages[i] ?? null });
  }
  if (planned.every((s) => s.jobs.every((j) => j.carry !== null)))
    return {
      refusal:
        mode === 'only-failed'
          ? `nothing to redrive: no job of ${of} failed (without --only-failed, its skipped and cancelled jobs would run)`
          : `nothing to redrive: every job of ${of} completed`,
    };
  return { plan: { mode, ...(from === undefined ? {} : { fromStage: from }), stages: planned } };
}
