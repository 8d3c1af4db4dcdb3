/**
 * How the simulated CCS writes its answers: .NET dates, `Status` as a code or a name, JobStatusInfo
 * and job definitions, and error bodies. The simulator's own serialisation: it shares nothing with
 * the client's parser in src/ccs.
 */
import type http from 'node:http';
import type { SimJob, SimRun, SimState } from './state';

export const API = '/ccs/api/v1';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const STATUS_NAMES = ['None', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'];
const STATUS_CODES: Record<string, number> = { none: 0, pending: 1, executing: 2, idle: 3, completed: 4, faulted: 5, custom: 6, aborted: 7 };
const NOT_ENDED = '0001-01-01T00:00:00';
const MAX_BODY = 1 << 20;

/** The CCS endpoint a request is for: request counts, fault targeting and the request log use it. */
export type Endpoint = 'token' | 'execute' | 'abort' | 'jobruns' | 'job' | 'other';

/** How the simulated CCS writes `Status`: the documented integer (default) or its name. */
export type StatusFormat = 'number' | 'name';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A refusal with CCS's status and message; answered as `{"Message": ...}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** .NET round-trip format with 7 fraction digits and Z, as in the vendor's sample; "not set" for null. */
export function ccsDate(ms: number | null): string {
  return ms === null ? NOT_ENDED : new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export function statusValue(status: string | number, format: StatusFormat | undefined): string | number {
  const code = typeof status === 'number' ? status : STATUS_CODES[status.toLowerCase()];
  if (format === 'name') return typeof status === 'number' ? (STATUS_NAMES[status] ?? status) : status;
  return code ?? status;
}

/** How a hostile simulator bends the runs it writes (faults.ts). */
export interface RunRendering {
  malformedDates?: boolean | undefined;
  activityStatusBytes?: number | undefined;
}

const BAD_DATE = '2024-13-45T99:99:99';

/** About `bytes` of activity entries of ~1 KiB each, shaped like per-asset activity records. */
function activityList(bytes: number): Record<string, unknown>[] {
  const entry = (i: number): Record<string, unknown> => ({ ActivityName: `Collect asset ${i}`, Status: 2, Detail: 'x'.repeat(960) });
  return Array.from({ length: Math.max(1, Math.ceil(bytes / 1024)) }, (_, i) => entry(i));
}

/** A run as CCS's JobStatusInfo, with ErrorCount and Messages when asked for. */
export function jobStatusInfo(state: SimState, run: SimRun, withMessages: boolean, format: StatusFormat | undefined, rendering: RunRendering = {}): Record<string, unknown> {
  const view = state.view(run);
  const statusText = String(view.status).toLowerCase();
  const info: Record<string, unknown> = {
    JobRunID: run.JobRunID,
    JobID: run.JobID,
    CustomStatusText: run.plan.customStatusText ?? '',
    Exception: statusText === 'faulted' || statusText === '5' ? (run.plan.exception ?? 'The job failed.') : null,
    JobStartTime: rendering.malformedDates ? BAD_DATE : ccsDate(run.startedAt),
    JobEndTime: ccsDate(view.endedAt),
    JobSummary: view.endedAt === null ? null : (run.plan.summary ?? null),
    Status: statusValue(view.status, format),
    ActivityStatusList: rendering.activityStatusBytes ? activityList(rendering.activityStatusBytes) : [],
  };
  if (withMessages) {
    const messages = run.plan.messages ?? [];
    info.ErrorCount = messages.length;
    info.Messages = messages.map((m) => ({ Time: m.Time ?? ccsDate(run.startedAt), Message: m.Message }));
  }
  return info;
}

/** A job as Search Job by ID answers it. */
export function jobDefinition(state: SimState, job: SimJob, format: StatusFormat | undefined): Record<string, unknown> {
  const latest = state.runsOf(job.JobID)[0];
  const view = latest ? state.view(latest) : undefined;
  return {
    JobID: job.JobID,
    JobName: job.JobName,
    JobType: job.JobType ?? 'CollectionEvaluationJob',
    JobCategory: 'User',
    LastRunStatus: view ? statusValue(view.status, format) : 0,
    LastRunDate: ccsDate(latest ? latest.startedAt : null),
  };
}

/** The request body as text; over 1 MiB is a 413. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new HttpError(413, 'The request body is too large.'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
