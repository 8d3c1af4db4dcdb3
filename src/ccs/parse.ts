/**
 * Reads CCS response bodies into {@link JobRun} and {@link Job}. Lenient where the vendor's
 * documentation is ambiguous (two JobStatusInfo shapes, status as number or name, dates with or
 * without zone), strict where a wrong guess would mislead (a run without a JobRunID is an error).
 */
import { CcsError, ErrorType } from '../domain/errors';
import { isGuid } from '../domain/validation';
import { JOB_STATUS_NAMES, type Job, type JobRun, type JobRunMessage } from '../domain/job-run';

const NOT_SET_YEAR = 1; // .NET DateTime.MinValue, "0001-01-01T00:00:00": the run has not ended.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:?\d{2})?$/i;

function protocolError(what: string): CcsError {
  return new CcsError(ErrorType.ProtocolError, `CCS sent a response this client cannot read: ${what}`);
}

/** Looks up a property without regard to case, as .NET serialisers and proxies vary. */
function field(obj: Record<string, unknown>, name: string): unknown {
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

/**
 * Parses a CCS date-time: ISO-8601 with 0–7 fraction digits, with `Z`, an offset or no zone (read
 * as UTC; CCS documents no zone). Returns ISO UTC text, or null for "not set" (year 1) and absence.
 */
export function parseCcsDate(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw protocolError(`a date-time was ${typeof value}`);
  const m = DATE_TIME.exec(value.trim());
  if (!m) throw protocolError(`unreadable date-time ${JSON.stringify(value.slice(0, 40))}`);
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (year === NOT_SET_YEAR) return null;
  // Strict: a date that is not a real date is an unreadable answer, never rolled over into another one.
  const daysInMonth = new Date(Date.UTC(2000 + (year % 400), month, 0)).getUTCDate();
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    throw protocolError(`invalid date-time ${JSON.stringify(value.slice(0, 40))}`);
  }
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const [offH, offM] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
    if (offH > 14 || offM > 59) throw protocolError(`invalid date-time offset ${JSON.stringify(value.slice(0, 40))}`);
    offsetMin = sign * (offH * 60 + offM);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  const date = new Date(utc);
  // Date.UTC maps years 0–99 to 1900–1999; set the full year explicitly.
  if (year < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  if (Number.isNaN(date.getTime())) throw protocolError(`invalid date-time ${JSON.stringify(value)}`);
  return date.toISOString();
}

/** Reads `Status` as an integer code or a name in any case; unknown values are kept as text. */
export function parseStatus(value: unknown): { status: string; statusCode: number | null } {
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = JOB_STATUS_NAMES[value];
    return name ? { status: name, statusCode: value } : { status: String(value), statusCode: null };
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+$/.test(text)) return parseStatus(Number(text));
    const index = JOB_STATUS_NAMES.findIndex((n) => n.toLowerCase() === text.toLowerCase());
    if (index >= 0) return { status: JOB_STATUS_NAMES[index] as string, statusCode: index };
    if (text !== '') return { status: text.slice(0, 100), statusCode: null };
  }
  throw protocolError(`Status was ${JSON.stringify(value)}`);
}

function parseMessages(value: unknown): JobRunMessage[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item): JobRunMessage => {
    if (isRecord(item)) {
      const text = field(item, 'Message') ?? field(item, 'Text');
      let time: string | null = null;
      try {
        time = parseCcsDate(field(item, 'Time'));
      } catch {
        time = null;
      }
      return { time, text: optionalString(text) ?? JSON.stringify(item) };
    }
    return { time: null, text: String(item) };
  });
}

/** Parses one JobStatusInfo, wrapped (`{"JobStatusInfo": {...}}`) or flat. */
export function parseJobStatusInfo(body: unknown): JobRun {
  let obj = body;
  if (isRecord(obj)) {
    const wrapped = field(obj, 'JobStatusInfo');
    if (isRecord(wrapped)) obj = wrapped;
  }
  if (!isRecord(obj)) throw protocolError('expected a JobStatusInfo object');
  const jobRunId = field(obj, 'JobRunID');
  const jobId = field(obj, 'JobID');
  if (!isGuid(jobRunId)) throw protocolError(`JobRunID missing or not a GUID (${JSON.stringify(jobRunId)?.slice(0, 60)})`);
  if (!isGuid(jobId)) throw protocolError(`JobID missing or not a GUID (${JSON.stringify(jobId)?.slice(0, 60)})`);
  const activities = field(obj, 'ActivityStatusList');
  const run: JobRun = {
    jobRunId: jobRunId.toLowerCase(),
    jobId: jobId.toLowerCase(),
    ...parseStatus(field(obj, 'Status')),
    startTime: parseCcsDate(field(obj, 'JobStartTime')),
    endTime: parseCcsDate(field(obj, 'JobEndTime')),
    customStatusText: optionalString(field(obj, 'CustomStatusText')),
    exception: optionalString(field(obj, 'Exception')),
    summary: optionalString(field(obj, 'JobSummary')),
    activities: Array.isArray(activities) ? activities : [],
  };
  const messages = parseMessages(field(obj, 'Messages'));
  if (messages) run.messages = messages;
  const errorCount = field(obj, 'ErrorCount');
  if (typeof errorCount === 'number') run.errorCount = errorCount;
  return run;
}

/** Parses the Get Latest Job Runs answer: an array of JobStatusInfo, newest first. */
export function parseJobRuns(body: unknown): JobRun[] {
  let list = body;
  if (isRecord(list)) {
    // Tolerate an envelope such as {"JobRuns": [...]}: take the only array property.
    const arrays = Object.values(list).filter(Array.isArray);
    if (arrays.length === 1) list = arrays[0];
  }
  if (!Array.isArray(list)) throw protocolError('expected a list of job runs');
  return list.map(parseJobStatusInfo);
}

/** Parses a job definition (Search Job by ID). */
export function parseJob(body: unknown): Job {
  let obj = body;
  if (Array.isArray(obj) && obj.length === 1) obj = obj[0];
  if (isRecord(obj) && isRecord(field(obj, 'Job'))) obj = field(obj, 'Job');
  if (!isRecord(obj)) throw protocolError('expected a job object');
  const jobId = field(obj, 'JobID');
  if (!isGuid(jobId)) throw protocolError('job without a JobID');
  const lastRunStatus = field(obj, 'LastRunStatus');
  return {
    jobId: jobId.toLowerCase(),
    name: optionalString(field(obj, 'JobName')),
    type: optionalString(field(obj, 'JobType')),
    lastRunStatus: lastRunStatus === undefined || lastRunStatus === null ? null : parseStatus(lastRunStatus).status,
    lastRunDate: parseCcsDate(field(obj, 'LastRunDate')),
    raw: obj,
  };
}
