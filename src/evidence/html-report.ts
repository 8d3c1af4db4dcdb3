/**
 * A report people would rather look at than read: one self-contained HTML page (inline CSS, no
 * script, no network fetch) per pipeline run: its stages and jobs as a timeline (a bar from start to
 * end, coloured by outcome), each job's status, duration, exception and messages, the stale-data
 * gate's checks, and a summary. A redriven scan is drawn as one story, every attempt in one timeline
 * (scan-report.ts). Every text from CCS or Temporal is escaped.
 */
import type { PipelineReport } from '../domain/pipeline';
import { formatDuration } from '../domain/validation';
import {
  BASE_STYLE,
  OUTCOME_COLOURS,
  type ScanAttemptPage,
  escape,
  freshnessTable,
  jobsOf,
  jobsTable,
  outcomeOf,
  statusColour,
  summaryList,
  time,
} from './report-parts';
import { SCAN_STYLE, scanSection } from './scan-report';

export { OUTCOME_COLOURS, outcomeOf, type Outcome, type ScanAttemptPage } from './report-parts';

export interface ReportPage {
  /** The pipeline workflow's id (and run), for the heading. */
  workflowId: string;
  report: PipelineReport;
  /** When the page was made, and from where (the evidence record's seq and hash, when from the chain). */
  generatedAt: string;
  source?: string;
  /**
   * Every attempt of the scan this run belongs to, oldest first (this one included; added when
   * missing). With more than one, the page draws the scan: one timeline with a band per attempt.
   */
  attempts?: ScanAttemptPage[];
}

/** One pipeline run's section: heading, summary, timeline and jobs. */
function pipelineSection(page: ReportPage): string {
  const { report } = page;
  const jobs = jobsOf(report);
  const starts = jobs.map((j) => time(j.job.startTime)).filter((t): t is number => t !== undefined);
  const ends = jobs.map((j) => time(j.job.endTime)).filter((t): t is number => t !== undefined);
  const from = Math.min(time(report.startedAt) ?? Infinity, ...starts);
  const to = Math.max(time(report.endedAt) ?? -Infinity, ...ends, ...starts);
  const span = Number.isFinite(from) && Number.isFinite(to) && to > from ? to - from : 1;
  const pct = (t: number): string => `${(((t - from) / span) * 100).toFixed(2)}%`;

  const rows = jobs
    .map(({ stage, job }) => {
      const outcome = outcomeOf(job);
      const start = time(job.startTime);
      const end = time(job.endTime) ?? (start !== undefined ? to : undefined);
      const bar =
        start !== undefined && end !== undefined
          ? `<div class="bar" style="left:${pct(start)};width:max(2px,calc(${pct(end)} - ${pct(start)}));background:${OUTCOME_COLOURS[outcome]}" title="${escape(`${job.startTime} → ${job.endTime ?? '…'}`)}"></div>`
          : `<div class="bar none" style="background:${OUTCOME_COLOURS[outcome]}"></div>`;
      return `<tr class="job" data-job-id="${escape(job.jobId)}" data-outcome="${escape(outcome)}"><td class="stage">${escape(stage)}</td><td class="name">${escape(job.name ?? job.jobId)}</td><td class="track">${bar}</td></tr>`;
    })
    .join('\n');

  const elapsed = Number.isFinite(from) && Number.isFinite(to) ? formatDuration(to - from) : '–';

  return `<section class="pipeline" data-workflow-id="${escape(page.workflowId)}">
<h1>${escape(report.name)} <span class="status pipeline-status" style="background:${statusColour(report.status)}">${escape(report.status)}</span></h1>
<div class="meta">workflow <code>${escape(page.workflowId)}</code> · started ${escape(report.startedAt)}${report.endedAt ? ` · ended ${escape(report.endedAt)}` : ''} · ${escape(elapsed)}${page.source ? ` · ${escape(page.source)}` : ''} · generated ${escape(page.generatedAt)}</div>
<ul class="summary" >${summaryList(jobs)}</ul>
<h2>Timeline</h2>
<table class="timeline" ><tbody>
${rows}
</tbody></table>
<h2>Jobs</h2>
${jobsTable(jobs)}
${freshnessTable(report.stages)}
</section>`;
}

/** Every attempt the page draws: those given, with the page's own run added when missing; empty for a run alone. */
function scanOf(page: ReportPage): ScanAttemptPage[] {
  const attempts = page.attempts ?? [];
  const all = attempts.some((a) => a.workflowId === page.workflowId)
    ? attempts
    : [...attempts, { workflowId: page.workflowId, report: page.report }];
  // A scan of one attempt is a run alone: the page stays as it was before redrives existed.
  return all.length > 1 ? all : [];
}

function section(page: ReportPage): string {
  const attempts = scanOf(page);
  return attempts.length > 1 ? scanSection({ ...page, attempts }) : pipelineSection(page);
}

/**
 * Nothing but the inline style: no script, no fetch, and no form or <base> that could send the page's
 * text elsewhere or re-point its links, should some markup ever get past the escaping.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; form-action 'none'; base-uri 'none'; style-src 'unsafe-inline'";

/** A self-contained page of one or more pipeline runs: no script, no fetch (its CSP forbids both). */
/** What the page says of the chain its records came from, checked when it was drawn. */
export interface ChainCheck {
  intact: boolean;
  text: string;
}

const CHECK_STYLE =
  '.chain-check{padding:.5em .8em;border-radius:4px;margin:0 0 1em}.chain-check.intact{background:#e8f5e9}.chain-check.broken{background:#fdecea;font-weight:bold}';

export function renderReportPage(title: string, pages: ReportPage[], check?: ChainCheck): string {
  const banner = check
    ? `<p class="chain-check ${check.intact ? 'intact' : 'broken'}" data-chain-intact="${check.intact}">${escape(check.text)}</p>\n`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>${escape(title)}</title>
<style>${BASE_STYLE}${check ? CHECK_STYLE : ''}${pages.some((p) => scanOf(p).length > 1) ? SCAN_STYLE : ''}</style></head>
<body>
${banner}${pages.map(section).join('\n')}
</body></html>
`;
}

/** The page of one pipeline run, or of every attempt of its scan when `attempts` are given. */
export function renderPipelineReport(page: ReportPage): string {
  const latest = page.attempts?.at(-1)?.report ?? page.report;
  return renderReportPage(`${page.report.name}: ${latest.status}`, [page]);
}
