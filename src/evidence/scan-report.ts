/**
 * A redriven scan as one story for auditors: its first attempt and each `/redrive-<n>` in one
 * timeline on one time axis (a band per attempt; a carried job drawn striped at the times it really
 * ran, linked to the attempt that ran it), a summary per attempt, then each attempt's jobs and the
 * stale-data gate's checks. Pure, no script; every text is escaped.
 */
import type { PipelineReport } from '../domain/pipeline';
import { attemptOf, scanRootId } from '../domain/redrive';
import { formatDuration } from '../domain/validation';
import {
  OUTCOME_COLOURS,
  carriedMark,
  escape,
  freshnessTable,
  jobsOf,
  jobsTable,
  outcomeOf,
  statusColour,
  summaryList,
  time,
  type ScanAttemptPage,
  type StagedJob,
} from './report-parts';

export interface ScanPage {
  /** The attempt the page was asked for. */
  workflowId: string;
  generatedAt: string;
  source?: string;
  /** Every attempt of the scan (more than one). */
  attempts: ScanAttemptPage[];
}

interface Attempt extends ScanAttemptPage {
  n: number;
  jobs: StagedJob[];
}

/** The attempt's number: what its report says, else its workflow id's `/redrive-<n>`. */
function numberOf(a: ScanAttemptPage): number {
  // Drawn into ids, links and attributes unescaped: a record edited on disk may hold any text here.
  const n = a.report.redrive?.attempt;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : attemptOf(a.workflowId);
}

/** How an attempt came to be, in a few words. */
function howOf(report: PipelineReport): string {
  const r = report.redrive;
  if (!r) return 'first run';
  const mode =
    r.mode === 'only-failed' ? 'failed jobs only' : r.mode === 'from-stage' ? `from stage ${r.fromStage ?? '?'}` : 'unfinished jobs';
  return `redrive of ${r.of.workflowId}: ${mode}${r.automatic ? ' (automatic)' : ''}`;
}

/** Jobs the attempt ran itself (not carried, and not left pending or skipped). */
function ranBy(jobs: StagedJob[]): StagedJob[] {
  return jobs.filter(({ job }) => !job.carried && job.state !== 'pending' && job.state !== 'skipped');
}

function elapsedOf(report: PipelineReport): string {
  const from = time(report.startedAt);
  const to = time(report.endedAt);
  return from !== undefined && to !== undefined ? formatDuration(Math.max(0, to - from)) : '–';
}

function badge(status: PipelineReport['status'], cls: string): string {
  return `<span class="status ${cls}" style="background:${statusColour(status)}">${escape(status)}</span>`;
}

/** The scan's section: heading, per-attempt summary, one timeline of every attempt, then each attempt. */
export function scanSection(page: ScanPage): string {
  const attempts: Attempt[] = page.attempts.map((a) => ({ ...a, n: numberOf(a), jobs: jobsOf(a.report) })).sort((a, b) => a.n - b.n);
  const onPage = new Set(attempts.map((a) => a.n));
  const latest = attempts[attempts.length - 1]!;
  const root = latest.report.redrive?.rootWorkflowId ?? scanRootId(latest.workflowId);

  // One time axis for every attempt: a redrive that started hours later sits hours to the right.
  const points = attempts.flatMap((a) => [
    time(a.report.startedAt),
    time(a.report.endedAt),
    ...a.jobs.flatMap(({ job }) => [time(job.startTime), time(job.endTime)]),
  ]);
  const known = points.filter((t): t is number => t !== undefined);
  const from = known.length ? Math.min(...known) : 0;
  const to = known.length ? Math.max(...known) : 1;
  const span = to > from ? to - from : 1;
  const pct = (t: number): string => `${(((t - from) / span) * 100).toFixed(2)}%`;

  const summaries = attempts
    .map((a) => {
      const carried = a.jobs.filter(({ job }) => job.carried).length;
      return `<tr class="attempt-summary" data-attempt="${a.n}" data-workflow-id="${escape(a.workflowId)}"><td><a href="#attempt-${a.n}">${a.n}</a></td><td><code>${escape(a.workflowId)}</code></td><td>${escape(howOf(a.report))}</td><td>${badge(a.report.status, 'attempt-status')}</td><td>${escape(a.report.startedAt || '–')}</td><td>${escape(a.report.endedAt ?? '–')}</td><td>${escape(elapsedOf(a.report))}</td><td class="ran">${ranBy(a.jobs).length}</td><td class="carried">${carried}</td><td><ul class="summary">${summaryList(a.jobs)}</ul></td></tr>`;
    })
    .join('\n');

  const lanes = attempts
    .map((a) => {
      const rows = a.jobs
        .map(({ stage, job }) => {
          const outcome = outcomeOf(job);
          const start = time(job.startTime);
          const end = time(job.endTime) ?? (start !== undefined ? to : undefined);
          const cls = job.carried ? 'bar carried' : 'bar';
          const title = escape(`${job.carried ? 'carried: ' : ''}${job.startTime ?? '…'} → ${job.endTime ?? '…'}`);
          const bar =
            start !== undefined && end !== undefined
              ? `<div class="${cls}" style="left:${pct(start)};width:max(2px,calc(${pct(end)} - ${pct(start)}));background-color:${OUTCOME_COLOURS[outcome]}" title="${title}"></div>`
              : `<div class="${cls} none" style="background-color:${OUTCOME_COLOURS[outcome]}" title="${title}"></div>`;
          const carried = job.carried ? ` data-carried-from="${escape(String(job.carried.attempt))}"` : '';
          return `<tr class="job${job.carried ? ' carried' : ''}" data-attempt="${a.n}" data-job-id="${escape(job.jobId)}" data-outcome="${escape(outcome)}"${carried}><td class="stage">${escape(stage)}</td><td class="name">${escape(job.name ?? job.jobId)}${job.carried ? ` ${carriedMark(job, onPage)}` : ''}</td><td class="track">${bar}</td></tr>`;
        })
        .join('\n');
      return `<tbody class="lane" data-attempt="${a.n}">
<tr class="band"><th colspan="3"><a href="#attempt-${a.n}">Attempt ${a.n}</a> · ${escape(howOf(a.report))} · ${badge(a.report.status, 'lane-status')}</th></tr>
${rows}
</tbody>`;
    })
    .join('\n');

  const sections = attempts
    .map(
      (a) => `<section class="attempt" id="attempt-${a.n}" data-attempt="${a.n}" data-workflow-id="${escape(a.workflowId)}">
<h2>Attempt ${a.n}: <code>${escape(a.workflowId)}</code> ${badge(a.report.status, 'attempt-status')}</h2>
<div class="meta">${escape(howOf(a.report))} · started ${escape(a.report.startedAt || '–')}${a.report.endedAt ? ` · ended ${escape(a.report.endedAt)}` : ''} · ${escape(elapsedOf(a.report))} · ran ${ranBy(a.jobs).length}, carried ${a.jobs.filter(({ job }) => job.carried).length}</div>
<ul class="summary" >${summaryList(a.jobs)}</ul>
${jobsTable(a.jobs, a.n, onPage)}
${freshnessTable(a.report.stages)}
</section>`,
    )
    .join('\n');

  return `<section class="pipeline scan" data-workflow-id="${escape(page.workflowId)}" data-root-workflow-id="${escape(root)}">
<h1>${escape(latest.report.name)} ${badge(latest.report.status, 'pipeline-status')} <span class="attempt-count">${attempts.length} attempts</span></h1>
<div class="meta">scan <code>${escape(root)}</code> · asked for <code>${escape(page.workflowId)}</code> · ${escape(formatDuration(to - from))} from first start to last end${page.source ? ` · ${escape(page.source)}` : ''} · generated ${escape(page.generatedAt)}</div>
<h2>Attempts</h2>
<table class="attempts" ><thead><tr><th>#</th><th>Workflow</th><th>How</th><th>Status</th><th>Started</th><th>Ended</th><th>Elapsed</th><th>Ran</th><th>Carried</th><th>Jobs</th></tr></thead><tbody>
${summaries}
</tbody></table>
<h2>Timeline</h2>
<table class="timeline scan-timeline" >
${lanes}
</table>
${sections}
</section>`;
}

/** Added to the page's style when it draws a scan: bands, and carried bars striped over their colour. */
export const SCAN_STYLE = `
.scan-timeline tr.band th{background:#f5f5f5;font-weight:600;padding:6px}.attempt-count{font-size:13px;color:#616161;font-weight:400}
.bar.carried{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.6) 0 3px,transparent 3px 7px);outline:1px dashed #5d4037}
tr.job.carried td.name{color:#5d4037}section.attempt{margin:24px 0;border-top:2px solid #eee;padding-top:8px}
table.attempts ul.summary{margin:0;gap:8px}`;
