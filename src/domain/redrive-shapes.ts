/**
 * The shapes of a redrive that a pipeline's own definition and report carry (src/domain/redrive.ts
 * is the rest, and re-exports these): apart so that pipeline.ts and redrive.ts need not import each
 * other. Pure: workflows import it.
 */
import { parseDuration, preview, type DurationInput } from './validation';

/** The attempt a redrive continues from: an ended `runCcsPipeline` execution. */
export interface RedriveOf {
  workflowId: string;
  runId: string;
}

/**
 * A pipeline definition's automatic redrive (`ccs-jobs schedule create --redrive-after 30m
 * --max-redrives 2`, or `redrive:` in a pipeline file): when an attempt ends with failed jobs
 * (status Failed or CompletedWithFailures; never after a cancel, a refused input or a stale-data
 * gate), the attempt itself starts the next one, delayed by `after`, until `max` redrives were made.
 */
export interface AutoRedrive {
  after: DurationInput;
  /** Redrives per scan, 1–MAX_REDRIVES; default 1. */
  max?: number;
}

/** Redrives of one scan (attempts after the first): bounds the look for its attempts and the chain a redrive walks. */
export const MAX_REDRIVES = 20;
/** The shortest automatic redrive delay: a CCS failure that clears within a minute is the job's own retries' to absorb. */
export const MIN_REDRIVE_AFTER_MS = 60_000;

/** How a redrive chooses what to re-run. */
export type RedriveMode = 'unfinished' | 'only-failed' | 'from-stage';

/** A job carried from an earlier attempt, as its entry in the redrive's report says. */
export interface CarriedFrom {
  /** The attempt whose child ran the job (the first attempt, or an earlier redrive). */
  workflowId: string;
  runId: string;
  /** The job workflow's own evidence record key, `<child workflowId>/<child runId>` when known. */
  evidenceKey: string | null;
  /** 0 for the scan's first attempt, n for `/redrive-<n>`. */
  attempt: number;
}

/** What the pipeline report says of a redrive (PipelineReport.redrive). */
export interface RedriveInfo {
  of: RedriveOf;
  /** The scan's first attempt's workflow id; this execution is `<rootWorkflowId>/redrive-<attempt>`. */
  rootWorkflowId: string;
  attempt: number;
  mode: RedriveMode;
  fromStage?: number;
  /** Started by the pipeline's own automatic redrive (`redrive: { after, max }`), not by a person. */
  automatic?: boolean;
}

/** One check of the stale-data gate, as the stage's report says it (which window, against which run). */
export interface FreshnessCheck {
  jobId: string;
  ccs: string;
  /** The window, as a duration ("24h"). */
  within: string;
  /** The collection's last Completed run among those read, and when it ended; null when it has none. */
  jobRunId: string | null;
  endTime: string | null;
  /** When the gate looked (workflow time, ISO). */
  checkedAt: string;
  fresh: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problems of a definition's `redrive: { after, max }`, each as `redrive.<field>: ...` (pipelineProblems lists them). */
export function autoRedriveProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!isRecord(value)) return [`redrive: must be an object like { after: 30m, max: 2 }; got ${preview(value)}`];
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (key !== 'after' && key !== 'max') problems.push(`redrive.${key}: unknown key; allowed: after, max`);
  }
  if (value.after === undefined) problems.push('redrive.after: required, how long after a failed attempt its redrive starts, e.g. "30m"');
  else {
    let ms: number | undefined;
    try {
      ms = parseDuration('redrive.after', value.after);
    } catch {
      problems.push(`redrive.after: must be a duration such as "30m" or "2h"; got ${preview(value.after)}`);
    }
    if (ms !== undefined && ms < MIN_REDRIVE_AFTER_MS) problems.push(`redrive.after: must be at least 1m; got ${preview(value.after)}`);
  }
  if (
    value.max !== undefined &&
    (typeof value.max !== 'number' || !Number.isInteger(value.max) || value.max < 1 || value.max > MAX_REDRIVES)
  )
    problems.push(`redrive.max: must be a whole number of redrives, 1 to ${MAX_REDRIVES}; got ${preview(value.max)}`);
  return problems;
}
