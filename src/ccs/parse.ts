/**
 * Reads CCS response bodies into {@link JobRun} and {@link Job}. Tolerant where the documents allow
 * several readings (two JobStatusInfo shapes, an array, a wrapper or a single run, status as code
 * or name, dates as ISO with or without zone or as `/Date(…)/`, GUIDs in any dress), strict where a
 * wrong guess would mislead: the fields that decide (JobRunID, Status, JobEndTime) must be readable;
 * a display-only field that is not is kept raw and reported, never makes the run unreadable.
 */
import { CcsError, ErrorType } from '../domain/errors';
import { normalizeGuid } from '../domain/validation';
import { JOB_STATUS_NAMES, type Job, type JobRun, type JobRunMessage, type JobScope, type ResultsSummary } from '../domain/job-run';

const NOT_SET_YEAR = 1; // .NET DateTime.MinValue, "0001-01-01T00:00:00": the run has not ended.
const NOT_SET_MS = -62_135_596_800_000; // the same as milliseconds since 1970, as /Date(...)/ writes it
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:?\d{2})?$/i;
const MS_JSON_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;
const MAX_RAW = 200;

/** How one CCS server writes what it writes. */
export interface ReadingContext {
  /** IANA zone of dates written without an offset (server-local time). Default UTC. */
  timeZone?: string | undefined;
}

function protocolError(what: string): CcsError {
  return new CcsError(ErrorType.ProtocolError, `CCS sent a response this client cannot read: ${what}`);
}

/** Looks up a property without regard to case, as .NET serialisers and proxies vary. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Milliseconds to add to a wall-clock time read as UTC to get the instant, in `timeZone`. */
function zoneOffsetMs(utcGuess: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcGuess));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcGuess / 1000) * 1000;
}

/**
 * Parses a CCS date-time: ISO-8601 with 0–7 fraction digits, with `Z`, an offset or no zone (read as
 * the server's local time, `timeZone`, default UTC), or ASP.NET's `/Date(ms)/`. Returns ISO UTC text,
 * or null for "not set" (year 1) and absence. A date that is not a real date is a `CcsProtocolError`.
 */
export function parseCcsDate(value: unknown, context: ReadingContext = {}): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw protocolError(`a date-time was ${typeof value}`);
  const text = value.trim();
  const ms = MS_JSON_DATE.exec(text);
  if (ms) {
    const at = Number(ms[1]);
    if (at <= NOT_SET_MS) return null;
    const date = new Date(at);
    if (Number.isNaN(date.getTime())) throw protocolError(`invalid date-time ${JSON.stringify(text.slice(0, 40))}`);
    return date.toISOString();
  }
  const m = DATE_TIME.exec(text);
  if (!m) throw protocolError(`unreadable date-time ${JSON.stringify(value.slice(0, 40))}`);
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (year === NOT_SET_YEAR) return null;
  // Strict: a date that is not a real date is an unreadable answer, never rolled over into another one.
  const daysInMonth = new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate();
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw protocolError(`invalid date-time ${JSON.stringify(value.slice(0, 40))}`);
  }
  const millis = Number(frac.padEnd(3, '0').slice(0, 3));
  const wall = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millis));
  wall.setUTCFullYear(year, month - 1, day); // Date.UTC maps years 0–99 to 1900–1999
  let utc = wall.getTime();
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const [offH, offM] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (offH > 14 || offM > 59) throw protocolError(`invalid date-time offset ${JSON.stringify(value.slice(0, 40))}`);
    utc -= sign * (offH * 60 + offM) * 60_000;
  } else if (!zone && context.timeZone && context.timeZone !== 'UTC') {
    // Server-local wall time: find the instant whose local time in the zone is this one.
    const first = utc - zoneOffsetMs(utc, context.timeZone);
    utc = utc - zoneOffsetMs(first, context.timeZone);
  }
  if (Number.isNaN(utc)) throw protocolError(`invalid date-time ${JSON.stringify(value)}`);
  return new Date(utc).toISOString();
}

/** Reads `Status` as an integer code or a name in any case; unknown values are kept as text. */
export function parseStatus(value: unknown): { status: string; statusCode: number | null } {
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = JOB_STATUS_NAMES[value];
    return name ? { status: name, statusCode: value } : { status: String(value), statusCode: null };
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+$/.test(text)) return parseStatus(Number(text));
    const index = JOB_STATUS_NAMES.findIndex((n) => n.toLowerCase() === text.toLowerCase());
    if (index >= 0) return { status: JOB_STATUS_NAMES[index] as string, statusCode: index };
    if (text !== '') return { status: text.slice(0, 100), statusCode: null };
  }
  throw protocolError(`Status was ${JSON.stringify(value)}`);
}

/** Message fields under the names the reference assumes and tolerant variants. */
export const MESSAGE_TEXT_FIELDS = ['Message', 'Text', 'MessageText', 'Description', 'Msg'];
export const MESSAGE_TIME_FIELDS = ['Time', 'TimeStamp', 'Timestamp', 'MessageTime', 'Date', 'Created'];

/** The run's messages; `raw` when some carried no text under a known name (kept raw, bounded). */
function parseMessages(value: unknown, context: ReadingContext): { messages: JobRunMessage[]; raw: boolean } | undefined {
  if (!Array.isArray(value)) return undefined;
  let raw = false;
  const messages = value.map((item): JobRunMessage => {
    if (isRecord(item)) {
      const text = MESSAGE_TEXT_FIELDS.map((f) => field(item, f)).find((v) => v !== undefined && v !== null);
      const rawTime = MESSAGE_TIME_FIELDS.map((f) => field(item, f)).find((v) => v !== undefined && v !== null);
      let time: string | null = null;
      try {
        time = parseCcsDate(rawTime, context);
      } catch {
        time = null;
      }
      if (text === undefined) raw = true;
      return { time, text: text === undefined ? (JSON.stringify(item) ?? '').slice(0, MAX_RAW) : (optionalString(text) ?? '') };
    }
    return { time: null, text: String(item).slice(0, MAX_RAW) };
  });
  return { messages, raw };
}

/** The JobStatusInfo object itself, whether wrapped (`{"JobStatusInfo": {...}}`) or flat. */
function unwrap(body: unknown): unknown {
  if (isRecord(body)) {
    const wrapped = field(body, 'JobStatusInfo');
    if (isRecord(wrapped)) return wrapped;
  }
  return body;
}

/** Parses one JobStatusInfo, wrapped (`{"JobStatusInfo": {...}}`) or flat. */
export function parseJobStatusInfo(body: unknown, context: ReadingContext = {}): JobRun {
  const obj = unwrap(body);
  if (!isRecord(obj)) throw protocolError('expected a JobStatusInfo object');
  const jobRunId = normalizeGuid(field(obj, 'JobRunID'));
  const jobId = normalizeGuid(field(obj, 'JobID'));
  if (!jobRunId) throw protocolError(`JobRunID missing or not a GUID (${JSON.stringify(field(obj, 'JobRunID'))?.slice(0, 60)})`);
  if (!jobId) throw protocolError(`JobID missing or not a GUID (${JSON.stringify(field(obj, 'JobID'))?.slice(0, 60)})`);
  const unreadable: Record<string, string> = {};
  /** A display-only field: when it cannot be read, keep it raw and say so. */
  const display = <T>(name: string, read: (value: unknown) => T, fallback: T): T => {
    const value = field(obj, name);
    try {
      return read(value);
    } catch {
      unreadable[name] = (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, MAX_RAW);
      return fallback;
    }
  };
  const activities = field(obj, 'ActivityStatusList');
  if (activities !== undefined && activities !== null && !Array.isArray(activities))
    unreadable.ActivityStatusList = (JSON.stringify(activities) ?? '').slice(0, MAX_RAW);
  const run: JobRun = {
    jobRunId,
    jobId,
    ...parseStatus(field(obj, 'Status')),
    startTime: display('JobStartTime', (v) => parseCcsDate(v, context), null),
    endTime: parseCcsDate(field(obj, 'JobEndTime'), context),
    customStatusText: optionalString(field(obj, 'CustomStatusText')),
    exception: optionalString(field(obj, 'Exception')),
    summary: optionalString(field(obj, 'JobSummary')),
    activities: Array.isArray(activities) ? activities : [],
  };
  const messages = parseMessages(field(obj, 'Messages'), context);
  if (messages) {
    run.messages = messages.messages;
    if (messages.raw) unreadable.Messages = `no message text under ${MESSAGE_TEXT_FIELDS.join(', ')}: kept raw`;
  } else if (field(obj, 'Messages') !== undefined && field(obj, 'Messages') !== null)
    unreadable.Messages = (JSON.stringify(field(obj, 'Messages')) ?? '').slice(0, MAX_RAW);
  const errorCount = field(obj, 'ErrorCount');
  if (typeof errorCount === 'number') run.errorCount = errorCount;
  if (Object.keys(unreadable).length > 0) run.unreadable = unreadable;
  return run;
}

/** A run by its own fields: an object (or a wrapped one) with a GUID JobRunID. */
function looksLikeRun(value: unknown): boolean {
  const obj = unwrap(value);
  return isRecord(obj) && normalizeGuid(field(obj, 'JobRunID')) !== null;
}

/**
 * Parses the Get Latest Job Runs answer, in CCS's order (undocumented; callers order by time). Its shape is undocumented: an array, an
 * object wrapping one array of runs, or a single run are all read; "no runs" may be `null`, an
 * empty body (204), `[]`, `{}` or a wrapper whose list is empty. Runs are recognised by their own
 * fields (a GUID JobRunID and, when `jobId` is given, that JobID), so activity entries or other
 * arrays that happen to carry a JobRunID are never taken for runs.
 */
export function parseJobRuns(body: unknown, jobId?: string, context: ReadingContext = {}): JobRun[] {
  let list: unknown[];
  if (body === null || body === undefined || body === '') list = [];
  else if (Array.isArray(body)) list = body;
  else if (!isRecord(body)) throw protocolError('expected a list of job runs');
  else if (looksLikeRun(body)) list = [body];
  else {
    const arrays = Object.values(body).filter(Array.isArray);
    const ofRuns = arrays.filter((a) => a.length > 0 && a.some(looksLikeRun));
    if (ofRuns.length === 1) list = ofRuns[0]!;
    else if (ofRuns.length > 1) {
      // Two arrays of run-like objects: the runs are the ones of the requested job.
      const wanted = normalizeGuid(jobId);
      const ofJob = ofRuns.filter((a) =>
        a.some(
          (r) => wanted !== null && isRecord(unwrap(r)) && normalizeGuid(field(unwrap(r) as Record<string, unknown>, 'JobID')) === wanted,
        ),
      );
      if (ofJob.length !== 1) throw protocolError('the job runs answer holds several lists of runs');
      list = ofJob[0]!;
    } else if (Object.keys(body).length === 0 || arrays.length > 0) list = [];
    else throw protocolError('expected a list of job runs');
  }
  const wanted = jobId === undefined ? null : normalizeGuid(jobId);
  return list
    .filter((item) => {
      if (!looksLikeRun(item)) return false;
      if (wanted === null) return true;
      const own = normalizeGuid(field(unwrap(item) as Record<string, unknown>, 'JobID'));
      return own === wanted;
    })
    .map((item) => parseJobStatusInfo(item, context));
}

/** Parses a job definition (Search Job by ID). */
export function parseJob(body: unknown, context: ReadingContext = {}): Job {
  let obj = body;
  if (Array.isArray(obj) && obj.length === 1) obj = obj[0];
  if (isRecord(obj) && isRecord(field(obj, 'Job'))) obj = field(obj, 'Job');
  if (!isRecord(obj)) throw protocolError('expected a job object');
  const jobId = normalizeGuid(field(obj, 'JobID'));
  if (!jobId) throw protocolError('job without a JobID');
  const lastRunStatus = field(obj, 'LastRunStatus');
  let lastRunDate: string | null = null;
  try {
    lastRunDate = parseCcsDate(field(obj, 'LastRunDate'), context);
  } catch {
    lastRunDate = null;
  }
  return {
    jobId,
    name: optionalString(field(obj, 'JobName')),
    type: optionalString(field(obj, 'JobType')),
    lastRunStatus: lastRunStatus === undefined || lastRunStatus === null ? null : parseStatus(lastRunStatus).status,
    lastRunDate,
    raw: obj,
  };
}

/** Parses a job search answer (Search Job by Name): an array of jobs, a wrapper holding one, a single job, or "none" in any empty form. */
export function parseJobs(body: unknown, context: ReadingContext = {}): Job[] {
  if (body === null || body === undefined || body === '') return [];
  let list: unknown[];
  if (Array.isArray(body)) list = body;
  else if (!isRecord(body)) throw protocolError('expected a list of jobs');
  else if (normalizeGuid(field(body, 'JobID')) || isRecord(field(body, 'Job'))) list = [body];
  else {
    const arrays = Object.values(body).filter(Array.isArray);
    if (arrays.length > 1) throw protocolError('the job search answer holds several lists');
    list = arrays[0] ?? [];
  }
  return list.map((item) => parseJob(item, context));
}

/** Bounds on what a job's scope may name: beyond them the answer is taken as no scope this client reads. */
const MAX_SCOPE_ENTRIES = 10_000;

/**
 * The assets and standards of a job from its Search Job by ID answer (`JobDetails`, [D] for
 * collection and evaluation jobs; its shape [I]). Null when the job has no details (other job types).
 * An entry whose `Type` names an asset group is a group, to be resolved to its assets.
 */
export function parseJobScope(job: Record<string, unknown>): JobScope | null {
  const details = field(job, 'JobDetails');
  if (!isRecord(details)) return null;
  const resolution = field(details, 'AssetsResolutionInfo');
  const standards = field(details, 'Standards');
  const list = (v: unknown, what: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.length > MAX_SCOPE_ENTRIES)
      throw protocolError(`JobDetails.${what} is not a list of at most ${MAX_SCOPE_ENTRIES}`);
    return v;
  };
  const assets = list(resolution, 'AssetsResolutionInfo').map((entry) => {
    const id = isRecord(entry) ? normalizeGuid(field(entry, 'Id') ?? field(entry, 'ID')) : null;
    if (!id || !isRecord(entry)) throw protocolError('JobDetails.AssetsResolutionInfo holds an entry without a GUID Id');
    const type = optionalString(field(entry, 'Type'));
    return { id, type, group: type !== null && /assetgroup/i.test(type) };
  });
  const standardIds = list(standards, 'Standards').map((entry) => {
    const id = normalizeGuid(isRecord(entry) ? (field(entry, 'Id') ?? field(entry, 'StandardId')) : entry);
    if (!id) throw protocolError('JobDetails.Standards holds an entry that is no standard GUID');
    return id;
  });
  return { assets, standards: [...new Set(standardIds)] };
}

/** The assets of an asset group (`GET /AssetGroup/{id}/Assets`, [S]; shape [I]: a list, or a wrapper holding one). */
export function parseAssetList(body: unknown): { id: string; name: string | null; type: string | null }[] {
  let list: unknown = body;
  if (isRecord(body)) {
    const arrays = Object.values(body).filter(Array.isArray);
    if (arrays.length !== 1) throw protocolError('expected a list of assets');
    list = arrays[0];
  }
  if (body === null || body === undefined || body === '') return [];
  if (!Array.isArray(list) || list.length > MAX_SCOPE_ENTRIES)
    throw protocolError(`expected a list of at most ${MAX_SCOPE_ENTRIES} assets`);
  return list.map((entry) => {
    const id = isRecord(entry) ? normalizeGuid(field(entry, 'Id') ?? field(entry, 'AssetId')) : null;
    if (!id || !isRecord(entry)) throw protocolError('an asset of the group has no GUID Id');
    return { id, name: optionalString(field(entry, 'Name')), type: optionalString(field(entry, 'Type')) };
  });
}

/**
 * Counts a raw results answer (`POST /Results`, [S]; shape [I]) when it is a JSON list of checks with
 * a result each (`Checks`/`Results`/`CheckResults`, or the answer itself a list), `Result` or `Status`
 * read as pass, fail or not applicable in any case. Null for any other shape: the answer is kept as it
 * came and marked as not read, never guessed at.
 */
export function summarizeResults(body: unknown): ResultsSummary | null {
  let checks: unknown = body;
  if (isRecord(body)) checks = field(body, 'Checks') ?? field(body, 'CheckResults') ?? field(body, 'Results');
  if (!Array.isArray(checks) || !checks.every(isRecord)) return null;
  const summary: ResultsSummary = { evaluated: 0, passed: 0, failed: 0, notApplicable: 0, other: 0 };
  for (const check of checks) {
    const result = optionalString(field(check, 'Result') ?? field(check, 'Status') ?? field(check, 'Outcome'));
    if (result === null) return null;
    summary.evaluated++;
    const r = result.replace(/[\s_-]/g, '').toLowerCase();
    if (r === 'pass' || r === 'passed' || r === 'compliant') summary.passed++;
    else if (r === 'fail' || r === 'failed' || r === 'noncompliant') summary.failed++;
    else if (r === 'notapplicable' || r === 'na') summary.notApplicable++;
    else summary.other++;
  }
  return summary;
}
