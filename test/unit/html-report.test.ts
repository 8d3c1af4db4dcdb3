/**
 * The HTML report's renderer (no server): a run alone stays as it was; a redriven scan is one story,
 * a band per attempt in one timeline, carried jobs striped and linked to the attempt that ran them,
 * the stale-data gate's checks (window, run, age), every text escaped, nothing the CSP would block.
 */
import { describe, expect, it } from 'vitest';
import { renderPipelineReport, renderReportPage } from '../../src/evidence/html-report';
import { JOBS, redrivenScan } from '../redrive-reports';

const ROOT = `nightly-<b>"x'&`;
const { first, redrive, redriveId } = redrivenScan(ROOT);
const generatedAt = '2026-12-01T08:00:00.000Z';

const all = (html: string, re: RegExp): string[] => [...html.matchAll(new RegExp(re.source, 'g'))].map((m) => m[1] ?? m[0]);

describe('renderPipelineReport', () => {
  it('draws a run alone as before: one timeline row per job, no scan bands, the gate checks listed', () => {
    const html = renderPipelineReport({ workflowId: ROOT, report: first, generatedAt });
    expect(all(html, /<tr class="job" data-job-id="([^"]+)"/)).toEqual([JOBS.collect, JOBS.evalOk, JOBS.evalBad, JOBS.report]);
    expect(html).not.toContain('scan-timeline');
    expect(html).not.toContain('bar.carried');
    expect(all(html, /<tr class="freshness" data-stage="([^"]+)" data-fresh="true">/)).toEqual(['evaluate']);
    // Checked one second after the collection ended, against the run named.
    expect(html).toMatch(
      /<td>24h<\/td><td><code>c0ffee00-0000-4000-8000-000000000001<\/code><br>ended 2026-12-01T05:00:00.000Z<\/td><td>[^<]+<\/td><td>1s<\/td>/,
    );
    // A scan of one attempt is a run alone.
    expect(renderPipelineReport({ workflowId: ROOT, report: first, generatedAt, attempts: [{ workflowId: ROOT, report: first }] })).toBe(
      html,
    );
  });

  it('draws every attempt of a redriven scan in one timeline, carried jobs marked and linked to the attempt that ran them', () => {
    const html = renderPipelineReport({
      workflowId: redriveId,
      report: redrive,
      generatedAt,
      attempts: [
        { workflowId: ROOT, report: first },
        { workflowId: redriveId, report: redrive },
      ],
    });
    expect(all(html, /<tbody class="lane" data-attempt="(\d+)">/)).toEqual(['0', '1']);
    const rows = all(
      html,
      /<tr (class="job[^"]*" data-attempt="\d+" data-job-id="[^"]+" data-outcome="[a-z]+"(?: data-carried-from="\d+")?)>/,
    );
    expect(rows).toEqual([
      `class="job" data-attempt="0" data-job-id="${JOBS.collect}" data-outcome="completed"`,
      `class="job" data-attempt="0" data-job-id="${JOBS.evalOk}" data-outcome="completed"`,
      `class="job" data-attempt="0" data-job-id="${JOBS.evalBad}" data-outcome="faulted"`,
      `class="job" data-attempt="0" data-job-id="${JOBS.report}" data-outcome="skipped"`,
      `class="job carried" data-attempt="1" data-job-id="${JOBS.collect}" data-outcome="completed" data-carried-from="0"`,
      `class="job carried" data-attempt="1" data-job-id="${JOBS.evalOk}" data-outcome="completed" data-carried-from="0"`,
      `class="job" data-attempt="1" data-job-id="${JOBS.evalBad}" data-outcome="completed"`,
      `class="job" data-attempt="1" data-job-id="${JOBS.report}" data-outcome="completed"`,
    ]);
    expect(all(html, /<div class="(bar carried)"/)).toHaveLength(2);
    // Every in-page link lands on an element of the page: carried jobs point at the first attempt's rows.
    const links = all(html, /href="#([^"]+)"/);
    expect(links).toEqual(expect.arrayContaining([`a0-${JOBS.collect}`, `a0-${JOBS.evalOk}`, 'attempt-0', 'attempt-1']));
    const ids = new Set(all(html, / id="([^"]+)"/));
    expect(links.filter((l) => !ids.has(l))).toEqual([]);
    // Per attempt: how it came to be, its status, what it ran and what it carried.
    const summaries = all(
      html,
      /<tr class="attempt-summary" data-attempt="(\d+)"[\s\S]*?<td class="ran">(\d+)<\/td><td class="carried">(\d+)<\/td>/,
    );
    expect(summaries).toEqual(['0', '1']);
    expect(html).toMatch(/data-attempt="0"[^>]*>.*first run.*>Failed<\/span>.*<td class="ran">3<\/td><td class="carried">0<\/td>/);
    expect(html).toMatch(
      /data-attempt="1"[^>]*>.*redrive of nightly-&lt;b&gt;&quot;x&#39;&amp;: unfinished jobs.*>Completed<\/span>.*<td class="ran">2<\/td><td class="carried">2<\/td>/,
    );
    // The gate was checked again at redrive time: two hours after the carried collection ended.
    expect(all(html, /<tr class="freshness" data-stage="([^"]+)"/)).toEqual(['evaluate', 'evaluate']);
    expect(html).toMatch(/<td>2026-12-01T07:00:01.000Z<\/td><td>2h1s<\/td>/);
    expect(html).toContain(`<title>nightly &lt;scan&gt;: Completed</title>`);
  });

  it('escapes every text and keeps the page closed: CSP, no script, no URL to fetch', () => {
    const html = renderPipelineReport({
      workflowId: redriveId,
      report: redrive,
      generatedAt,
      attempts: [{ workflowId: ROOT, report: first }],
    });
    // The page's own attempt is added when the list given lacks it.
    expect(all(html, /<tbody class="lane" data-attempt="(\d+)">/)).toEqual(['0', '1']);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; form-action 'none'; base-uri 'none'; style-src 'unsafe-inline'">`,
    );
    expect(html).not.toMatch(/<script|<img|\bsrc=|href="(?!#)|url\(/i);
    expect(html).toContain('Credential expired: &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Collect &lt;all&gt; &quot;assets&quot;');
    expect(html).not.toContain(ROOT);
    expect(html).toContain('nightly-&lt;b&gt;&quot;x&#39;&amp;');
  });

  it('evidence export pages: a redriven scan among other runs gets the scan style once', () => {
    const html = renderReportPage('export', [
      { workflowId: 'other', report: first, generatedAt },
      { workflowId: redriveId, report: redrive, generatedAt, attempts: [{ workflowId: ROOT, report: first }] },
    ]);
    expect(all(html, /<section class="(pipeline(?: scan)?)"/)).toEqual(['pipeline', 'pipeline scan']);
    expect(all(html, /(\.bar\.carried\{)/)).toHaveLength(1);
  });
});
