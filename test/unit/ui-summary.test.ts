/**
 * The user metadata builders (issue 32, part 1): every text is bounded, nothing secret goes in (the
 * builders take no field that could hold one), and texts from CCS or users cannot turn into markdown
 * links, images, headings or control sequences in the Temporal UI.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_DETAILS_BYTES,
  MAX_SUMMARY_CHARS,
  activitySummary,
  jobDetails,
  jobStartMetadata,
  jobSummary,
  maintenanceDetails,
  neutral,
  pipelineDetails,
  pipelineSummary,
  shortId,
} from '../../src/domain/ui-summary';
import { jobDetailsText, waitsFor } from '../../src/workflows/ui-details';
import type { RunCcsJobStatus } from '../../src/domain/contract';
import type { PipelineReport } from '../../src/domain/pipeline';

const JOB = '2d0c4f9e-1111-4222-8333-444455556666';
const RUN = '4f74aa01-aaaa-4bbb-8ccc-dddddddddddd';
const HOSTILE =
  '[click](http://evil.example/x) ![img](http://evil.example/i.png) # head\u001b[31m red\u0007 `code` <b>x</b> | a | \u202eevil';

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

describe('ui-summary', () => {
  it('summarises a job start in one short line: name, JobID, server, starter', () => {
    const m = jobStartMetadata({
      jobId: JOB,
      ccs: 'emea',
      jobName: 'Nightly PCI scan',
      startedBy: { kind: 'schedule', scheduleId: 'nightly' },
    });
    expect(m.staticSummary).toBe('CCS job Nightly PCI scan (2d0c…) on emea, by schedule nightly');
    expect(m.staticDetails).toContain(`**JobID** \`${JOB}\``);
    expect(m.staticDetails).toContain('**CCS server** emea');
    expect(m.staticDetails).toContain('**Job** Nightly PCI scan');
    expect(jobSummary({ jobId: JOB, ccs: 'default', startedBy: { kind: 'cli' } })).toBe('CCS job 2d0c… on default, by ccs-jobs run');
    expect(pipelineSummary('nightly', { kind: 'cli', command: 'pipeline run' })).toBe('CCS pipeline nightly, by ccs-jobs pipeline run');
  });

  it('neutralises text from CCS and users: no link, image, heading, code span, tag, table or control character', () => {
    const out = neutral(HOSTILE, 500);
    // eslint-disable-next-line no-control-regex -- control characters are what must not get through
    expect(out).not.toMatch(/[[\]()`<>#|!\u0000-\u001f\u007f\u202e]/);
    expect(out).toContain('click');
    const summary = jobSummary({ jobId: JOB, ccs: 'emea', jobName: HOSTILE, startedBy: { kind: 'cli', requestedBy: HOSTILE } });
    // eslint-disable-next-line no-control-regex -- an escape sequence must not get through
    expect(summary).not.toMatch(/\]\(|!\[|\u001b|<b>/);
    const details = jobDetails({ phase: 'running', status: 'Executing', customStatusText: HOSTILE, jobRunId: RUN });
    // eslint-disable-next-line no-control-regex -- an escape sequence must not get through
    expect(details).not.toMatch(/\]\(|!\[|\u001b|<b>|\n#/);
    expect(shortId('not-a-guid [x](y)')).not.toMatch(/[[\]()]/);
  });

  it('bounds every text: summaries to 200 characters, details to 2 KiB of UTF-8', () => {
    const long = '界'.repeat(5000);
    const views = [
      jobSummary({ jobId: JOB, ccs: long, jobName: long, startedBy: { kind: 'pipeline', pipeline: long } }),
      activitySummary.wait(long, long, 30_000),
      activitySummary.listRuns(long, long),
    ];
    for (const v of views) expect(Array.from(v).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    const d = jobStartMetadata({ jobId: long, ccs: long, jobName: long, startedBy: { kind: 'cli', requestedBy: long } }).staticDetails;
    expect(bytes(d)).toBeLessThanOrEqual(MAX_DETAILS_BYTES);
    const report: PipelineReport = {
      name: long,
      status: 'running',
      startedAt: '2026-12-01T20:00:00.000Z',
      stages: Array.from({ length: 20 }, (_, i) => ({
        name: `${long}${i}`,
        state: 'running',
        jobs: Array.from({ length: 50 }, (_, j) => ({ jobId: JOB, workflowId: `w${j}`, state: j % 2 ? 'running' : 'completed' })),
      })) as unknown as PipelineReport['stages'],
    };
    const pd = pipelineDetails(report);
    expect(bytes(pd)).toBeLessThanOrEqual(MAX_DETAILS_BYTES);
    expect(pd.endsWith('…')).toBe(true);
  });

  it('shows a job run: status, run, since, attention, late, paused and what it waits for, never an attention message or a pause reason', () => {
    const status: RunCcsJobStatus = {
      phase: 'paused',
      jobId: JOB,
      jobRunId: RUN,
      status: 'Executing',
      statusCode: 2,
      customStatusText: null,
      lastChangeAt: '2026-12-01T20:00:00.000Z',
      polls: 4,
      attention: { type: 'CcsAuthFailed', message: 'password=hunter2 refused', since: '2026-12-01T20:01:00.000Z' },
      late: { since: '2026-12-01T20:02:00.000Z', expectedMs: 45 * 60_000, basis: 'fixed' },
      paused: { by: 'signal', reason: 'token=abc secret reason', since: '2026-12-01T20:03:00.000Z', until: null, holdDeadline: false },
    };
    const text = jobDetailsText(status, 30_000);
    expect(text).toContain('**Status** Executing');
    expect(text).toContain(`**Run** \`${RUN}\``);
    expect(text).toContain('**Since** 2026-12-01T20:00:00.000Z');
    expect(text).toContain('**Attention** CcsAuthFailed');
    expect(text).toContain('**Late** longer than expected ❨45m❩');
    expect(text).toContain('**Paused** by signal since 2026-12-01T20:03:00.000Z');
    expect(text).toContain('**Waits for** a resume signal');
    expect(text).not.toMatch(/hunter2|token=abc|secret/);
    expect(waitsFor({ ...status, phase: 'running', attention: undefined, paused: undefined }, 30_000)).toBe(
      'a status change, next read in 30 s',
    );
    expect(waitsFor({ ...status, phase: 'finished' }, 30_000)).toBeUndefined();
  });

  it('summarises activities and waits as the issue words them', () => {
    expect(activitySummary.read(RUN, 'emea')).toBe('read run 4f74… on emea');
    expect(activitySummary.wait(RUN, 'emea', 30_000)).toBe('wait for a status change of run 4f74… on emea, next read in 30 s');
    expect(maintenanceDetails({ state: 'open', since: '2026-12-01T20:00:00.000Z', until: null, paused: 3, resumed: 0 })).toContain(
      '**Runs paused** 3',
    );
  });
});
