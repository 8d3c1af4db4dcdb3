/**
 * The pieces both report pages are made of (one pipeline run, html-report.ts; a redriven scan,
 * scan-report.ts): outcome colours, escaping, a job table and the stale-data gate's checks. Pure.
 */
import type { PipelineJobReport, PipelineReport, PipelineStageReport } from '../domain/pipeline';
import { formatDuration } from '../domain/validation';

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

/** The colour of a pipeline's status badge. */
export function statusColour(status: PipelineReport['status']): string {
  return status === 'Completed' ? OUTCOME_COLOURS.completed : status === 'running' ? OUTCOME_COLOURS.running : OUTCOME_COLOURS.faulted;
}

/** Text made safe for HTML content and (quoted) attribute values. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Milliseconds of an ISO time; undefined when there is none or it does not parse. */
export function time(iso: string | null | undefined): number | undefined {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** One attempt of a scan (its first run, or `<root>/redrive-<n>`), as a page draws it. */
export interface ScanAttemptPage {
  workflowId: string;
  report: PipelineReport;
}

export interface StagedJob {
  stage: string;
  job: PipelineJobReport;
}

export function jobsOf(report: PipelineReport): StagedJob[] {
  return report.stages.flatMap((stage) => stage.jobs.map((job) => ({ stage: stage.name, job })));
}

/** The anchor of a job's row in an attempt's job table: carried jobs link to the attempt that ran them. */
export function jobAnchor(attempt: number, jobId: string): string {
  return `a${attempt}-${jobId.toLowerCase()}`;
}

/** How a carried job says where it comes from: a link when the attempt that ran it is on the page. */
export function carriedMark(job: PipelineJobReport, attemptsOnPage: ReadonlySet<number> | undefined): string {
  const from = job.carried;
  if (!from) return '';
  const label = escape(`carried from attempt ${from.attempt}`);
  const title = escape(`${from.workflowId} (run ${from.runId})${from.evidenceKey ? `, evidence ${from.evidenceKey}` : ''}`);
  return attemptsOnPage?.has(from.attempt)
    ? `<a class="carried-mark" href="#${escape(jobAnchor(from.attempt, job.jobId))}" title="${title}">${label}</a>`
    : `<span class="carried-mark" title="${title}">${label}</span>`;
}

export function summaryList(jobs: StagedJob[]): string {
  const counts = new Map<Outcome, number>();
  for (const { job } of jobs) counts.set(outcomeOf(job), (counts.get(outcomeOf(job)) ?? 0) + 1);
  return [...counts.entries()]
    .map(([o, n]) => `<li><span class="dot" style="background:${OUTCOME_COLOURS[o]}"></span>${n} ${escape(o)}</li>`)
    .join('');
}

/** Every job's outcome, duration, run, exception and messages; `attempt` gives the rows anchors. */
export function jobsTable(jobs: StagedJob[], attempt?: number, attemptsOnPage?: ReadonlySet<number>): string {
  const rows = jobs
    .map(({ stage, job }) => {
      const outcome = outcomeOf(job);
      const start = time(job.startTime);
      const end = time(job.endTime);
      const duration = start !== undefined && end !== undefined ? formatDuration(end - start) : '–';
      const messages = (job.messages ?? [])
        .map((m) => `<li>${m.time ? `<time>${escape(m.time)}</time> ` : ''}${escape(m.text)}</li>`)
        .join('');
      const anchor = attempt === undefined ? '' : ` id="${escape(jobAnchor(attempt, job.jobId))}"`;
      const carried = job.carried ? ` data-carried-from="${escape(String(job.carried.attempt))}"` : '';
      return `<tr${anchor} data-job-id="${escape(job.jobId)}" data-outcome="${escape(outcome)}"${carried}>
  <td>${escape(stage)}</td><td><code>${escape(job.jobId)}</code>${job.name ? `<br>${escape(job.name)}` : ''}</td>
  <td><span class="dot" style="background:${OUTCOME_COLOURS[outcome]}"></span>${escape(outcome)}${job.status ? ` (${escape(job.status)})` : ''}${job.carried ? `<br>${carriedMark(job, attemptsOnPage)}` : ''}</td>
  <td>${escape(duration)}</td><td><code>${escape(job.jobRunId ?? '–')}</code></td>
  <td>${job.exception ? `<div class="exception">${escape(job.exception)}</div>` : ''}${job.error ? `<div class="error">${escape(`${job.error.type}: ${job.error.message}`)}</div>` : ''}${messages ? `<ul class="messages">${messages}</ul>` : ''}</td>
</tr>`;
    })
    .join('\n');
  return `<table class="jobs" ><thead><tr><th>Stage</th><th>Job</th><th>Outcome</th><th>Duration</th><th>Run</th><th>Exception and messages</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** The stale-data gate's checks of every stage that has some (which window, against which run, how old); '' when none. */
export function freshnessTable(stages: PipelineStageReport[]): string {
  const rows = stages.flatMap((stage) =>
    (stage.freshness ?? []).map((check) => {
      const ended = time(check.endTime);
      const checked = time(check.checkedAt);
      const age = ended !== undefined && checked !== undefined ? formatDuration(Math.max(0, checked - ended)) : '–';
      const verdict = check.fresh ? 'fresh' : 'stale';
      return `<tr class="freshness" data-stage="${escape(stage.name)}" data-fresh="${check.fresh ? 'true' : 'false'}"><td>${escape(stage.name)}</td><td><code>${escape(check.jobId)}</code> on ${escape(check.ccs)}</td><td>${escape(check.within)}</td><td><code>${escape(check.jobRunId ?? 'no Completed run')}</code>${check.endTime ? `<br>ended ${escape(check.endTime)}` : ''}</td><td>${escape(check.checkedAt)}</td><td>${escape(age)}</td><td><span class="dot" style="background:${check.fresh ? OUTCOME_COLOURS.completed : OUTCOME_COLOURS.faulted}"></span>${verdict}</td></tr>`;
    }),
  );
  if (rows.length === 0) return '';
  return `<h3>Freshness checks</h3>
<table class="freshness" ><thead><tr><th>Stage</th><th>Collection</th><th>Window</th><th>Run checked</th><th>Checked at</th><th>Age</th><th>Result</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

export const BASE_STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121}
h1{font-size:20px;margin:0 0 4px}.meta{color:#616161;margin-bottom:16px}section.pipeline{margin-bottom:40px}
.status{display:inline-block;padding:2px 8px;border-radius:4px;color:#fff}
table{border-collapse:collapse;width:100%;margin:12px 0}td,th{border-bottom:1px solid #eee;padding:6px;text-align:left;vertical-align:top}
.timeline td.track{position:relative;width:60%;height:22px}.bar{position:absolute;top:5px;height:12px;border-radius:3px}.bar.none{left:0;width:2px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
ul.summary{list-style:none;padding:0;display:flex;gap:16px}.exception{color:#c62828}.error{color:#ad1457}
ul.messages{margin:4px 0;padding-left:18px;color:#424242}code{font-size:12px}
.carried-mark{font-size:12px;color:#5d4037}`;
