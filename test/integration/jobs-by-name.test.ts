/**
 * Jobs by name (issue 18, part 5): `ccs-jobs run --name` resolved by a worker, and pipeline entries
 * `{ name: … }` resolved once before any stage. The simulator's Search Jobs and Search Job by Name,
 * which need no Temporal, are unit tests (test/unit/job-search.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { PipelineDefinition, PipelineReport } from '../../src/domain/pipeline';
import type { runCcsJob, runCcsPipeline } from '../../src/workflows';
import { addJob, type CliRun, failureOf, recordHistory, runCli, simAndWorker } from '../helpers';

const rig = simAndWorker();

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue });
}

/** A name no other test uses. */
const uniqueName = (label: string): string => `${label} ${randomUUID().slice(0, 8)}`;

describe('ccs-jobs run --name', () => {
  it('resolves the name once through the worker; the workflow records the JobID', async () => {
    const name = uniqueName('Nightly CER - Linux');
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: name },
    );
    const r = await cli(['run', '--name', name, '--wait', '--poll', '1s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`job ${JSON.stringify(name)} is ${jobId}`);
    expect(r.stdout).toContain(`started runCcsJob ccs-job-${jobId}`);
    const handle = rig.w.client.workflow.getHandle<typeof runCcsJob>(`ccs-job-${jobId}`);
    expect((await handle.result()).jobId).toBe(jobId);
  });

  it('a name shared by two jobs is refused before anything starts, listing both', async () => {
    const name = uniqueName('Duplicate name');
    const a = addJob(rig.sim, [['Completed', 0]], { JobName: name });
    const b = addJob(rig.sim, [['Completed', 0]], { JobName: name });
    const runsBefore = rig.sim.state.runs.size;
    const r = await cli(['run', '--name', name]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`2 CCS jobs on server "default" are named ${JSON.stringify(name)}`);
    expect(r.stderr).toContain(a);
    expect(r.stderr).toContain(b);
    expect(rig.sim.state.runs.size).toBe(runsBefore);
  });

  it('an unknown name, a bad name and a name beside a JobID are one line each', async () => {
    const unknown = await cli(['run', '--name', uniqueName('No such job')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^ccs-jobs: no CCS job on server "default" is named exactly ".*"; check the name in the CCS console or pass the JobID\n$/,
    );
    const both = await cli(['run', randomUUID(), '--name', 'x']);
    expect(both.stderr).toBe('ccs-jobs: ccs-jobs run: give a JobID or --name "<JobName>", not both\n');
    const empty = await cli(['run', '--name', ' ']);
    expect(empty.stderr).toMatch(/^ccs-jobs: --name must be a CCS job name of 1 to 256 characters/);
  });
});

describe('pipeline entries { name: … }', () => {
  const startPipeline = (definition: PipelineDefinition) =>
    rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `p-${randomUUID()}`,
      args: [definition],
    });

  it('resolves names before the first stage and reports each job under its name', async () => {
    const collectName = uniqueName('Collect by name');
    const collect = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Completed', 0],
      ],
      { JobName: collectName },
    );
    const evaluate = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const handle = await startPipeline({
      name: 'by name',
      pollInterval: '1s',
      stages: [
        { name: 'collect', jobs: [{ name: collectName }] },
        { name: 'evaluate', jobs: [evaluate] },
      ],
    });
    const report: PipelineReport = await handle.result();
    await recordHistory(handle, 'pipeline-job-names');
    expect(report.status).toBe('Completed');
    expect(report.stages[0]?.jobs[0]).toMatchObject({ jobId: collect, name: collectName, state: 'completed', status: 'Completed' });
  });

  it('a name that is not exactly one job fails the pipeline before any stage starts anything', async () => {
    const shared = uniqueName('Shared');
    addJob(rig.sim, [['Completed', 0]], { JobName: shared });
    addJob(rig.sim, [['Completed', 0]], { JobName: shared });
    const first = addJob(rig.sim, [['Completed', 0]]);
    const runsBefore = rig.sim.state.runs.size;
    const failure = await failureOf(
      (
        await startPipeline({
          name: 'bad names',
          stages: [
            { name: 'first', jobs: [first] },
            { name: 'then', jobs: [{ name: shared }, { name: uniqueName('Missing') }] },
          ],
        })
      ).result(),
    );
    expect(failure.type).toBe('CcsInvalidInput');
    expect(failure.message).toMatch(
      /^2 job names did not resolve: 2 CCS jobs on server "default" are named ".*": .*; pass the JobID of the one you mean; no CCS job on server "default" is named exactly/,
    );
    expect(rig.sim.state.runs.size).toBe(runsBefore);
  });

  it('a name resolving to a job the pipeline already runs by JobID is refused', async () => {
    const name = uniqueName('Twice');
    const id = addJob(rig.sim, [['Completed', 0]], { JobName: name });
    const failure = await failureOf(
      (
        await startPipeline({
          name: 'twice',
          stages: [
            { name: 'a', jobs: [id] },
            { name: 'b', jobs: [{ name }] },
          ],
        })
      ).result(),
    );
    expect(failure.message).toContain(`stages[1].jobs[0]: job ${id} (named ${JSON.stringify(name)}) is also at stages[0].jobs[0]`);
  });
});
