/**
 * The stale-data gate (issue 19, part 4): a stage that requires a fresh collection does not run its
 * evaluations when the collection's latest Completed run is older than the window, and runs them
 * once a fresh one exists. Bad references and windows, refused before anything starts, are unit
 * tests (test/unit/pipeline-definition.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, failureOf, recordHistory, simAndWorker } from '../helpers';

const rig = simAndWorker();
const HOUR = 3_600_000;

function start(definition: PipelineDefinition) {
  return rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
    taskQueue: rig.w.taskQueue,
    workflowId: `stale-${randomUUID()}`,
    args: [definition],
  });
}

describe('requireFresh', () => {
  it('blocks the evaluation after a collection older than the window, and passes after a fresh one', async () => {
    const collection = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: 'Data collection - Linux' },
    );
    const evaluation = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const old = rig.sim.state.addPastRun(collection, Date.now() - 50 * HOUR, [
      ['Executing', 3600],
      ['Completed', 0],
    ]);
    const definition: PipelineDefinition = {
      name: 'gated',
      pollInterval: '1s',
      stages: [{ name: 'evaluate', requireFresh: { job: collection, within: '24h' }, jobs: [evaluation] }],
    };

    const blocked = await start(definition);
    const failure = await failureOf(blocked.result());
    await recordHistory(blocked, 'pipeline-stale-data');
    expect(failure.type).toBe('CcsStaleData');
    expect(failure.message).toMatch(
      new RegExp(
        `requires collection job ${collection} to have completed within 1d, but its last good run ${old.JobRunID} ended \\S+ \\(2d\\d*h?\\d*m?\\d*s? ago\\); its jobs did not run`,
      ),
    );
    const report = failure.details?.[0] as PipelineReport;
    expect(report.stages[0]).toMatchObject({ state: 'failed', jobs: [{ state: 'skipped', error: { type: 'CcsStaleData' } }] });
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(0);

    rig.sim.state.addPastRun(collection, Date.now() - 2 * HOUR, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const passed = await start(definition);
    expect((await passed.result()).status).toBe('Completed');
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(1);
  });

  it('fromStage: the collection that just ran in the pipeline is fresh; one that faulted is not', async () => {
    const collection = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      {
        runs: [
          {
            steps: [
              ['Executing', 1],
              ['Completed', 0],
            ],
          },
          {
            steps: [
              ['Executing', 1],
              ['Faulted', 0],
            ],
          },
        ],
      },
    );
    const evaluation = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const definition: PipelineDefinition = {
      name: 'collect then evaluate',
      pollInterval: '1s',
      stages: [
        { name: 'collect', continueOnFailure: true, jobs: [collection] },
        { name: 'evaluate', requireFresh: { fromStage: 'collect', within: '10m' }, jobs: [evaluation] },
      ],
    };
    expect((await (await start(definition)).result()).status).toBe('Completed');
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(1);
    // The second collection faults: its latest Completed run (the first) is minutes old, still within 10m.
    expect((await (await start(definition)).result()).status).toBe('CompletedWithFailures');
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(2);
  });

  it('a faulted collection is not fresh: with no Completed run to fall back on, the evaluation does not run', async () => {
    const collection = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'Collection failed on 12 assets' },
    );
    const evaluation = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const blocked = await start({
      name: 'faulted collection',
      pollInterval: '1s',
      stages: [
        { name: 'collect', continueOnFailure: true, jobs: [collection] },
        { name: 'evaluate', requireFresh: { fromStage: 'collect', within: '10m' }, jobs: [evaluation] },
      ],
    });
    const failure = await failureOf(blocked.result());
    expect(failure.type).toBe('CcsStaleData');
    expect(failure.message).toContain(
      `requires collection job ${collection} to have completed within 10m, but it has no Completed run among its last 20`,
    );
    const report = failure.details?.[0] as PipelineReport;
    expect(report.stages.map((s) => s.state)).toEqual(['failed', 'failed']);
    expect(report.stages[1]?.jobs).toMatchObject([{ state: 'skipped', error: { type: 'CcsStaleData' } }]);
    // The collection did run, once, and faulted; the gate read it and kept the evaluation from CCS.
    expect(rig.sim.state.runsOf(collection)).toHaveLength(1);
    expect(rig.sim.state.runsOf(evaluation)).toHaveLength(0);
  });
});
