/**
 * Two attempts of one scan as the redrive contract shapes them (src/domain/redrive.ts): a first
 * attempt that Failed in its second stage, and `/redrive-1` that carried what completed and ran the
 * rest. Shared by the renderer's unit tests and the Chromium test.
 */
import type { PipelineReport } from '../src/domain/pipeline';
import { childWorkflowId } from '../src/domain/contract';
import { redriveWorkflowId } from '../src/domain/redrive';

export const JOBS = {
  collect: '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
  evalOk: '24f58e54-5d94-45f8-97a8-ccb6d959233a',
  evalBad: '5e0c1a3d-7f9b-4c2e-8a61-3d2f4b5c6d7e',
  report: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
} as const;

/** The first attempt and its redrive, `root` and `<root>/redrive-1`. */
export function redrivenScan(root: string): { first: PipelineReport; redrive: PipelineReport; redriveId: string } {
  const redriveId = redriveWorkflowId(root, 1);
  const firstRun = 'run-0-0000';
  const collect = {
    jobId: JOBS.collect,
    name: 'Collect <all> "assets"',
    workflowId: childWorkflowId(root, 0, JOBS.collect),
    state: 'completed' as const,
    status: 'Completed',
    jobRunId: 'c0ffee00-0000-4000-8000-000000000001',
    startTime: '2026-12-01T01:00:00.000Z',
    endTime: '2026-12-01T05:00:00.000Z',
  };
  const evalOk = {
    jobId: JOBS.evalOk,
    workflowId: childWorkflowId(root, 1, JOBS.evalOk),
    state: 'completed' as const,
    status: 'Completed',
    jobRunId: 'c0ffee00-0000-4000-8000-000000000002',
    startTime: '2026-12-01T05:00:05.000Z',
    endTime: '2026-12-01T05:20:00.000Z',
  };
  const freshnessAt = (checkedAt: string) => ({
    jobId: JOBS.collect,
    ccs: 'default',
    within: '24h',
    jobRunId: collect.jobRunId,
    endTime: collect.endTime,
    checkedAt,
    fresh: true,
  });
  const first: PipelineReport = {
    name: 'nightly <scan>',
    status: 'Failed',
    startedAt: '2026-12-01T01:00:00.000Z',
    endedAt: '2026-12-01T05:30:00.000Z',
    stages: [
      { name: 'collect', state: 'completed', jobs: [collect] },
      {
        name: 'evaluate',
        state: 'failed',
        freshness: [freshnessAt('2026-12-01T05:00:01.000Z')],
        jobs: [
          evalOk,
          {
            jobId: JOBS.evalBad,
            workflowId: childWorkflowId(root, 1, JOBS.evalBad),
            state: 'failed',
            status: 'Faulted',
            jobRunId: 'c0ffee00-0000-4000-8000-000000000003',
            startTime: '2026-12-01T05:00:05.000Z',
            endTime: '2026-12-01T05:30:00.000Z',
            exception: 'Credential expired: <script>alert(1)</script>',
            error: { type: 'CcsJobFaulted', message: 'the CCS job run ended Faulted' },
          },
        ],
      },
      {
        name: 'report',
        state: 'skipped',
        jobs: [{ jobId: JOBS.report, workflowId: childWorkflowId(root, 2, JOBS.report), state: 'skipped' }],
      },
    ],
  };
  const from = { workflowId: root, runId: firstRun, attempt: 0 };
  const redrive: PipelineReport = {
    name: 'nightly <scan>',
    status: 'Completed',
    startedAt: '2026-12-01T07:00:00.000Z',
    endedAt: '2026-12-01T07:40:00.000Z',
    redrive: { of: { workflowId: root, runId: firstRun }, rootWorkflowId: root, attempt: 1, mode: 'unfinished' },
    stages: [
      {
        name: 'collect',
        state: 'completed',
        jobs: [{ ...collect, carried: { ...from, evidenceKey: `${collect.workflowId}/child-run-1` } }],
      },
      {
        name: 'evaluate',
        state: 'completed',
        freshness: [freshnessAt('2026-12-01T07:00:01.000Z')],
        jobs: [
          { ...evalOk, carried: { ...from, evidenceKey: `${evalOk.workflowId}/child-run-2` } },
          {
            jobId: JOBS.evalBad,
            workflowId: childWorkflowId(redriveId, 1, JOBS.evalBad),
            state: 'completed',
            status: 'Completed',
            jobRunId: 'c0ffee00-0000-4000-8000-000000000004',
            startTime: '2026-12-01T07:00:05.000Z',
            endTime: '2026-12-01T07:25:00.000Z',
          },
        ],
      },
      {
        name: 'report',
        state: 'completed',
        jobs: [
          {
            jobId: JOBS.report,
            workflowId: childWorkflowId(redriveId, 2, JOBS.report),
            state: 'completed',
            status: 'Completed',
            jobRunId: 'c0ffee00-0000-4000-8000-000000000005',
            startTime: '2026-12-01T07:25:05.000Z',
            endTime: '2026-12-01T07:40:00.000Z',
          },
        ],
      },
    ],
  };
  return { first, redrive, redriveId };
}
