/**
 * How the simulated CCS writes its answers: .NET dates, `Status` as a code or a name, JobStatusInfo
 * and job definitions, and error bodies. The simulator's own serialisation: it shares nothing with
 * the client's parser in src/ccs.
 */
import type http from 'node:http';
import { isAssetGroup, type SimJob, type SimRun, type SimState } from './state';

export const API = '/ccs/api/v1';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const STATUS_NAMES = ['None', 'Pending', 'Executing', 'Idle', 'Completed', 'Faulted', 'Custom', 'Aborted'];
const STATUS_CODES: Record<string, number> = {
  none: 0,
  pending: 1,
  executing: 2,
  idle: 3,
  completed: 4,
  faulted: 5,
  custom: 6,
  aborted: 7,
};
const NOT_ENDED = '0001-01-01T00:00:00';
const MAX_BODY = 1 << 20;

/**
 * The CCS endpoints a request can be for: request counts (`/__sim/stats`), fault targeting
 * (`SimFaults.endpoints`) and the request log use these names. `job` is Search Job by ID,
 * `assetgroup` the members of an asset group, `results` POST /Results, `reports` GET /Reports.
 */
export const ENDPOINTS = ['token', 'execute', 'abort', 'jobruns', 'job', 'jobsearch', 'assetgroup', 'results', 'reports', 'other'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** The job types whose definition carries configuration details (`JobDetails`), the reference §4. */
const CONFIGURED_JOB_TYPES = new Set(['collectionevaluationjob', 'collectionjob', 'evaluationjob']);

/** How the simulated CCS writes `Status`: the documented integer (default) or its name. */
export type StatusFormat = 'number' | 'name';

/**
 * How one CCS writes dates and GUIDs, where the documents allow several readings (README, "Dialects"):
 * `iso7` .NET round trip with 7 digits and Z (the vendor sample, default), `iso` milliseconds and Z,
 * `msjson` ASP.NET's `/Date(ms)/`, `local` server-local wall time without an offset (`timeZone`).
 */
export type DateFormat = 'iso7' | 'iso' | 'msjson' | 'local';
export type GuidFormat = 'lower' | 'upper' | 'braces' | 'nohyphens';

export interface Dialect {
  statusFormat?: StatusFormat | undefined;
  dateFormat?: DateFormat | undefined;
  /** The server's zone, for `local` dates. Default UTC. */
  timeZone?: string | undefined;
  guidFormat?: GuidFormat | undefined;
  /** The field names of a run's messages (the reference assumes Time and Message). */
  messageFields?: { time: string; text: string } | undefined;
}

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

/** A date as this dialect writes it; .NET's "not set" (MinValue) for null. */
export function ccsDate(ms: number | null, dialect: Dialect = {}): string {
  const format = dialect.dateFormat ?? 'iso7';
  if (format === 'msjson') return `/Date(${ms === null ? -62_135_596_800_000 : ms})/`;
  if (ms === null) return NOT_ENDED;
  if (format === 'iso') return new Date(ms).toISOString();
  if (format === 'local') return localWallTime(ms, dialect.timeZone ?? 'UTC');
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** The wall-clock time in `timeZone`, ISO-shaped, without an offset (what .NET writes for a local DateTime). */
function localWallTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}.${String(ms % 1000).padStart(3, '0')}`;
}

/** A GUID as this dialect writes it. */
export function ccsGuid(id: string, dialect: Dialect = {}): string {
  switch (dialect.guidFormat) {
    case 'upper':
      return id.toUpperCase();
    case 'braces':
      return `{${id}}`;
    case 'nohyphens':
      return id.replace(/-/g, '');
    default:
      return id;
  }
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
export function jobStatusInfo(
  state: SimState,
  run: SimRun,
  withMessages: boolean,
  dialect: Dialect,
  rendering: RunRendering = {},
): Record<string, unknown> {
  const format = dialect.statusFormat;
  const view = state.view(run);
  const statusText = String(view.status).toLowerCase();
  const info: Record<string, unknown> = {
    JobRunID: ccsGuid(run.JobRunID, dialect),
    JobID: ccsGuid(run.JobID, dialect),
    CustomStatusText: run.plan.customStatusText ?? '',
    Exception: statusText === 'faulted' || statusText === '5' ? (run.plan.exception ?? 'The job failed.') : null,
    JobStartTime: rendering.malformedDates ? BAD_DATE : ccsDate(run.startedAt, dialect),
    JobEndTime: rendering.malformedDates ? BAD_DATE : ccsDate(view.endedAt, dialect),
    JobSummary: view.endedAt === null ? null : (run.plan.summary ?? null),
    Status: statusValue(view.status, format),
    ActivityStatusList: rendering.activityStatusBytes ? activityList(rendering.activityStatusBytes) : [],
  };
  if (withMessages) {
    // Messages appear as the run goes: each at its AtSeconds, a stream one every everySeconds.
    const elapsedMs = (view.endedAt ?? Math.max(Date.now(), run.startedAt)) - run.startedAt;
    const names = dialect.messageFields ?? { time: 'Time', text: 'Message' };
    const rendered = (run.plan.messages ?? [])
      .filter((m) => (m.AtSeconds ?? 0) * 1000 <= elapsedMs)
      .map((m) => ({ [names.time]: m.Time ?? ccsDate(run.startedAt + (m.AtSeconds ?? 0) * 1000, dialect), [names.text]: m.Message }));
    const stream = run.plan.messageStream;
    if (stream) {
      const shown = Math.min(stream.count, Math.floor(elapsedMs / (stream.everySeconds * 1000)));
      for (let i = 1; i <= shown; i++)
        rendered.push({
          [names.time]: ccsDate(run.startedAt + i * stream.everySeconds * 1000, dialect),
          [names.text]: `${stream.text} #${i}`,
        });
    }
    info.ErrorCount = rendered.length;
    info.Messages = rendered;
  }
  return info;
}

/**
 * A job as Search Job by ID (and Search Jobs) answers it. Collection, evaluation and CER jobs also
 * carry `JobDetails: {AssetsResolutionInfo: [{Id, Type}], Standards: [GUID, …]}` (the reference §4:
 * "job properties and configuration details" for those types), empty lists when the job names none;
 * a group is listed as itself (its Type contains `AssetGroup`), not as its members.
 */
export function jobDefinition(state: SimState, job: SimJob, dialect: Dialect): Record<string, unknown> {
  const format = dialect.statusFormat;
  const latest = state.runsOf(job.JobID)[0];
  const view = latest ? state.view(latest) : undefined;
  const type = job.JobType ?? 'CollectionEvaluationJob';
  return {
    JobID: ccsGuid(job.JobID, dialect),
    JobName: job.JobName,
    JobType: type,
    JobCategory: 'User',
    LastRunStatus: view ? statusValue(view.status, format) : 0,
    LastRunDate: ccsDate(latest ? latest.startedAt : null, dialect),
    ...(CONFIGURED_JOB_TYPES.has(type.toLowerCase())
      ? {
          JobDetails: {
            AssetsResolutionInfo: (job.assets ?? []).map((a) => ({ Id: ccsGuid(a.Id.toLowerCase(), dialect), Type: assetType(a) })),
            Standards: (job.standards ?? []).map((id) => ccsGuid(id.toLowerCase(), dialect)),
          },
        }
      : {}),
  };
}

/** The asset type CCS names an asset (or group) by: its own, else a Unix machine (or a plain asset group). */
export function assetType(asset: { Type?: string | undefined; members?: unknown }): string {
  return asset.Type ?? (isAssetGroup(asset) ? 'symc-csm-AssetSystem-AssetGroup' : 'symc-csm-AssetSystem-Asset-Unix-Machine');
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
