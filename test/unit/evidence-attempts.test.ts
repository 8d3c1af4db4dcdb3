/**
 * A scan's attempts from its evidence records (no server): `evidence show` given any attempt's id,
 * its `--json` shape, and `evidence export --format html` drawing a redriven scan once, whole.
 */
import { describe, expect, it } from 'vitest';
import { attemptsText, exportPages, scanAttemptsOf, type Sealed } from '../../src/cli/evidence-attempts';
import type { PipelineReport } from '../../src/domain/pipeline';
import { JOBS, redrivenScan } from '../redrive-reports';

const ROOT = 'nightly';
const { first, redrive, redriveId } = redrivenScan(ROOT);

function record(seq: number, workflowId: string, runId: string, report: PipelineReport, extra: Partial<Sealed> = {}): Sealed {
  return {
    key: `${workflowId}/${runId}`,
    kind: 'pipeline',
    workflowId,
    runId,
    startedBy: { requestedBy: 'ops-bob' },
    ccs: null,
    jobId: null,
    jobRunId: null,
    startTime: report.startedAt,
    endTime: report.endedAt ?? null,
    status: report.status,
    outcome: report.status === 'Failed' ? 'CcsPipelineFailed' : 'completed',
    error: null,
    exception: null,
    messages: [],
    cancel: null,
    deadline: null,
    late: false,
    pipeline: report,
    recordedAt: report.endedAt ?? report.startedAt,
    workerVersion: 'test',
    pipelineDigest: null,
    seq,
    prevHash: '0'.repeat(64),
    hash: `${seq}`.padEnd(64, '0'),
    ...extra,
  };
}

const carriedRecord = (report: PipelineReport) => report.stages.flatMap((s) => s.jobs).filter((j) => j.carried);
const redriveRecord = record(9, redriveId, 'run-1', redrive, {
  redrive: {
    of: { workflowId: ROOT, runId: 'run-0-0000' },
    rootWorkflowId: ROOT,
    attempt: 1,
    carried: carriedRecord(redrive).map((j) => ({ jobId: j.jobId, jobRunId: j.jobRunId ?? null, from: j.carried! })),
    rerun: [
      { jobId: JOBS.evalBad, jobRunId: 'c0ffee00-0000-4000-8000-000000000004', workflowId: `${redriveId}/stage-2/${JOBS.evalBad}` },
      { jobId: JOBS.report, jobRunId: 'c0ffee00-0000-4000-8000-000000000005', workflowId: `${redriveId}/stage-3/${JOBS.report}` },
    ],
  },
});
const records = [
  record(3, ROOT, 'run-0-0000', first),
  record(5, 'nightly-other', 'run-x', first), // another scan whose id merely starts alike
  redriveRecord,
];

describe('a scan from its evidence records', () => {
  it('finds every attempt from any attempt id, first attempt first, with what each carried and ran', () => {
    const attempts = scanAttemptsOf([...records].reverse(), ROOT);
    expect(
      attempts.map((a) => ({
        attempt: a.attempt,
        workflowId: a.workflowId,
        status: a.status,
        mode: a.mode,
        of: a.redriveOf?.workflowId ?? null,
      })),
    ).toEqual([
      { attempt: 0, workflowId: ROOT, status: 'Failed', mode: null, of: null },
      { attempt: 1, workflowId: redriveId, status: 'Completed', mode: 'unfinished', of: ROOT },
    ]);
    expect(attempts[0]!.carried).toEqual([]);
    expect(attempts[0]!.ran.map((j) => [j.jobId, j.state])).toEqual([
      [JOBS.collect, 'completed'],
      [JOBS.evalOk, 'completed'],
      [JOBS.evalBad, 'failed'],
    ]);
    expect(attempts[1]!.carried.map((c) => [c.jobId, c.from.attempt, c.from.evidenceKey])).toEqual([
      [JOBS.collect, 0, `${ROOT}/stage-1/${JOBS.collect}/child-run-1`],
      [JOBS.evalOk, 0, `${ROOT}/stage-2/${JOBS.evalOk}/child-run-2`],
    ]);
    expect(attempts[1]!.ran.map((j) => [j.jobId, j.state])).toEqual([
      [JOBS.evalBad, 'completed'],
      [JOBS.report, 'completed'],
    ]);
    expect(attempts[1]!.record).toBe(redriveRecord);
  });

  it('reads a redrive from its report when the record has no redrive part', () => {
    const [, fromReport] = scanAttemptsOf([records[0]!, { ...redriveRecord, redrive: undefined }], ROOT);
    expect(fromReport!.carried.map((c) => c.jobId)).toEqual([JOBS.collect, JOBS.evalOk]);
    expect(fromReport!.ran.map((j) => j.jobId)).toEqual([JOBS.evalBad, JOBS.report]);
  });

  it('tells people each attempt on its own lines, escaping nothing away', () => {
    const text = attemptsText(ROOT, ROOT, scanAttemptsOf(records, ROOT));
    expect(text.split('\n').slice(0, 3)).toEqual([
      `scan ${ROOT}: 2 attempt(s), latest ${redriveId} Completed`,
      '',
      `attempt 0  ${ROOT}  run run-0-0000  record 3`,
    ]);
    expect(text).toContain(`attempt 1  ${redriveId}  run run-1  record 9\n  Completed (completed)  redrive of ${ROOT} (unfinished jobs)`);
    expect(text).toContain(
      `  carried 2:\n    ${JOBS.collect}  run c0ffee00-0000-4000-8000-000000000001  from attempt 0 (${ROOT}, evidence`,
    );
    expect(text).toContain(`  re-ran 2:\n    ${JOBS.evalBad}  completed  run c0ffee00-0000-4000-8000-000000000004`);
    expect(text).toContain(`  ran 3:\n`);
    // An attempt still running has no record yet: said, not hidden.
    expect(attemptsText(ROOT, `${ROOT}/redrive-2`, scanAttemptsOf(records, ROOT))).toContain(
      `no evidence record for ${ROOT}/redrive-2 yet`,
    );
    // A terminal escape in a stored name is shown, not obeyed.
    const hostile = record(11, `${ROOT}/redrive-2`, 'run-\u001b[2J', redrive);
    expect(attemptsText(ROOT, ROOT, scanAttemptsOf([hostile], ROOT))).not.toContain('\u001b');
  });

  it('exports a redriven scan once, every attempt drawn, even those the filters left out', () => {
    const other = records[1]!;
    const pages = exportPages([records[0]!, other], records, 'now');
    expect(pages.map((p) => [p.workflowId, p.attempts?.map((a) => a.workflowId) ?? null])).toEqual([
      [redriveId, [ROOT, redriveId]],
      ['nightly-other', null],
    ]);
    expect(pages[0]!.source).toBe(`evidence records 3 (${'3'.padEnd(16, '0')}…), 9 (${'9'.padEnd(16, '0')}…)`);
    expect(exportPages([records[0]!, redriveRecord], records, 'now')).toHaveLength(1);
  });
});
