/**
 * A report people would rather look at than read: one self-contained HTML page (inline CSS, no
 * script, no network fetch) per pipeline run: its stages and jobs as a timeline (a bar from start to
 * end, coloured by outcome), each job's status, duration, exception and messages, and a summary.
 * Every text from CCS is escaped.
 */
import type { PipelineJobReport, PipelineReport } from '../domain/pipeline';
import { formatDuration } from '../domain/validation';

export interface ReportPage {
  /** The pipeline workflow's id (and run), for the heading. */
  workflowId: string;
  report: PipelineReport;
  /** When the page was made, and from where (the evidence record's seq and hash, when from the chain). */
  generatedAt: string;
  source?: string;
}

/** Outcome of a job as the page colours it. */
export type Outcome = 'completed' | 'faulted' | 'aborted' | 'failed' | 'cancelled' | 'skipped' | 'running' | 'pending';

export const OUTCOME_COLOURS: Readonly<Record<Outcome, string>> = {
  completed: '#2e7d32',
  faulted: '#c62828',
  failed: '#ad1457',
  aborted: '#ef6c00',
  cancelled: '#757575',
  skipped: '#bdbdbd',
  running: '#1565c0',
  pending: '#e0e0e0',
};

export function outcomeOf(job: PipelineJobReport): Outcome {
  if (job.state === 'failed') return job.status === 'Faulted' ? 'faulted' : job.status === 'Aborted' ? 'aborted' : 'failed';
  if (job.state === 'cancelled') return job.status === 'Aborted' ? 'aborted' : 'cancelled';
  return job.state;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const time = (iso: string | null | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
};

/** One pipeline run's section: heading, summary, timeline and jobs. */
function pipelineSection(page: ReportPage): string {
  const { report } = page;
  const jobs = report.stages.flatMap((stage, s) => stage.jobs.map((job) => ({ stage: stage.name, stageIndex: s, job })));
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
      return `<tr class="job" data-job-id="${escape(job.jobId)}" data-outcome="${outcome}"><td class="stage">${escape(stage)}</td><td class="name">${escape(job.name ?? job.jobId)}</td><td class="track">${bar}</td></tr>`;
    })
    .join('\n');

  const details = jobs
    .map(({ stage, job }) => {
      const outcome = outcomeOf(job);
      const start = time(job.startTime);
      const end = time(job.endTime);
      const duration = start !== undefined && end !== undefined ? formatDuration(end - start) : '–';
      const messages = (job.messages ?? [])
        .map((m) => `<li>${m.time ? `<time>${escape(m.time)}</time> ` : ''}${escape(m.text)}</li>`)
        .join('');
      return `<tr data-job-id="${escape(job.jobId)}" data-outcome="${outcome}">
  <td>${escape(stage)}</td><td><code>${escape(job.jobId)}</code>${job.name ? `<br>${escape(job.name)}` : ''}</td>
  <td><span class="dot" style="background:${OUTCOME_COLOURS[outcome]}"></span>${escape(outcome)}${job.status ? ` (${escape(job.status)})` : ''}</td>
  <td>${escape(duration)}</td><td><code>${escape(job.jobRunId ?? '–')}</code></td>
  <td>${job.exception ? `<div class="exception">${escape(job.exception)}</div>` : ''}${job.error ? `<div class="error">${escape(`${job.error.type}: ${job.error.message}`)}</div>` : ''}${messages ? `<ul class="messages">${messages}</ul>` : ''}</td>
</tr>`;
    })
    .join('\n');

  const counts = new Map<Outcome, number>();
  for (const { job } of jobs) counts.set(outcomeOf(job), (counts.get(outcomeOf(job)) ?? 0) + 1);
  const summary = [...counts.entries()]
    .map(([o, n]) => `<li><span class="dot" style="background:${OUTCOME_COLOURS[o]}"></span>${n} ${escape(o)}</li>`)
    .join('');
  const elapsed = Number.isFinite(from) && Number.isFinite(to) ? formatDuration(to - from) : '–';

  return `<section class="pipeline" data-workflow-id="${escape(page.workflowId)}">
<h1>${escape(report.name)} <span class="status pipeline-status" style="background:${report.status === 'Completed' ? OUTCOME_COLOURS.completed : report.status === 'running' ? OUTCOME_COLOURS.running : OUTCOME_COLOURS.faulted}">${escape(report.status)}</span></h1>
<div class="meta">workflow <code>${escape(page.workflowId)}</code> · started ${escape(report.startedAt)}${report.endedAt ? ` · ended ${escape(report.endedAt)}` : ''} · ${escape(elapsed)}${page.source ? ` · ${escape(page.source)}` : ''} · generated ${escape(page.generatedAt)}</div>
<ul class="summary" >${summary}</ul>
<h2>Timeline</h2>
<table class="timeline" ><tbody>
${rows}
</tbody></table>
<h2>Jobs</h2>
<table class="jobs" ><thead><tr><th>Stage</th><th>Job</th><th>Outcome</th><th>Duration</th><th>Run</th><th>Exception and messages</th></tr></thead><tbody>
${details}
</tbody></table>
</section>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121}
h1{font-size:20px;margin:0 0 4px}.meta{color:#616161;margin-bottom:16px}section.pipeline{margin-bottom:40px}
.status{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff}
table{border-collapse:collapse;width:100%;margin:12px 0}td,th{border-bottom:1px solid #eee;padding:6px;text-align:left;vertical-align:top}
.timeline td.track{position:relative;width:60%;height:22px}.bar{position:absolute;top:5px;height:12px;border-radius:3px}.bar.none{left:0;width:2px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
ul.summary{list-style:none;padding:0;display:flex;gap:16px}.exception{color:#c62828}.error{color:#ad1457}
ul.messages{margin:4px 0;padding-left:18px;color:#424242}code{font-size:12px}`;

/** A self-contained page of one or more pipeline runs: no script, no fetch (its CSP forbids both). */
export function renderReportPage(title: string, pages: ReportPage[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(title)}</title>
<style>${STYLE}</style></head>
<body>
${pages.map(pipelineSection).join('\n')}
</body></html>
`;
}

/** The page of one pipeline run. */
export function renderPipelineReport(page: ReportPage): string {
  return renderReportPage(`${page.report.name}: ${page.report.status}`, [page]);
}
