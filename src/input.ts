/**
 * Validation of `runCcsJob` input, shared by the workflow (first thing it does) and the CLI (before
 * it starts anything). Pure: workflows import it.
 */
import type { RunCcsJobInput, RunCcsJobResume } from './contract';
import { invalidInput, isGuid, parseDuration, preview, requireGuid } from './validation';

/** Input with durations resolved to milliseconds and defaults applied. */
export interface ValidRunCcsJobInput {
  jobId: string;
  ccs: string;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  timeoutMs: number | null;
  ifRunning: 'fail' | 'attach';
  abortConfirmTimeoutMs: number;
  resume: RunCcsJobResume | null;
}

export const DEFAULT_POLL_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_POLL_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_ABORT_CONFIRM_TIMEOUT_MS = 5 * 60_000;
// Temporal schedules activity retries (our polls) with about one second of resolution.
const MIN_POLL_INTERVAL_MS = 1_000;
const MIN_TIMEOUT_MS = 1_000;
/** A CCS server name as the worker's configuration file may define it. */
export const CCS_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const KNOWN_FIELDS = ['jobId', 'ccs', 'pollInterval', 'maxPollInterval', 'timeout', 'ifRunning', 'abortConfirmTimeout', 'resume'];

function optionalDuration(field: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(field, value);
  if (ms < min) throw invalidInput(`${field} must be at least ${min} ms; got ${preview(value)}`);
  return ms;
}

function validateResume(value: unknown): RunCcsJobResume | null {
  if (value === undefined || value === null) return null;
  const r = value as Partial<RunCcsJobResume>;
  if (typeof value !== 'object' || !isGuid(r.jobRunId) || typeof r.polls !== 'number' || typeof r.status !== 'string') {
    throw invalidInput('resume is internal to continue-as-new and must not be set by callers; remove it');
  }
  return value as RunCcsJobResume;
}

/** A `ccs` server name, or "default" when absent. */
export function validateServerName(field: string, value: unknown): string {
  if (value === undefined) return 'default';
  if (typeof value !== 'string' || !CCS_SERVER_NAME.test(value)) {
    throw invalidInput(`${field} must name a configured CCS server (letters, digits, '.', '_' or '-', e.g. "default" or "emea"); got ${preview(value)}`);
  }
  return value;
}

/** Checks every field of a `runCcsJob` input; throws `CcsInvalidInput` naming the first bad field. */
export function validateRunCcsJobInput(raw: unknown): ValidRunCcsJobInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidInput(`input must be an object like {"jobId": "<GUID>"}; got ${preview(raw)}`);
  }
  const input = raw as Record<string, unknown> & Partial<RunCcsJobInput>;
  const unknown = Object.keys(input).filter((k) => !KNOWN_FIELDS.includes(k));
  if (unknown.length > 0) {
    throw invalidInput(`unknown field ${preview(unknown[0])} in input; allowed fields: ${KNOWN_FIELDS.filter((f) => f !== 'resume').join(', ')}`);
  }
  if (input.jobId === undefined) throw invalidInput('jobId is required: the GUID of the CCS job to run');
  const jobId = requireGuid('jobId', input.jobId);
  const ccs = validateServerName('ccs', input.ccs);
  const pollIntervalMs = optionalDuration('pollInterval', input.pollInterval, MIN_POLL_INTERVAL_MS) ?? DEFAULT_POLL_INTERVAL_MS;
  const maxPollIntervalMs =
    optionalDuration('maxPollInterval', input.maxPollInterval, MIN_POLL_INTERVAL_MS) ?? Math.max(pollIntervalMs, DEFAULT_MAX_POLL_INTERVAL_MS);
  if (maxPollIntervalMs < pollIntervalMs) {
    throw invalidInput(`maxPollInterval (${preview(input.maxPollInterval)}) must not be shorter than pollInterval (${preview(input.pollInterval ?? '30s')})`);
  }
  const timeoutMs = optionalDuration('timeout', input.timeout, MIN_TIMEOUT_MS) ?? null;
  const ifRunning = input.ifRunning ?? 'fail';
  if (ifRunning !== 'fail' && ifRunning !== 'attach') {
    throw invalidInput(`ifRunning must be "fail" or "attach"; got ${preview(input.ifRunning)}`);
  }
  const abortConfirmTimeoutMs = optionalDuration('abortConfirmTimeout', input.abortConfirmTimeout, MIN_TIMEOUT_MS) ?? DEFAULT_ABORT_CONFIRM_TIMEOUT_MS;
  return { jobId, ccs, pollIntervalMs, maxPollIntervalMs, timeoutMs, ifRunning, abortConfirmTimeoutMs, resume: validateResume(input.resume) };
}
