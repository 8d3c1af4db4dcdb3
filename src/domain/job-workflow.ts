/**
 * The `runCcsJob` workflow's shapes: its input and how it is validated (by the workflow, first
 * thing, and by the CLI before it starts anything), its result, and what its `status` query says.
 * Pure: workflows import it.
 */
import { DEFAULT_EXPECTED_FACTOR, MAX_EXPECTED_FACTOR, MIN_EXPECTED_FACTOR, type LateInfo } from './duration-alert';
import type { Attention } from './errors';
import type { PauseState } from './pause';
import type { JobRun, JobRunMessage, OmittedFromRun } from './job-run';
import {
  formatDuration,
  invalidInput,
  isGuid,
  parseDuration,
  preview,
  requireGuid,
  validateServerName,
  type DurationInput,
} from './validation';

export interface RunCcsJobInput {
  /** The CCS job to run (GUID). */
  jobId: string;
  /** Which configured CCS server runs the job (the worker's CCS_SERVERS_FILE names). Default "default". */
  ccs?: string;
  /** First wait between polls. Default "30s". */
  pollInterval?: DurationInput;
  /** Polls slow down toward this while nothing changes. Default the larger of pollInterval and "5m". */
  maxPollInterval?: DurationInput;
  /** Deadline for the whole run; when it passes the run is aborted and the workflow fails `CcsJobTimedOut`. */
  timeout?: DurationInput;
  /** What to do when the job already has a run in progress: fail (default) or follow that run. */
  ifRunning?: 'fail' | 'attach';
  /** How long to wait for CCS to report an aborted run as ended before failing `CcsAbortUnconfirmed`. Default "5m". */
  abortConfirmTimeout?: DurationInput;
  /**
   * How soon another worker takes over the watch of a run whose worker died (short poll intervals are
   * polled inside one heartbeating activity). Default "60s"; from 5s to 10m.
   */
  heartbeatTimeout?: DurationInput;
  /**
   * How long a run is expected to take: a duration, or "auto" (the p95 of the job's last completed
   * runs × expectedDurationFactor). A run that goes on longer is flagged late (`status`, `CcsLate`,
   * a metric, one WARN log), never aborted: `timeout` stays the hard limit.
   */
  expectedDuration?: DurationInput; // or "auto"
  /** With expectedDuration "auto": the margin over the p95 (default 1.5, from 1 to 10). */
  expectedDurationFactor?: number;
  /**
   * Read the run's messages while it goes: on every Nth status read, and after a read that saw a
   * change (default 4; 0: only at the end). New ones appear in `status` (`messages`, `messageCount`).
   */
  liveMessagesEvery?: number;
  /**
   * How long the run may report a status outside the documented codes 0–7 (an undocumented integer
   * or name) before it is flagged for attention (`CcsUnknownStatus`); it is still followed, and a
   * known status clears the flag. Default "15m".
   */
  unknownStatusAttentionAfter?: DurationInput;
  /** Who asked for the run (a person or a system), for the evidence record; at most 200 characters. */
  requestedBy?: string;
  /** Internal: state carried across continue-as-new. Never set it yourself. */
  resume?: RunCcsJobResume;
}

/** State a `runCcsJob` execution hands to its continuation. */
export interface RunCcsJobResume {
  /** The run as last read from CCS: the one followed, handed over as it is, not rebuilt. */
  run: JobRun;
  adopted: boolean;
  polls: number;
  /** Epoch milliseconds of the deadline, if any. */
  deadlineAt: number | null;
  lastChangeAt: string;
  /** Since when (ISO-8601) the run has reported a status outside 0–7; absent while its status is known. */
  unknownStatusSince?: string;
  /** When the run is expected to have ended (epoch ms), and on what basis; absent without an expectation. */
  expected?: { endAt: number; ms: number; basis: string };
  late?: LateInfo;
  paused?: PauseState;
  messages?: { total: number; recent: LiveMessage[] };
  /** The attention flag still set when the execution handed over: its clearing is announced once, by whichever execution sees it. */
  attention?: Attention;
}

/** A message read while the run goes, numbered in the order CCS listed it (1 = its first message). */
export interface LiveMessage {
  seq: number;
  time: string | null;
  text: string;
}

/** The `status` query's optional argument: only messages after this sequence number. */
export interface StatusQueryInput {
  messagesSince?: number;
}

export interface CancelInput {
  reason?: string;
}

export interface CancelledInfo {
  by: 'signal' | 'cancellation' | 'timeout';
  reason: string | null;
  at: string;
}

/** What `runCcsJob` returns (and attaches as failure details when the run Faulted, was Aborted or timed out). */
export interface RunCcsJobResult {
  jobId: string;
  jobRunId: string;
  status: string;
  statusCode: number | null;
  startTime: string | null;
  endTime: string | null;
  summary: string | null;
  exception: string | null;
  customStatusText: string | null;
  activities: unknown[];
  messages: JobRunMessage[];
  /** Status reads made while following the run. */
  polls: number;
  /** True when this workflow followed a run it did not start (after an ambiguous execute, or `ifRunning: 'attach'`). */
  adopted: boolean;
  cancelled?: CancelledInfo;
  /** What was cut from CCS's answer to keep the result bounded (docs/reliability.md), when anything was. */
  omitted?: OmittedFromRun;
  /** Display-only fields CCS wrote in a form the client cannot read, kept raw (README, "Dialects"). */
  unreadable?: Record<string, string>;
  /** Set when the run went on longer than its expected duration (it still ended with this status). */
  late?: LateInfo;
}

/** `paused`: holding on a `pause` signal or a maintenance window; nothing is sent to CCS. */
export type RunCcsJobPhase = 'starting' | 'running' | 'paused' | 'cancelling' | 'finished';

export interface RunCcsJobStatus {
  phase: RunCcsJobPhase;
  jobId: string;
  jobRunId?: string;
  status?: string;
  statusCode?: number | null;
  customStatusText?: string | null;
  lastChangeAt?: string;
  polls: number;
  cancelReason?: string | null;
  /** Set while the run cannot be followed for a reason that needs a person; it is still retried. */
  attention?: Attention;
  /** What the run is expected to take, when an expectedDuration was given (and, for "auto", the history allowed one). */
  expected?: { ms: number; basis: string; endBy: string };
  /** Set once the run has gone on longer than expected. */
  late?: LateInfo;
  /** Set while a pause is in effect (phase `paused` once the wait in flight has stopped). */
  paused?: PauseState;
  /** How many messages CCS has listed for the run so far (read while it goes). */
  messageCount?: number;
  /** The latest of them (at most 50), or with `messagesSince` only the newer ones. */
  messages?: LiveMessage[];
}

/** Input with durations resolved to milliseconds and defaults applied. */
export interface ValidRunCcsJobInput {
  jobId: string;
  ccs: string;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  timeoutMs: number | null;
  ifRunning: 'fail' | 'attach';
  abortConfirmTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /** Every how many reads messages are read while the run goes (0: never). */
  liveMessagesEvery: number;
  unknownStatusAttentionAfterMs: number;
  /** A fixed expectation, "auto" with its factor, or none. */
  expected: { ms: number } | { auto: number } | null;
  resume: RunCcsJobResume | null;
}

export const DEFAULT_POLL_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_POLL_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_ABORT_CONFIRM_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 60_000;
export const DEFAULT_UNKNOWN_STATUS_ATTENTION_AFTER_MS = 15 * 60_000;
const MIN_HEARTBEAT_TIMEOUT_MS = 5_000;
const MAX_HEARTBEAT_TIMEOUT_MS = 10 * 60_000;
// Temporal schedules activity retries (our polls) with about one second of resolution.
const MIN_POLL_INTERVAL_MS = 1_000;
const MIN_TIMEOUT_MS = 1_000;
/** Upper bounds on what a caller may ask for (issue "secrets never leave": bounds everywhere a user types). */
export const MAX_POLL_INTERVAL_MS = 86_400_000; // 1 day
export const MAX_TIMEOUT_MS = 366 * 86_400_000; // 1 year
/** An input object deeper or larger than this is refused before anything else is read. */
const MAX_INPUT_DEPTH = 6;
const MAX_INPUT_NODES = 200;
const MAX_INPUT_TEXT = 4_096;
const KNOWN_FIELDS = [
  'jobId',
  'ccs',
  'pollInterval',
  'maxPollInterval',
  'timeout',
  'ifRunning',
  'abortConfirmTimeout',
  'heartbeatTimeout',
  'expectedDuration',
  'expectedDurationFactor',
  'liveMessagesEvery',
  'unknownStatusAttentionAfter',
  'requestedBy',
  'resume',
];
export const DEFAULT_LIVE_MESSAGES_EVERY = 4;

function validateExpected(input: Partial<RunCcsJobInput>): ValidRunCcsJobInput['expected'] {
  const { expectedDuration, expectedDurationFactor } = input;
  if (expectedDurationFactor !== undefined) {
    if (expectedDuration !== 'auto')
      throw invalidInput('expectedDurationFactor applies only to expectedDuration "auto"; remove it or set expectedDuration to "auto"');
    if (
      typeof expectedDurationFactor !== 'number' ||
      !(expectedDurationFactor >= MIN_EXPECTED_FACTOR && expectedDurationFactor <= MAX_EXPECTED_FACTOR)
    ) {
      throw invalidInput(
        `expectedDurationFactor must be a number from ${MIN_EXPECTED_FACTOR} to ${MAX_EXPECTED_FACTOR} (the margin over the p95 of past runs); got ${preview(expectedDurationFactor)}`,
      );
    }
  }
  if (expectedDuration === undefined) return null;
  if (expectedDuration === 'auto') return { auto: expectedDurationFactor ?? DEFAULT_EXPECTED_FACTOR };
  const ms = optionalDuration('expectedDuration', expectedDuration, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
  return ms === undefined ? null : { ms };
}

function optionalDuration(field: string, value: unknown, min: number, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(field, value);
  if (ms < min) throw invalidInput(`${field} must be at least ${min} ms; got ${preview(value)}`);
  if (ms > max) throw invalidInput(`${field} must be at most ${formatDuration(max)}; got ${preview(value)}`);
  return ms;
}

/**
 * Refuses inputs of unreasonable depth, size or string length before reading any field: walked
 * without recursion, so a 20,000-deep object is one clear error, not a stack overflow.
 */
function checkShape(raw: unknown): void {
  const stack: [unknown, number][] = [[raw, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++nodes > MAX_INPUT_NODES)
      throw invalidInput(
        `input is too large (more than ${MAX_INPUT_NODES} values); a runCcsJob input is a few fields like {"jobId": "<GUID>"}`,
      );
    if (typeof value === 'string' && value.length > MAX_INPUT_TEXT)
      throw invalidInput(`input holds a text of ${value.length} characters (at most ${MAX_INPUT_TEXT})`);
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_INPUT_DEPTH)
      throw invalidInput(
        `input is nested too deeply (more than ${MAX_INPUT_DEPTH} levels); a runCcsJob input is a few fields like {"jobId": "<GUID>"}`,
      );
    for (const child of Object.values(value as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
}

function validateResume(value: unknown): RunCcsJobResume | null {
  if (value === undefined || value === null) return null;
  const r = value as Partial<RunCcsJobResume>;
  if (
    typeof value !== 'object' ||
    typeof r.run !== 'object' ||
    r.run === null ||
    !isGuid(r.run.jobRunId) ||
    typeof r.polls !== 'number' ||
    typeof r.run.status !== 'string'
  ) {
    throw invalidInput('resume is internal to continue-as-new and must not be set by callers; remove it');
  }
  return value as RunCcsJobResume;
}

/**
 * Checks every field of a `runCcsJob` input; throws `CcsInvalidInput` naming the first bad field.
 * The shape check leaves out `resume`: only a continuation may carry it (the workflow refuses it from
 * anyone else), and the run and messages it hands over are bounded where they were read.
 */
export function validateRunCcsJobInput(raw: unknown): ValidRunCcsJobInput {
  checkShape(typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, resume: undefined } : raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidInput(`input must be an object like {"jobId": "<GUID>"}; got ${preview(raw)}`);
  }
  const input = raw as Record<string, unknown> & Partial<RunCcsJobInput>;
  const unknown = Object.keys(input).filter((k) => !KNOWN_FIELDS.includes(k));
  if (unknown.length > 0) {
    throw invalidInput(
      `unknown field ${preview(unknown[0])} in input; allowed fields: ${KNOWN_FIELDS.filter((f) => f !== 'resume').join(', ')}`,
    );
  }
  if (input.jobId === undefined) throw invalidInput('jobId is required: the GUID of the CCS job to run');
  const jobId = requireGuid('jobId', input.jobId);
  const ccs = validateServerName('ccs', input.ccs);
  const maxPoll = MAX_POLL_INTERVAL_MS;
  const pollIntervalMs = optionalDuration('pollInterval', input.pollInterval, MIN_POLL_INTERVAL_MS, maxPoll) ?? DEFAULT_POLL_INTERVAL_MS;
  const maxPollIntervalMs =
    optionalDuration('maxPollInterval', input.maxPollInterval, MIN_POLL_INTERVAL_MS, maxPoll) ??
    Math.max(pollIntervalMs, DEFAULT_MAX_POLL_INTERVAL_MS);
  if (maxPollIntervalMs < pollIntervalMs) {
    throw invalidInput(
      `maxPollInterval (${preview(input.maxPollInterval)}) must not be shorter than pollInterval (${preview(input.pollInterval ?? '30s')})`,
    );
  }
  const timeoutMs = optionalDuration('timeout', input.timeout, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS) ?? null;
  const ifRunning = input.ifRunning ?? 'fail';
  if (ifRunning !== 'fail' && ifRunning !== 'attach') {
    throw invalidInput(`ifRunning must be "fail" or "attach"; got ${preview(input.ifRunning)}`);
  }
  const abortConfirmTimeoutMs =
    optionalDuration('abortConfirmTimeout', input.abortConfirmTimeout, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS) ?? DEFAULT_ABORT_CONFIRM_TIMEOUT_MS;
  const heartbeatTimeoutMs =
    optionalDuration('heartbeatTimeout', input.heartbeatTimeout, MIN_HEARTBEAT_TIMEOUT_MS, MAX_HEARTBEAT_TIMEOUT_MS) ??
    DEFAULT_HEARTBEAT_TIMEOUT_MS;
  const expected = validateExpected(input);
  const every = input.liveMessagesEvery;
  if (every !== undefined && (typeof every !== 'number' || !Number.isInteger(every) || every < 0 || every > 1000)) {
    throw invalidInput(`liveMessagesEvery must be a whole number from 0 (messages only at the end) to 1000; got ${preview(every)}`);
  }
  const liveMessagesEvery = every ?? DEFAULT_LIVE_MESSAGES_EVERY;
  const unknownStatusAttentionAfterMs =
    optionalDuration('unknownStatusAttentionAfter', input.unknownStatusAttentionAfter, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS) ??
    DEFAULT_UNKNOWN_STATUS_ATTENTION_AFTER_MS;
  if (input.requestedBy !== undefined && (typeof input.requestedBy !== 'string' || input.requestedBy.length > 200)) {
    throw invalidInput(`requestedBy must be text of at most 200 characters (who asked for the run); got ${preview(input.requestedBy)}`);
  }
  return {
    jobId,
    ccs,
    pollIntervalMs,
    maxPollIntervalMs,
    timeoutMs,
    ifRunning,
    abortConfirmTimeoutMs,
    heartbeatTimeoutMs,
    liveMessagesEvery,
    unknownStatusAttentionAfterMs,
    expected,
    resume: validateResume(input.resume),
  };
}

/**
 * Validates a `runCcsJob` input for a caller that starts the workflow (CLI, schedules): throws
 * `CcsInvalidInput` like the workflow would, else returns the input to send, its JobID normalised.
 * Durations stay as the user wrote them, so history and messages read "8h", not milliseconds.
 */
export function checkedRunCcsJobInput(raw: RunCcsJobInput): RunCcsJobInput {
  return { ...raw, jobId: validateRunCcsJobInput(raw).jobId };
}
