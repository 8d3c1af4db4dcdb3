/**
 * A scan's attempts as its evidence records tell them (`ccs-jobs evidence show`, `evidence export
 * --format html`): the records of `<root>` and each `<root>/redrive-<n>`, oldest attempt first, each
 * with what it carried (and from which attempt) and what it ran itself. Reads records only.
 */
import type { EvidenceContent } from '../domain/evidence';
import type { PipelineJobState } from '../domain/pipeline';
import { attemptOf, scanRootId, type CarriedFrom, type RedriveMode, type RedriveOf } from '../domain/redrive';
import type { Chained } from '../evidence/chain';
import type { ReportPage } from '../evidence/html-report';
import { printable } from './terminal-text';

export type Sealed = EvidenceContent & Chained;

/** One attempt in `evidence show --json` (`{ rootWorkflowId, attempts: [...] }`). */
export interface EvidenceAttempt {
  /** 0 for the scan's first attempt, n for `/redrive-<n>`. */
  attempt: number;
  workflowId: string;
  runId: string;
  seq: number;
  hash: string;
  recordedAt: string;
  status: string;
  outcome: string;
  error: { type: string; message: string } | null;
  startTime: string | null;
  endTime: string | null;
  requestedBy: string | null;
  /** The attempt a redrive continued, and how it chose what to re-run; null for the first attempt. */
  redriveOf: RedriveOf | null;
  mode: RedriveMode | null;
  fromStage: number | null;
  automatic: boolean;
  /** Jobs taken from an earlier attempt as they were, with the attempt (and evidence key) that ran them. */
  carried: { jobId: string; jobRunId: string | null; from: CarriedFrom }[];
  /** Jobs this attempt ran itself (a redrive's re-run jobs), with how each ended. */
  ran: { jobId: string; jobRunId: string | null; workflowId: string; state: PipelineJobState | null }[];
  /** The record as stored. */
  record: Sealed;
}

/** Whether a record is an attempt of the scan `root` (its first run or a redrive). */
export function isAttemptOf(record: Sealed, root: string): boolean {
  return record.kind === 'pipeline' && scanRootId(record.workflowId) === root;
}

/** A pipeline record as an attempt of its scan: from its `redrive` part, else from its report's entries. */
export function attemptOfRecord(r: Sealed): EvidenceAttempt {
  const jobs = (r.pipeline?.stages ?? []).flatMap((s) => s.jobs);
  const stateOf = (jobId: string): PipelineJobState | null => jobs.find((j) => j.jobId === jobId)?.state ?? null;
  const info = r.pipeline?.redrive;
  const carried =
    r.redrive?.carried ?? jobs.flatMap((j) => (j.carried ? [{ jobId: j.jobId, jobRunId: j.jobRunId ?? null, from: j.carried }] : []));
  const ran =
    r.redrive?.rerun.map((j) => ({ ...j, state: stateOf(j.jobId) })) ??
    jobs
      .filter((j) => !j.carried && j.state !== 'pending' && j.state !== 'skipped')
      .map((j) => ({ jobId: j.jobId, jobRunId: j.jobRunId ?? null, workflowId: j.workflowId, state: j.state }));
  return {
    attempt: r.redrive?.attempt ?? info?.attempt ?? attemptOf(r.workflowId),
    workflowId: r.workflowId,
    runId: r.runId,
    seq: r.seq,
    hash: r.hash,
    recordedAt: r.recordedAt,
    status: r.status,
    outcome: r.outcome,
    error: r.error,
    startTime: r.startTime,
    endTime: r.endTime,
    requestedBy: r.startedBy.requestedBy ?? null,
    redriveOf: r.redrive?.of ?? info?.of ?? null,
    mode: info?.mode ?? (r.redrive ? 'unfinished' : null),
    fromStage: info?.fromStage ?? null,
    automatic: info?.automatic === true,
    carried,
    ran,
    record: r,
  };
}

/** The attempts of a scan among `records`, first attempt first (runs of one attempt in chain order). */
export function scanAttemptsOf(records: Sealed[], root: string): EvidenceAttempt[] {
  return records
    .filter((r) => isAttemptOf(r, root))
    .map(attemptOfRecord)
    .sort((a, b) => a.attempt - b.attempt || a.seq - b.seq);
}

function howOf(a: EvidenceAttempt): string {
  if (!a.redriveOf) return 'first run';
  const mode =
    a.mode === 'only-failed' ? 'failed jobs only' : a.mode === 'from-stage' ? `from stage ${a.fromStage ?? '?'}` : 'unfinished jobs';
  return `redrive of ${a.redriveOf.workflowId} (${mode}${a.automatic ? ', automatic' : ''})`;
}

/** `evidence show` of a scan, for people: each attempt, what it carried and what it ran. */
export function attemptsText(root: string, asked: string, attempts: EvidenceAttempt[]): string {
  const latest = attempts[attempts.length - 1];
  const lines = [
    `scan ${printable(root)}: ${attempts.length} attempt(s)${latest ? `, latest ${printable(latest.workflowId)} ${printable(latest.status)}` : ''}`,
  ];
  if (!attempts.some((a) => a.workflowId === asked)) lines.push(`no evidence record for ${printable(asked)} yet: it has not closed`);
  for (const a of attempts) {
    lines.push(
      '',
      `attempt ${a.attempt}  ${printable(a.workflowId)}  run ${printable(a.runId)}  record ${a.seq}`,
      `  ${printable(a.status)} (${printable(a.outcome)})  ${printable(howOf(a))}  started ${printable(a.startTime ?? '-')}  ended ${printable(a.endTime ?? '-')}`,
    );
    if (a.error) lines.push(`  error: ${printable(`${a.error.type}: ${a.error.message}`)}`);
    lines.push(`  carried ${a.carried.length}${a.carried.length ? ':' : ''}`);
    for (const c of a.carried)
      lines.push(
        `    ${printable(c.jobId)}  run ${printable(c.jobRunId ?? '-')}  from attempt ${c.from.attempt} (${printable(c.from.workflowId)}${c.from.evidenceKey ? `, evidence ${printable(c.from.evidenceKey)}` : ''})`,
      );
    lines.push(`  ${a.redriveOf ? 're-ran' : 'ran'} ${a.ran.length}${a.ran.length ? ':' : ''}`);
    for (const j of a.ran)
      lines.push(
        `    ${printable(j.jobId)}  ${printable(j.state ?? '-')}  run ${printable(j.jobRunId ?? '-')}  ${printable(j.workflowId)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The HTML pages of the pipeline records `selected`: one per scan, drawing every attempt `all`
 * holds of it (the latest run of each); a scan of one attempt is its record's page, as before.
 */
export function exportPages(selected: Sealed[], all: Sealed[], generatedAt: string): ReportPage[] {
  const pages: ReportPage[] = [];
  const drawn = new Set<string>();
  for (const r of selected) {
    if (r.kind !== 'pipeline' || !r.pipeline) continue;
    const root = scanRootId(r.workflowId);
    const latestRuns = new Map<number, EvidenceAttempt>();
    for (const a of scanAttemptsOf(all, root)) if (a.record.pipeline) latestRuns.set(a.attempt, a);
    const attempts = [...latestRuns.values()];
    if (attempts.length <= 1) {
      pages.push({
        workflowId: r.workflowId,
        report: r.pipeline,
        generatedAt,
        source: `evidence record ${r.seq}, ${r.hash.slice(0, 16)}…`,
      });
      continue;
    }
    if (drawn.has(root)) continue;
    drawn.add(root);
    const latest = attempts[attempts.length - 1]!;
    pages.push({
      workflowId: latest.workflowId,
      report: latest.record.pipeline!,
      generatedAt,
      source: `evidence records ${attempts.map((a) => `${a.seq} (${a.hash.slice(0, 16)}…)`).join(', ')}`,
      attempts: attempts.map((a) => ({ workflowId: a.workflowId, report: a.record.pipeline! })),
    });
  }
  return pages;
}
