/**
 * Following a workflow from the CLI: live progress (one updating line on a terminal, a plain line
 * per change otherwise) and the final outcome with its exit code.
 */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure } from '@temporalio/common';
import { pipelineStatusQuery, statusQuery, type RunCcsJobResult, type RunCcsJobStatus } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import type { PipelineReport } from '../domain/pipeline';
import { formatDuration } from '../domain/validation';
import { ExitCode, elapsed } from './output';
import { printable } from './terminal-text';

const REFRESH_MS = 1000;

export interface Out {
  write: (text: string) => void;
  isTTY: boolean;
}

/** A progress line, and lines printed once above it (new CCS messages). */
interface Progress {
  text: string;
  notes: string[];
}

/**
 * Shows `line()` until `done` settles: redrawn in place on a terminal, printed on change otherwise;
 * its notes are printed once each, above the line.
 */
async function follow(out: Out, done: Promise<unknown>, line: () => Promise<Progress | undefined>): Promise<void> {
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let last = '';
  while (!finished) {
    const progress = await line().catch(() => undefined);
    if (progress !== undefined && !finished) {
      const { text, notes } = progress;
      if (notes.length > 0) out.write(`${out.isTTY ? '\r\x1b[2K' : ''}${notes.join('\n')}\n`);
      if (out.isTTY) out.write(`\r\x1b[2K${text}`);
      else if (text.replace(/^\[[^\]]*\] /, '') !== last.replace(/^\[[^\]]*\] /, '')) out.write(`${text}\n`);
      last = text;
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, REFRESH_MS))]);
  }
  if (out.isTTY && last) out.write('\r\x1b[2K');
}

/** A CCS status with its custom text, e.g. `Executing (collecting 3 of 12)`; empty before the first read. */
export function ccsStatusText(status: string | null | undefined, customStatusText: string | null | undefined): string {
  if (!status) return '';
  return `${printable(status)}${customStatusText ? ` (${printable(customStatusText)})` : ''}`;
}

/** The parts of a job's progress line, in order; the absent ones are left out. */
function jobLineParts(s: RunCcsJobStatus): string[] {
  return [
    s.phase,
    ccsStatusText(s.status, s.customStatusText),
    `polls ${s.polls}`,
    `run ${s.jobRunId ? printable(s.jobRunId) : '(starting)'}`,
    s.attention ? `NEEDS ATTENTION: ${printable(s.attention.type)}` : '',
    s.late ? `LATE (expected ${formatDuration(s.late.expectedMs)})` : '',
  ].filter(Boolean);
}

/** A job's progress line: `[1m05s] running · Executing · polls 4 · run <JobRunID>`. */
export function jobLine(s: RunCcsJobStatus, startedAt: Date | undefined): string {
  return `[${elapsed(startedAt)}] ${jobLineParts(s).join(' · ')}`;
}

/** One CCS message as printed: `message <time> <text>`, its text made printable. */
function messageLine(m: { time?: string | null | undefined; text: string }): string {
  return `message ${m.time ? `${printable(m.time)} ` : ''}${printable(m.text)}`;
}

/** CCS messages newer than `seen`, one line each, saying how many were skipped when more came than are kept. */
function messageNotes(s: RunCcsJobStatus, seen: number, indent: string): string[] {
  const fresh = (s.messages ?? []).filter((m) => m.seq > seen);
  if (fresh.length === 0) return [];
  const skipped = fresh[0]!.seq - seen - 1;
  return [
    ...(skipped > 0 ? [`${indent}(${skipped} earlier message(s) not shown)`] : []),
    ...fresh.map((m) => `${indent}${messageLine(m)}`),
  ];
}

function describeRun(r: RunCcsJobResult): string[] {
  const p = printable;
  const lines = [
    `${p(r.status)}: job ${p(r.jobId)} run ${p(r.jobRunId)}`,
    `  started ${p(r.startTime) || '-'}  ended ${p(r.endTime) || '-'}  polls ${r.polls}${r.adopted ? '  (adopted an existing run)' : ''}`,
  ];
  if (r.summary) lines.push(`  summary: ${p(r.summary)}`);
  if (r.customStatusText) lines.push(`  status text: ${p(r.customStatusText)}`);
  if (r.exception) lines.push(`  exception: ${p(r.exception)}`);
  for (const m of r.messages ?? []) lines.push(`  ${messageLine(m)}`);
  if (r.late)
    lines.push(`  late: ran longer than expected (${formatDuration(r.late.expectedMs)}, ${p(r.late.basis)}) since ${p(r.late.since)}`);
  if (r.cancelled)
    lines.push(`  cancelled by ${p(r.cancelled.by)}${r.cancelled.reason ? `: ${p(r.cancelled.reason)}` : ''} at ${p(r.cancelled.at)}`);
  return lines;
}

const EXIT_BY_TYPE: Record<string, number> = {
  [ErrorType.JobFaulted]: ExitCode.failed,
  [ErrorType.PipelineFailed]: ExitCode.failed,
  [ErrorType.StaleData]: ExitCode.failed,
  [ErrorType.JobAborted]: ExitCode.aborted,
  [ErrorType.JobTimedOut]: ExitCode.timedOut,
  [ErrorType.JobEndedUnexpectedly]: ExitCode.failed,
};

/**
 * Waits for a `runCcsJob` workflow, showing progress unless `json`; prints the outcome; returns the
 * exit code. `startedAt` (for the elapsed time) is read from Temporal when the caller does not know it.
 */
export async function waitForJob(handle: WorkflowHandle, out: Out, json: boolean, startedAt?: Date): Promise<number> {
  startedAt ??= (await handle.describe()).startTime;
  const done = handle.result() as Promise<RunCcsJobResult>;
  let seen = 0;
  if (!json) {
    await follow(out, done, async () => {
      const s = await handle.query(statusQuery, { messagesSince: seen });
      const notes = messageNotes(s, seen, '  ');
      seen = s.messageCount ?? seen;
      return { text: jobLine(s, startedAt), notes };
    });
  }
  try {
    const result = await done;
    out.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${describeRun(result).join('\n')}\n`);
    return result.status === 'Completed' ? ExitCode.ok : ExitCode.aborted;
  } catch (err) {
    return reportFailure(err, out, json, (details) => describeRun(details as RunCcsJobResult));
  }
}

function reportFailure(err: unknown, out: Out, json: boolean, describe: (details: unknown) => string[]): number {
  if (!(err instanceof WorkflowFailedError)) throw err;
  // The root cause names what went wrong: an activity's failure arrives wrapped ("Activity task failed").
  let cause = err.cause;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof CancelledFailure) {
    out.write(
      json
        ? `${JSON.stringify({ error: { type: 'Cancelled', message: cause.message } })}\n`
        : 'Cancelled: the workflow was cancelled; its CCS run was aborted\n',
    );
    return ExitCode.aborted;
  }
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : (cause?.name ?? 'Error');
  const message = cause?.message ?? err.message;
  const details = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  if (json) out.write(`${JSON.stringify({ error: { type, message }, ...(details ? { details } : {}) }, null, 2)}\n`);
  else {
    out.write(`${printable(type)}: ${printable(message)}\n`);
    if (details && typeof details === 'object' && ('jobRunId' in details || 'stages' in details))
      out.write(`${describe(details).join('\n')}\n`);
  }
  return EXIT_BY_TYPE[type] ?? ExitCode.error;
}

/** The pipeline report as text, with the live CCS status of each running job when `client` is given. */
export async function pipelineText(report: PipelineReport, client?: Client): Promise<string[]> {
  const p = printable;
  const lines = [
    `pipeline ${p(report.name)}: ${p(report.status)} (started ${p(report.startedAt)}${report.endedAt ? `, ended ${p(report.endedAt)}` : ''})`,
  ];
  for (const [i, stage] of report.stages.entries()) {
    lines.push(`  stage ${i + 1} ${p(stage.name)}: ${p(stage.state)}`);
    for (const job of stage.jobs) {
      let live = '';
      if (client && job.state === 'running') {
        const s = await client.workflow
          .getHandle(job.workflowId)
          .query(statusQuery)
          .catch(() => undefined);
        live = ccsStatusText(s?.status, s?.customStatusText);
      }
      const status = live || (job.status ? p(job.status) : '');
      const times = job.startTime ? ` · ${p(job.startTime)} → ${job.endTime ? p(job.endTime) : '…'}` : '';
      lines.push(
        `    ${p(job.jobId)}  ${p(job.state)}${status ? ` · ${status}` : ''}${job.jobRunId ? ` · run ${p(job.jobRunId)}` : ''}${times}`,
      );
      if (job.error) lines.push(`      ${p(job.error.type)}: ${p(job.error.message)}`);
      for (const m of job.messages ?? []) lines.push(`      ${messageLine(m)}`);
    }
  }
  return lines;
}

/**
 * Waits for a `runCcsPipeline` workflow, showing progress unless `json`; prints the report; returns
 * the exit code. `startedAt` is read from Temporal when the caller does not know it.
 */
export async function waitForPipeline(handle: WorkflowHandle, client: Client, out: Out, json: boolean, startedAt?: Date): Promise<number> {
  startedAt ??= (await handle.describe()).startTime;
  const done = handle.result() as Promise<PipelineReport>;
  if (!json) {
    const seen = new Map<string, number>();
    await follow(out, done, async () => {
      const report = await handle.query(pipelineStatusQuery);
      const stage = report.stages.find((s) => s.state === 'running') ?? [...report.stages].reverse().find((s) => s.state !== 'pending');
      if (!stage) return { text: `[${elapsed(startedAt)}] ${report.paused ? 'paused' : 'starting'}`, notes: [] };
      const notes: string[] = [];
      const jobs = await Promise.all(
        stage.jobs.map(async (j) => {
          const since = seen.get(j.workflowId) ?? 0;
          const s =
            j.state === 'running'
              ? await client.workflow
                  .getHandle(j.workflowId)
                  .query(statusQuery, { messagesSince: since })
                  .catch(() => undefined)
              : undefined;
          if (s) {
            const fresh = messageNotes(s, since, `  ${printable(j.jobId.slice(0, 8))} `);
            notes.push(...fresh);
            seen.set(j.workflowId, s.messageCount ?? since);
          }
          return `${printable(j.jobId.slice(0, 8))} ${s?.phase === 'paused' ? 'paused' : printable(s?.status ?? j.status ?? j.state)}`;
        }),
      );
      return {
        text: `[${elapsed(startedAt)}] stage ${report.stages.indexOf(stage) + 1}/${report.stages.length} ${printable(stage.name)}: ${jobs.join(', ')}${report.paused ? ' · PAUSED' : ''}`,
        notes,
      };
    });
  }
  try {
    const report = await done;
    out.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${(await pipelineText(report)).join('\n')}\n`);
    return report.status === 'Completed' ? ExitCode.ok : report.status === 'Cancelled' ? ExitCode.aborted : ExitCode.failed;
  } catch (err) {
    const lines: string[] = [];
    const code = reportFailure(err, { write: (t) => lines.push(t), isTTY: false }, json, () => []);
    out.write(lines.join(''));
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as PipelineReport | undefined) : undefined;
    if (!json && report?.stages) out.write(`${(await pipelineText(report)).join('\n')}\n`);
    return code;
  }
}
