/**
 * Scan pipelines: their definition, its validation (every problem at once, each with its path in
 * the file), and the report a pipeline produces. Pure: the pipeline workflow imports it.
 */
import type { JobRunMessage } from './job-run';
import type { PauseState } from './pause';
import { autoRedriveProblems, type AutoRedrive, type CarriedFrom, type FreshnessCheck, type RedriveInfo } from './redrive-shapes';
import { requireJobName } from './job-names';
import { MIN_ALERT_IF_NO_SUCCESS_MS } from './notifications';
import { CCS_SERVER_NAME, formatDuration, isGuid, parseDuration, preview, type DurationInput } from './validation';

/** How a job of a pipeline runs, besides which job it is. */
export interface PipelineJobSettings {
  /** The configured CCS server that runs this job; default the pipeline's, else "default". */
  ccs?: string;
  timeout?: DurationInput;
  pollInterval?: DurationInput;
  maxPollInterval?: DurationInput;
}

/** A job by its GUID (and, once a named entry is resolved, the name it was given by). */
export interface PipelineJobSpec extends PipelineJobSettings {
  jobId: string;
  name?: string;
}

/**
 * A job by its exact name in CCS instead of its GUID: resolved once when the pipeline starts (exactly
 * one job of that name on its server, else the pipeline fails before any stage, listing candidates).
 */
export interface PipelineJobByName extends PipelineJobSettings {
  name: string;
  jobId?: undefined;
}

export interface PipelineStage {
  name: string;
  /** Job GUIDs, or objects with a GUID or a name and per-job settings; the jobs of a stage run in parallel. */
  jobs: (string | PipelineJobSpec | PipelineJobByName)[];
  /** Keep going (siblings and later stages) when a job of this stage fails. Default false. */
  continueOnFailure?: boolean;
  /**
   * The stale-data gate: before its jobs run, the stage checks (through CCS's jobruns) that a
   * collection's latest Completed run ended within `within`: the job named by `job`, or every job of
   * the earlier stage named by `fromStage`. Otherwise the stage fails `CcsStaleData` and its jobs do
   * not run (CCS evaluations silently reuse the last successful collection, however old).
   */
  requireFresh?: { job?: string; fromStage?: string; within: DurationInput; ccs?: string };
}

export interface PipelineDefinition {
  name: string;
  stages: PipelineStage[];
  /** Deadline for the whole pipeline; each job's timeout is capped by what is left. */
  timeout?: DurationInput;
  /** Defaults for every job that does not set its own. */
  ccs?: string;
  pollInterval?: DurationInput;
  maxPollInterval?: DurationInput;
  /** Who asked for the pipeline, for its evidence record (`ccs-jobs --requested-by`). */
  requestedBy?: string;
  /**
   * When the pipeline is scheduled (`ccs-jobs schedule create --pipeline`): `scan.missed` when no run of
   * the schedule Completed within this window, e.g. "26h" (at least 1m). Ignored by `pipeline run`.
   */
  alertIfNoSuccess?: DurationInput;
  /** Redrive an attempt that ended with failed jobs, automatically, after a delay (src/domain/redrive.ts). */
  redrive?: AutoRedrive;
}

export type PipelineJobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

export interface PipelineJobReport {
  jobId: string;
  /** The name the pipeline gave the job by, when it was given by name. */
  name?: string;
  workflowId: string;
  /** The job workflow's first run id once it started: with workflowId, the key of its evidence record. */
  runId?: string;
  state: PipelineJobState;
  /** The CCS run status at the end (Completed, Faulted, Aborted), when known. */
  status?: string;
  jobRunId?: string;
  startTime?: string | null;
  endTime?: string | null;
  exception?: string | null;
  messages?: JobRunMessage[];
  /** Error type and message when the job did not complete. */
  error?: { type: string; message: string };
  /** Set when a redrive carried this job from an earlier attempt instead of running it again. */
  carried?: CarriedFrom;
}

export interface PipelineStageReport {
  name: string;
  state: PipelineJobState;
  jobs: PipelineJobReport[];
  /** The stale-data gate's checks when it ran for this stage (`requireFresh`): which window against which run. */
  freshness?: FreshnessCheck[];
}

export interface PipelineReport {
  name: string;
  /** Completed: every job completed. CompletedWithFailures: failures allowed by continueOnFailure. */
  status: 'running' | 'Completed' | 'CompletedWithFailures' | 'Failed' | 'Cancelled';
  stages: PipelineStageReport[];
  startedAt: string;
  endedAt?: string;
  /** Set while the pipeline is paused: no new job starts and its running jobs hold. */
  paused?: PauseState;
  /** Set on a redrive: which attempt it continues, and how it chose what to re-run. */
  redrive?: RedriveInfo;
}

const PIPELINE_KEYS = ['name', 'stages', 'ccs', 'timeout', 'pollInterval', 'maxPollInterval', 'requestedBy', 'alertIfNoSuccess', 'redrive'];
const STAGE_KEYS = ['name', 'jobs', 'continueOnFailure', 'requireFresh'];
const JOB_KEYS = ['jobId', 'name', 'ccs', 'timeout', 'pollInterval', 'maxPollInterval'];
const MIN_POLL_MS = 1_000;

/**
 * Caps on a pipeline's size (README, "Pipelines"), refused before anything starts. A stage's jobs
 * are child workflows pending at once, and every job adds its entry to the report the pipeline
 * returns (one Temporal payload) and its events to the pipeline's history; the caps also bound
 * validation itself (a stage over its cap is not checked job by job).
 */
export const MAX_STAGES = 20;
export const MAX_JOBS_PER_STAGE = 50;
export const MAX_PIPELINE_JOBS = 200;
/** Name lengths: a pipeline's and a stage's names are shown in reports, logs and the CLI; job names are CCS's (MAX_JOB_NAME). */
export const MAX_PIPELINE_NAME = 200;
export const MAX_STAGE_NAME = 100;
/** Who asked for the pipeline, as for a job run (`requestedBy`). */
const MAX_REQUESTED_BY = 200;

/** A checked `alertIfNoSuccess` as the watchdog takes it: the text as written, or milliseconds as a duration ("26h"). */
export function alertWindow(value: DurationInput): string {
  return typeof value === 'string' ? value.trim() : formatDuration(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every problem of a pipeline definition, each as `<path>: <what is wrong>`; empty when it is valid. */
export function pipelineProblems(input: unknown): string[] {
  const problems: string[] = [];
  const unknownKeys = (obj: Record<string, unknown>, allowed: string[], path: string): void => {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) problems.push(`${path}${path ? '.' : ''}${key}: unknown key; allowed: ${allowed.join(', ')}`);
    }
  };
  const duration = (value: unknown, path: string, min = MIN_POLL_MS): void => {
    if (value === undefined) return;
    try {
      if (parseDuration(path, value) < min) problems.push(`${path}: must be at least ${min} ms; got ${preview(value)}`);
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message.replace(`${path} `, '')}`);
    }
  };
  const server = (value: unknown, path: string): void => {
    if (value !== undefined && (typeof value !== 'string' || !CCS_SERVER_NAME.test(value))) {
      problems.push(`${path}: must name a configured CCS server (letters, digits, '.', '_' or '-', e.g. "emea"); got ${preview(value)}`);
    }
  };
  if (!isObject(input)) return [`(top): a pipeline must be an object with "name" and "stages"; got ${preview(input)}`];
  unknownKeys(input, PIPELINE_KEYS, '');
  if (typeof input.name !== 'string' || input.name.trim() === '') problems.push('name: required, a non-empty string');
  else if (input.name.length > MAX_PIPELINE_NAME)
    problems.push(`name: at most ${MAX_PIPELINE_NAME} characters; got ${input.name.length}: shorten it`);
  if (input.requestedBy !== undefined && (typeof input.requestedBy !== 'string' || input.requestedBy.length > MAX_REQUESTED_BY)) {
    problems.push(
      `requestedBy: must be text of at most ${MAX_REQUESTED_BY} characters (who asked for the pipeline); got ${preview(input.requestedBy)}`,
    );
  }
  server(input.ccs, 'ccs');
  duration(input.timeout, 'timeout');
  duration(input.pollInterval, 'pollInterval');
  duration(input.maxPollInterval, 'maxPollInterval');
  if (input.alertIfNoSuccess !== undefined) {
    let ms: number | undefined;
    try {
      ms = parseDuration('alertIfNoSuccess', input.alertIfNoSuccess);
    } catch {
      problems.push(`alertIfNoSuccess: must be a duration such as "26h" or "7d"; got ${preview(input.alertIfNoSuccess)}`);
    }
    if (ms !== undefined && ms < MIN_ALERT_IF_NO_SUCCESS_MS)
      problems.push(`alertIfNoSuccess: must be at least 1m; got ${preview(input.alertIfNoSuccess)}`);
  }
  problems.push(...autoRedriveProblems(input.redrive));
  if (!Array.isArray(input.stages) || input.stages.length === 0) {
    problems.push('stages: required, a non-empty list of stages');
    return problems;
  }
  if (input.stages.length > MAX_STAGES) {
    problems.push(`stages: ${input.stages.length} stages; at most ${MAX_STAGES}: merge stages, or split the scan into several pipelines`);
    return problems;
  }
  const jobCount = input.stages.reduce(
    (sum: number, stage: unknown) => sum + (isObject(stage) && Array.isArray(stage.jobs) ? stage.jobs.length : 0),
    0,
  );
  if (jobCount > MAX_PIPELINE_JOBS)
    problems.push(`stages: ${jobCount} jobs in all; at most ${MAX_PIPELINE_JOBS} per pipeline: split the scan into several pipelines`);
  const seenJobs = new Map<string, string>();
  const seenStages = new Set<string>();
  input.stages.forEach((stage: unknown, i) => {
    const at = `stages[${i}]`;
    if (!isObject(stage)) {
      problems.push(`${at}: must be an object with "name" and "jobs"`);
      return;
    }
    unknownKeys(stage, STAGE_KEYS, at);
    if (typeof stage.name !== 'string' || stage.name.trim() === '') problems.push(`${at}.name: required, a non-empty string`);
    else if (stage.name.length > MAX_STAGE_NAME)
      problems.push(`${at}.name: at most ${MAX_STAGE_NAME} characters; got ${stage.name.length}: shorten it`);
    else if (seenStages.has(stage.name)) problems.push(`${at}.name: duplicate stage name ${preview(stage.name)}`);
    else seenStages.add(stage.name);
    if (stage.continueOnFailure !== undefined && typeof stage.continueOnFailure !== 'boolean')
      problems.push(`${at}.continueOnFailure: must be true or false`);
    if (stage.requireFresh !== undefined) {
      const fresh = stage.requireFresh as Record<string, unknown>;
      const fat = `${at}.requireFresh`;
      if (!isObject(fresh))
        problems.push(`${fat}: must be an object like { job: <collection JobID>, within: 24h } or { fromStage: collect, within: 24h }`);
      else {
        unknownKeys(fresh, ['job', 'fromStage', 'within', 'ccs'], fat);
        if ((fresh.job === undefined) === (fresh.fromStage === undefined))
          problems.push(`${fat}: give exactly one of job (a collection JobID) and fromStage (an earlier stage's name)`);
        if (fresh.job !== undefined && !isGuid(fresh.job))
          problems.push(`${fat}.job: must be a job GUID like 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16; got ${preview(fresh.job)}`);
        if (
          fresh.fromStage !== undefined &&
          !(input.stages as unknown[]).slice(0, i).some((earlier) => isObject(earlier) && earlier.name === fresh.fromStage)
        ) {
          problems.push(`${fat}.fromStage: must name an earlier stage; got ${preview(fresh.fromStage)}`);
        }
        if (fresh.within === undefined) problems.push(`${fat}.within: required, how recent the collection must be, e.g. "24h"`);
        else duration(fresh.within, `${fat}.within`, 60_000);
        server(fresh.ccs, `${fat}.ccs`);
      }
    }
    if (!Array.isArray(stage.jobs) || stage.jobs.length === 0) {
      problems.push(`${at}.jobs: required, a non-empty list of job GUIDs`);
      return;
    }
    if (stage.jobs.length > MAX_JOBS_PER_STAGE) {
      problems.push(`${at}.jobs: ${stage.jobs.length} jobs; at most ${MAX_JOBS_PER_STAGE} per stage: move some to another stage`);
      return;
    }
    stage.jobs.forEach((job: unknown, j) => {
      const jobAt = `${at}.jobs[${j}]`;
      let id: unknown = job;
      let idAt = jobAt;
      if (isObject(job)) {
        unknownKeys(job, JOB_KEYS, jobAt);
        id = job.jobId;
        idAt = `${jobAt}.jobId`;
        server(job.ccs, `${jobAt}.ccs`);
        duration(job.timeout, `${jobAt}.timeout`);
        duration(job.pollInterval, `${jobAt}.pollInterval`);
        duration(job.maxPollInterval, `${jobAt}.maxPollInterval`);
        if (job.name !== undefined) {
          if (job.jobId !== undefined) {
            problems.push(`${jobAt}: give jobId or name, not both`);
            return;
          }
          try {
            const name = requireJobName(`${jobAt}.name`, job.name);
            const key = `name:${typeof job.ccs === 'string' ? job.ccs : typeof input.ccs === 'string' ? input.ccs : 'default'}:${name}`;
            const first = seenJobs.get(key);
            if (first)
              problems.push(`${jobAt}.name: duplicate job ${JSON.stringify(name)} (also at ${first}); a job can run once per pipeline`);
            else seenJobs.set(key, `${jobAt}.name`);
          } catch (err) {
            problems.push((err as Error).message.replace(`${jobAt}.name `, `${jobAt}.name: `));
          }
          return;
        }
      }
      if (!isGuid(id)) {
        problems.push(`${idAt}: must be a job GUID like 24f58e54-5d94-45f8-97a8-ccb6d959233a; got ${preview(id)}`);
        return;
      }
      const key = id.toLowerCase();
      const first = seenJobs.get(key);
      if (first) problems.push(`${idAt}: duplicate job ${key} (also at ${first}); a job can run once per pipeline`);
      else seenJobs.set(key, idAt);
    });
  });
  return problems;
}

/** The server a job entry runs on: its own, else the pipeline's, else "default". */
function serverOfEntry(definition: PipelineDefinition, job: PipelineStage['jobs'][number]): string {
  return (typeof job === 'object' ? job.ccs : undefined) ?? definition.ccs ?? 'default';
}

/** The entries given by name, each once: what has to be resolved before the pipeline starts. */
export function namedJobs(definition: PipelineDefinition): { name: string; ccs: string }[] {
  const seen = new Map<string, { name: string; ccs: string }>();
  for (const stage of definition.stages) {
    for (const job of stage.jobs) {
      if (typeof job === 'object' && typeof job.name === 'string' && job.jobId === undefined) {
        const ccs = serverOfEntry(definition, job);
        seen.set(`${ccs}\u0000${job.name}`, { name: job.name, ccs });
      }
    }
  }
  return [...seen.values()];
}

/**
 * The definition with every named entry given its resolved JobID (the name kept beside it, for the
 * report), and the problems resolution reveals: a name standing for a job the pipeline already has.
 */
export function withResolvedNames(
  definition: PipelineDefinition,
  resolved: { name: string; ccs: string; jobId: string }[],
): { definition: PipelineDefinition; problems: string[] } {
  const ids = new Map(resolved.map((r) => [`${r.ccs}\u0000${r.name}`, r.jobId.toLowerCase()]));
  const stages = definition.stages.map((stage) => ({
    ...stage,
    jobs: stage.jobs.map((job) => {
      if (typeof job !== 'object' || job.jobId !== undefined || job.name === undefined) return job;
      const jobId = ids.get(`${serverOfEntry(definition, job)}\u0000${job.name}`);
      return jobId ? { ...job, jobId } : job;
    }),
  }));
  const problems: string[] = [];
  const seen = new Map<string, string>();
  stages.forEach((stage, i) =>
    stage.jobs.forEach((job, j) => {
      const id: string | undefined = (typeof job === 'string' ? job : job.jobId)?.toLowerCase();
      if (id === undefined) return;
      const at = `stages[${i}].jobs[${j}]`;
      const first = seen.get(id);
      if (first)
        problems.push(
          `${at}: job ${id}${typeof job === 'object' && job.name ? ` (named ${JSON.stringify(job.name)})` : ''} is also at ${first}; a job can run once per pipeline`,
        );
      else seen.set(id, at);
    }),
  );
  return { definition: { ...definition, stages }, problems };
}

/**
 * The jobs of a stage in one shape, GUIDs lower-cased, with the pipeline's defaults applied. Named
 * entries must have been resolved first ({@link withResolvedNames}).
 */
export function stageJobs(definition: PipelineDefinition, stage: PipelineStage): PipelineJobSpec[] {
  return stage.jobs.map((job) => {
    const spec = typeof job === 'string' ? { jobId: job } : job;
    if (spec.jobId === undefined)
      throw new Error(`job ${JSON.stringify(spec.name)} was not resolved to a JobID before the pipeline started`);
    return {
      ...(definition.ccs === undefined ? {} : { ccs: definition.ccs }),
      ...(definition.pollInterval === undefined ? {} : { pollInterval: definition.pollInterval }),
      ...(definition.maxPollInterval === undefined ? {} : { maxPollInterval: definition.maxPollInterval }),
      ...spec,
      jobId: spec.jobId.toLowerCase(),
    };
  });
}
