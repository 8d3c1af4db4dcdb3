/**
 * The current details a workflow shows in the Temporal UI (`setCurrentDetails`, answered by the
 * `__temporal_workflow_metadata` query). Set only when the text shown changes: a status change, an
 * attention, late, pause or resume, the end. The details live in the workflow's memory, not in its
 * history: setting them adds no event, and a replay rebuilds them from the same steps. Workflow
 * code: deterministic, no I/O.
 */
import { setCurrentDetails } from '@temporalio/workflow';
import type { RunCcsJobStatus } from '../domain/contract';
import { jobDetails, waitingText, type JobDetailsView } from '../domain/ui-summary';

/** The details last set, so an unchanged state is not set again. */
export class CurrentDetails {
  private shown: string | undefined;

  /** Sets `markdown` as the current details unless it is what they already say; true when it changed them. */
  show(markdown: string): boolean {
    if (markdown === this.shown) return false;
    this.shown = markdown;
    setCurrentDetails(markdown);
    return true;
  }
}

/** What a `runCcsJob` in this state waits for, in a few words (none once it has finished). */
export function waitsFor(s: RunCcsJobStatus, pollIntervalMs: number): string | undefined {
  // A pause holds whatever the phase (the wait in flight is stopping): nothing goes on until it ends.
  if (s.paused && s.phase !== 'finished' && s.phase !== 'cancelling') return resumeText(s);
  switch (s.phase) {
    case 'starting':
      return 'the run to start in CCS';
    case 'running':
      return s.attention ? `CCS to answer again, retried every ${Math.round(pollIntervalMs / 1000)} s` : waitingText(pollIntervalMs);
    case 'paused':
      return resumeText(s);
    case 'cancelling':
      return 'CCS to confirm the abort';
    default:
      return undefined;
  }
}

/** The details' parts from the `status` query's answer: only names, states and times (ui-summary says why). */
export function jobDetailsView(s: RunCcsJobStatus, pollIntervalMs: number): JobDetailsView {
  const waiting = waitsFor(s, pollIntervalMs);
  return {
    phase: s.phase,
    ...(s.status === undefined ? {} : { status: s.status, customStatusText: s.customStatusText ?? null }),
    ...(s.jobRunId === undefined ? {} : { jobRunId: s.jobRunId }),
    ...(s.lastChangeAt === undefined ? {} : { since: s.lastChangeAt }),
    ...(s.attention ? { attention: { type: s.attention.type, since: s.attention.since } } : {}),
    ...(s.late ? { late: { expected: formatMs(s.late.expectedMs) } } : {}),
    ...(s.paused ? { paused: { by: s.paused.by, since: s.paused.since, until: s.paused.until } } : {}),
    ...(waiting === undefined ? {} : { waitsFor: waiting }),
  };
}

/** The markdown a `runCcsJob` shows for this state. */
export function jobDetailsText(s: RunCcsJobStatus, pollIntervalMs: number): string {
  return jobDetails(jobDetailsView(s, pollIntervalMs));
}

function resumeText(s: RunCcsJobStatus): string {
  return s.paused?.by === 'maintenance' ? "the server's maintenance window to close" : 'a resume signal';
}

function formatMs(ms: number): string {
  const min = Math.round(ms / 60_000);
  return min < 120 ? `${min}m` : `${Math.round(min / 60)}h`;
}
