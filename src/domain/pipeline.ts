/**
 * Scan pipelines: their definition, its validation (every problem at once, each with its path in
 * the file), and the report a pipeline produces. Pure: the pipeline workflow imports it.
 */
import type { JobRunMessage } from './job-run';
import { CCS_SERVER_NAME, isGuid, parseDuration, preview, type DurationInput } from './validation';

export interface PipelineJobSpec {
  jobId: string;
  /** The configured CCS server that runs this job; default the pipeline's, else "default". */
  ccs?: string;
  timeout?: DurationInput;
  pollInterval?: DurationInput;
  maxPollInterval?: DurationInput;
}

export interface PipelineStage {
  name: string;
  /** Job GUIDs, or objects with per-job settings; the jobs of a stage run in parallel. */
  jobs: (string | PipelineJobSpec)[];
  /** Keep going (siblings and later stages) when a job of this stage fails. Default false. */
  continueOnFailure?: boolean;
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
}

export type PipelineJobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';

export interface PipelineJobReport {
  jobId: string;
  workflowId: string;
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
}

export interface PipelineStageReport {
  name: string;
  state: PipelineJobState;
  jobs: PipelineJobReport[];
}

export interface PipelineReport {
  name: string;
  /** Completed: every job completed. CompletedWithFailures: failures allowed by continueOnFailure. */
  status: 'running' | 'Completed' | 'CompletedWithFailures' | 'Failed' | 'Cancelled';
  stages: PipelineStageReport[];
  startedAt: string;
  endedAt?: string;
}

const PIPELINE_KEYS = ['name', 'stages', 'ccs', 'timeout', 'pollInterval', 'maxPollInterval'];
const STAGE_KEYS = ['name', 'jobs', 'continueOnFailure'];
const JOB_KEYS = ['jobId', 'ccs', 'timeout', 'pollInterval', 'maxPollInterval'];
const MIN_POLL_MS = 1_000;

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
  else if (input.name.length > 200) problems.push('name: at most 200 characters');
  server(input.ccs, 'ccs');
  duration(input.timeout, 'timeout');
  duration(input.pollInterval, 'pollInterval');
  duration(input.maxPollInterval, 'maxPollInterval');
  if (!Array.isArray(input.stages) || input.stages.length === 0) {
    problems.push('stages: required, a non-empty list of stages');
    return problems;
  }
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
    else if (seenStages.has(stage.name)) problems.push(`${at}.name: duplicate stage name ${preview(stage.name)}`);
    else seenStages.add(stage.name);
    if (stage.continueOnFailure !== undefined && typeof stage.continueOnFailure !== 'boolean') problems.push(`${at}.continueOnFailure: must be true or false`);
    if (!Array.isArray(stage.jobs) || stage.jobs.length === 0) {
      problems.push(`${at}.jobs: required, a non-empty list of job GUIDs`);
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

/** The jobs of a stage in one shape, GUIDs lower-cased, with the pipeline's defaults applied. */
export function stageJobs(definition: PipelineDefinition, stage: PipelineStage): PipelineJobSpec[] {
  return stage.jobs.map((job) => {
    const spec = typeof job === 'string' ? { jobId: job } : job;
    return {
      ...(definition.ccs === undefined ? {} : { ccs: definition.ccs }),
      ...(definition.pollInterval === undefined ? {} : { pollInterval: definition.pollInterval }),
      ...(definition.maxPollInterval === undefined ? {} : { maxPollInterval: definition.maxPollInterval }),
      ...spec,
      jobId: spec.jobId.toLowerCase(),
    };
  });
}
