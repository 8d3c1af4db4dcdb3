/**
 * `runCcsPipeline`'s clocks on the time-skipping test server: the pipeline timeout cutting its jobs'
 * timeouts, and the stale-data gate at the edges of its window. Child `runCcsJob` workflows run on
 * the same scripted CCS.
 */
import { describe, expect, it } from 'vitest';
import { ErrorType } from '../../src/domain/errors';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { runCcsPipeline } from '../../src/workflows';
import { failureOf } from '../helpers';
import { HOUR, JOB, MINUTE, eventsOf, jobRun, scriptedCcs, startOf, timeSkippingEnv, withWorker } from './rig';

const rig = timeSkippingEnv();
const SLACK = 1_000;
const COLLECT = '9f6b7e1a-0c2d-4e3f-8a9b-0c1d2e3f4a5b';
const REPORT = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';

function start(taskQueue: string, definition: PipelineDefinition) {
  return rig.env.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
    taskQueue,
    workflowId: `pipeline-${Date.now()}-${Math.random()}`,
    args: [definition],
  });
}

describe('runCcsPipeline timeout', () => {
  it('a job that outlasts the pipeline timeout (2 h) is aborted when it passes; later stages are skipped', async () => {
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Executing' }]);
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const handle = await start(taskQueue, {
        name: 'nightly',
        timeout: '2h',
        stages: [
          { name: 'scan', jobs: [{ jobId: JOB, pollInterval: '5m' }] },
          { name: 'report', jobs: [REPORT] },
        ],
      });
      const f = await failureOf(handle.result());
      expect(f.type).toBe(ErrorType.PipelineFailed);
      const report = f.details?.[0] as PipelineReport;
      expect(report.stages.map((s) => s.state)).toEqual(['failed', 'skipped']);
      expect(report.stages[0]!.jobs[0]!.error?.type).toBe(ErrorType.JobTimedOut);
      const started = startOf(await eventsOf(handle));
      const [abort] = ccs.times('abortJobRun');
      expect(abort! - started).toBeGreaterThanOrEqual(2 * HOUR);
      expect(abort! - started).toBeLessThan(2 * HOUR + 5 * SLACK);
      expect(ccs.calls.filter((c) => c.name === 'executeJob').map((c) => (c.input as { jobId: string }).jobId)).toEqual([JOB]);
    });
  });
});

describe('runCcsPipeline stale-data gate', () => {
  /** A collection job whose last good run ended `ageMs` before the gate's read (workflow time). */
  const collected = (ageMs: number) => (at: number, jobId: string) =>
    jobId === COLLECT
      ? [
          jobRun('Completed', {
            jobId: COLLECT,
            statusCode: 4,
            startTime: new Date(at - ageMs - HOUR).toISOString(),
            endTime: new Date(at - ageMs).toISOString(),
          }),
        ]
      : [];
  const gated: PipelineDefinition = {
    name: 'gated',
    stages: [{ name: 'scan', requireFresh: { job: COLLECT, within: '24h' }, jobs: [{ jobId: JOB, pollInterval: '1m' }] }],
  };

  it('opens for a collection that ended a second inside the window (24 h)', async () => {
    const ccs = scriptedCcs(
      [
        { afterMs: 0, status: 'Executing' },
        { afterMs: 30 * MINUTE, status: 'Completed' },
      ],
      { known: collected(24 * HOUR - SLACK) },
    );
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const report = await (await start(taskQueue, gated)).result();
      expect(report.status).toBe('Completed');
      expect(ccs.times('executeJob')).toHaveLength(1);
    });
  });

  it('closes for a collection that ended a millisecond outside the window: CcsStaleData, nothing executed', async () => {
    const ccs = scriptedCcs([{ afterMs: 0, status: 'Completed' }], { known: collected(24 * HOUR + 1) });
    await withWorker(rig, ccs.activities, async (taskQueue) => {
      const f = await failureOf((await start(taskQueue, gated)).result());
      expect(f.type).toBe(ErrorType.StaleData);
      expect(f.message).toContain(`collection job ${COLLECT} to have completed within 1d`);
      expect(ccs.times('executeJob')).toEqual([]);
    });
  });
});
