/**
 * What the stock Temporal UI shows of our workflows (user metadata): the static summary and details
 * given at start, the current details a running workflow keeps, and the summaries of its activities
 * and timers. Pure and bounded. Only names and states go in (job name, JobID, server, JobRunID,
 * status names, times, attention/late/paused words, what it waits for), never an input's secrets, an
 * attention message or a reason given by a person: metadata is stored in history and shown to anyone
 * who can read the namespace. Texts from CCS or from users are neutralised (no markdown, no controls).
 */
import type { PipelineReport } from './pipeline';

/** A workflow's static summary and an activity's or timer's summary: one line in the UI's list. */
export const MAX_SUMMARY_CHARS = 200;
/** Static and current details: a short markdown block, well under the server's metadata limits. */
export const MAX_DETAILS_BYTES = 2048;
/** One neutralised text (a job name, a custom status) inside a summary or details. */
const MAX_TEXT_CHARS = 80;

/**
 * A text from CCS or a user made safe to show: control and format characters dropped, whitespace
 * collapsed, markdown's active characters replaced (a name cannot become a link, an image or a
 * heading), cut to `max` characters with an ellipsis.
 */
export function neutral(text: string, max: number = MAX_TEXT_CHARS): string {
  const flat = text
    // eslint-disable-next-line no-control-regex -- the point is to drop them
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g, ' ')
    .replace(/[\\`*_[\]<>#|!~]/g, "'")
    .replace(/[()]/g, (c) => (c === '(' ? '❨' : '❩'))
    .replace(/\s+/g, ' ')
    .trim();
  return cut(flat, max);
}

/** A JobID or JobRunID shortened for a one-line summary ("4f74…"); GUIDs only, anything else neutralised. */
export function shortId(id: string): string {
  return /^[0-9a-f-]{8,}$/i.test(id) ? `${id.slice(0, 4)}…` : neutral(id, 12);
}

/** What started a workflow, as its static summary says. */
export type StartedByView =
  /** `command`: the ccs-jobs command that started it (default `run`). */
  | { kind: 'cli'; requestedBy?: string; command?: string }
  | { kind: 'schedule'; scheduleId: string }
  | { kind: 'pipeline'; pipeline: string }
  | { kind: 'reconcile' }
  | { kind: 'maintenance' };

export interface JobStartView {
  jobId: string;
  /** The configured server name (`ccs`); "default" when none was given. */
  ccs: string;
  /** The job's name in CCS, when the starter knows it (`--name`, a pipeline's job). */
  jobName?: string;
  startedBy: StartedByView;
}

/** "CCS job Nightly scan (2d0c…) on emea, by ccs-jobs run": at most MAX_SUMMARY_CHARS. */
export function jobSummary(v: JobStartView): string {
  const name = v.jobName ? `${neutral(v.jobName, 60)} (${shortId(v.jobId)})` : shortId(v.jobId);
  return cut(`CCS job ${name} on ${neutral(v.ccs, 40)}, ${startedByText(v.startedBy)}`, MAX_SUMMARY_CHARS);
}

/** The static details: job, JobID, server and starter, one markdown line each. */
export function jobStaticDetails(v: JobStartView): string {
  return details([
    ...(v.jobName ? [`**Job** ${neutral(v.jobName)}`] : []),
    `**JobID** ${code(v.jobId)}`,
    `**CCS server** ${neutral(v.ccs, 40)}`,
    `**Started** ${startedByText(v.startedBy)}`,
  ]);
}

/** The user metadata a `runCcsJob` start carries (client start, schedule action, child start): spread into its options. */
export function jobStartMetadata(v: JobStartView): { staticSummary: string; staticDetails: string } {
  return { staticSummary: jobSummary(v), staticDetails: jobStaticDetails(v) };
}

/** What a running `runCcsJob` shows now: the parts of its state the details are made of. */
export interface JobDetailsView {
  phase: string;
  status?: string;
  customStatusText?: string | null;
  jobRunId?: string;
  /** Since when the status shown holds (ISO-8601). */
  since?: string;
  attention?: { type: string; since: string };
  late?: { expected: string };
  paused?: { by: string; since: string; until: string | null };
  /** What the workflow waits for now, in a few words ("a status change, reads every 30 s"). */
  waitsFor?: string;
}

/** The current details: status, run, since, attention/late/paused, what it waits for; at most MAX_DETAILS_BYTES. */
export function jobDetails(v: JobDetailsView): string {
  const status = v.status
    ? `${neutral(v.status, 30)}${v.customStatusText ? ` ❨${neutral(v.customStatusText)}❩` : ''}`
    : `${neutral(v.phase, 20)}, no CCS run yet`;
  return details([
    `**Status** ${status}`,
    ...(v.jobRunId ? [`**Run** ${code(v.jobRunId)}`] : []),
    ...(v.since ? [`**Since** ${neutral(v.since, 30)}`] : []),
    ...(v.attention ? [`**Attention** ${neutral(v.attention.type, 40)} since ${neutral(v.attention.since, 30)}`] : []),
    ...(v.late ? [`**Late** longer than expected ❨${neutral(v.late.expected, 20)}❩`] : []),
    ...(v.paused
      ? [
          `**Paused** by ${neutral(v.paused.by, 20)} since ${neutral(v.paused.since, 30)}${v.paused.until ? ` until ${neutral(v.paused.until, 30)}` : ''}`,
        ]
      : []),
    ...(v.waitsFor ? [`**Waits for** ${neutral(v.waitsFor, 120)}`] : []),
  ]);
}

/** "a status change, next read in 30 s": what a wait for a run's change is told to show. */
export function waitingText(pollIntervalMs: number): string {
  return `a status change, next read in ${seconds(pollIntervalMs)}`;
}

/** Activity and timer summaries, one line each ("read run 4f74… on emea"). */
export const activitySummary = Object.freeze({
  listRuns: (jobId: string, ccs: string) => line(`list runs of job ${shortId(jobId)} on ${neutral(ccs, 40)}`),
  execute: (jobId: string, ccs: string) => line(`execute job ${shortId(jobId)} on ${neutral(ccs, 40)}`),
  findRun: (jobId: string, ccs: string) =>
    line(`look for the run a cancelled execute of job ${shortId(jobId)} started on ${neutral(ccs, 40)}`),
  wait: (jobRunId: string, ccs: string, pollIntervalMs: number) =>
    line(`wait for a status change of run ${shortId(jobRunId)} on ${neutral(ccs, 40)}, next read in ${seconds(pollIntervalMs)}`),
  read: (jobRunId: string, ccs: string) => line(`read run ${shortId(jobRunId)} on ${neutral(ccs, 40)}`),
  abort: (jobRunId: string, ccs: string) => line(`abort run ${shortId(jobRunId)} on ${neutral(ccs, 40)} and confirm`),
  sweep: (ccs: string, action: string) => line(`${neutral(action, 10)} the runs on ${neutral(ccs, 40)}`),
  windowWait: (ms: number) => line(`maintenance window open: next sweep in ${seconds(ms)}`),
});

/** A maintenance window's static summary. */
export function maintenanceSummary(ccs: string): string {
  return line(`maintenance window of CCS server ${neutral(ccs, 40)}, ${startedByText({ kind: 'maintenance' })}`);
}

/** A maintenance window's current details: open or ended, until when, how many runs it paused and resumed. */
export function maintenanceDetails(m: {
  state: string;
  since: string;
  until: string | null;
  paused: number;
  resumed: number;
  endedAt?: string;
}): string {
  return details([
    `**Maintenance** ${neutral(m.state, 10)} since ${neutral(m.since, 30)}${m.until ? ` until ${neutral(m.until, 30)}` : ''}`,
    `**Runs paused** ${m.paused}, **resumed** ${m.resumed}`,
    ...(m.endedAt ? [`**Ended** ${neutral(m.endedAt, 30)}`] : []),
    ...(m.state === 'open' ? ['**Waits for** the end signal or its until'] : []),
  ]);
}

/** A reconcile's static summary. */
export function reconcileSummary(ccs: string, policy: string, scheduleId?: string): string {
  return line(
    `reconcile CCS runs on ${neutral(ccs, 40)} (${neutral(policy, 10)}), ${scheduleId ? startedByText({ kind: 'schedule', scheduleId }) : 'by ccs-jobs reconcile'}`,
  );
}

/** A pipeline's static summary. */
export function pipelineSummary(name: string, startedBy: StartedByView): string {
  return line(`CCS pipeline ${neutral(name, 80)}, ${startedByText(startedBy)}`);
}

/** A pipeline's current details: its status, pause, and each stage's jobs counted by state. */
export function pipelineDetails(report: PipelineReport): string {
  const stages = report.stages.slice(0, 20).map((s) => {
    const counts = new Map<string, number>();
    for (const j of s.jobs) counts.set(String(j.state), (counts.get(String(j.state)) ?? 0) + 1);
    const text = [...counts].map(([state, n]) => `${n} ${neutral(state, 20)}`).join(', ');
    return `- ${neutral(s.name, 40)}: ${text || 'no jobs'}`;
  });
  return details([
    `**Pipeline** ${neutral(report.name, 80)}`,
    `**Status** ${neutral(report.status, 30)}`,
    `**Since** ${neutral(report.endedAt ?? report.startedAt, 30)}`,
    ...(report.paused ? [`**Paused** by ${neutral(report.paused.by, 20)} since ${neutral(report.paused.since, 30)}`] : []),
    ...stages,
  ]);
}

function startedByText(s: StartedByView): string {
  switch (s.kind) {
    case 'cli':
      return `by ccs-jobs ${neutral(s.command ?? 'run', 20)}${s.requestedBy ? ` for ${neutral(s.requestedBy, 40)}` : ''}`;
    case 'schedule':
      return `by schedule ${neutral(s.scheduleId, 60)}`;
    case 'pipeline':
      return `in pipeline ${neutral(s.pipeline, 60)}`;
    case 'reconcile':
      return 'adopted by a reconcile';
    case 'maintenance':
      return 'by ccs-jobs maintenance';
  }
}

/** An id in inline code, only when it is id-shaped (anything else could close the code span). */
function code(id: string): string {
  return /^[0-9A-Za-z._:-]{1,64}$/.test(id) ? `\`${id}\`` : neutral(id, 64);
}

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function line(text: string): string {
  return cut(text, MAX_SUMMARY_CHARS);
}

/** Markdown lines joined, cut to MAX_DETAILS_BYTES of UTF-8 at a line's end. */
function details(lines: string[]): string {
  let out = '';
  for (const l of lines) {
    const next = out === '' ? l : `${out}  \n${l}`;
    if (utf8Length(next) > MAX_DETAILS_BYTES - 4) return `${out}  \n…`;
    out = next;
  }
  return out;
}

function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** UTF-8 length without TextEncoder or Buffer: this module is used in workflow code too. */
function utf8Length(text: string): number {
  let n = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}
