/**
 * Jobs by name (issue 18, part 5): the simulator's Search Jobs and Search Job by Name over real
 * sockets, `ccs-jobs run --name` resolved by a worker, and pipeline entries `{ name: … }` resolved
 * once before any stage.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { CcsError } from '../../src/domain/errors';
import { pipelineProblems, type PipelineDefinition, type PipelineReport } from '../../src/domain/pipeline';
import type { runCcsJob, runCcsPipeline } from '../../src/workflows';
import { addJob, type CliRun, failureOf, recordHistory, runCli, simAndWorker } from '../helpers';

const rig = simAndWorker();

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue });
}

/** A name no other test uses. */
const uniqueName = (label: string): string => `${label} ${randomUUID().slice(0, 8)}`;

describe('Search Jobs (GET /Jobs?Attributes=…&page=&pagesize=)', () => {
  it('pages through every match once, in a stable order, across more than one page', async () => {
    const prefix = `Paged ${randomUUID().slice(0, 6)}`;
    const ids = Array.from({ length: 7 }, (_, i) => addJob(rig.sim, [['Completed', 0]], { JobName: `${prefix} ${i}` }));
    addJob(rig.sim, [['Completed', 0]], { JobName: `Other ${prefix}` });
    const seen: string[] = [];
    for (let page = 0; page < 10; page++) {
      const jobs = await rig.w.ccs.searchJobs(`JobName StartsWith ${prefix}`, { page, pageSize: 3 });
      seen.push(...jobs.map((j) => j.jobId));
      if (jobs.length < 3) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect(rig.sim.stats().jobsearch?.['200']).toBeGreaterThanOrEqual(3);
  });

  it('reads AND, OR, Contains, = with a wildcard and JobType; refuses an unknown attribute with a 400', async () => {
    const tag = randomUUID().slice(0, 6);
    const a = addJob(rig.sim, [['Completed', 0]], { JobName: `Nightly ${tag} Linux`, JobType: 'EvaluationJob' });
    const b = addJob(rig.sim, [['Completed', 0]], { JobName: `Nightly ${tag} Windows`, JobType: 'CollectionJob' });
    const search = async (terms: string): Promise<string[]> => (await rig.w.ccs.searchJobs(terms, { page: 0, pageSize: 50 })).map((j) => j.jobId).sort();
    expect(await search(`JobName Contains ${tag}, JobType = EvaluationJob`)).toEqual([a]);
    expect(await search(`(JobName = nightly ${tag} *)`)).toEqual([a, b].sort());
    expect(await search(`JobName = Nightly ${tag} Linux | JobName = Nightly ${tag} Windows`)).toEqual([a, b].sort());
    const refused = await rig.w.ccs.searchJobs('Colour = blue', { page: 0, pageSize: 5 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CcsError);
    expect((refused as CcsError).type).toBe('CcsBadRequest');
    await expect(rig.w.ccs.searchJobs('  ', { page: 0, pageSize: 5 })).rejects.toThrow(/a job search needs terms/);
  });

  it('Search Job by Name answers the vendor sample’s GET /Jobs?jobname=… with the exact matches', async () => {
    const name = uniqueName('Vendor sample');
    const id = addJob(rig.sim, [['Completed', 0]], { JobName: name });
    expect((await rig.w.ccs.findJobsByName(name)).map((j) => j.jobId)).toEqual([id]);
    expect(await rig.w.ccs.findJobsByName(`${name} (copy)`)).toEqual([]);
  });
});

describe('ccs-jobs run --name', () => {
  it('resolves the name once through the worker; the workflow records the JobID', async () => {
    const name = uniqueName('Nightly CER - Linux');
    const jobId = addJob(rig.sim, [['Executing', 1], ['Completed', 0]], { JobName: name });
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
    expect(unknown.stderr).toMatch(/^ccs-jobs: no CCS job on server "default" is named exactly ".*"; check the name in the CCS console or pass the JobID\n$/);
    const both = await cli(['run', randomUUID(), '--name', 'x']);
    expect(both.stderr).toBe('ccs-jobs: ccs-jobs run: give a JobID or --name "<JobName>", not both\n');
    const empty = await cli(['run', '--name', ' ']);
    expect(empty.stderr).toMatch(/^ccs-jobs: --name must be a CCS job name of 1 to 256 characters/);
  });
});

describe('pipeline entries { name: … }', () => {
  const startPipeline = (definition: PipelineDefinition) =>
    rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', { taskQueue: rig.w.taskQueue, workflowId: `p-${randomUUID()}`, args: [definition] });

  it('validation: name or jobId, not both; duplicates by name; a bad name', () => {
    expect(
      pipelineProblems({
        name: 'p',
        stages: [{ name: 's', jobs: [{ name: 'A' }, { name: 'A' }, { name: 'B', jobId: randomUUID() }, { name: '' }] }],
      }),
    ).toEqual([
      'stages[0].jobs[1].name: duplicate job "A" (also at stages[0].jobs[0].name); a job can run once per pipeline',
      'stages[0].jobs[2]: give jobId or name, not both',
      'stages[0].jobs[3].name: must be a CCS job name of 1 to 256 characters (the exact name, as in the CCS console); got ""',
    ]);
  });

  it('resolves names before the first stage and reports each job under its name', async () => {
    const collectName = uniqueName('Collect by name');
    const collect = addJob(rig.sim, [['Executing', 1], ['Completed', 0]], { JobName: collectName });
    const evaluate = addJob(rig.sim, [['Executing', 1], ['Completed', 0]]);
    const handle = await startPipeline({ name: 'by name', pollInterval: '1s', stages: [{ name: 'collect', jobs: [{ name: collectName }] }, { name: 'evaluate', jobs: [evaluate] }] });
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
      (await startPipeline({ name: 'bad names', stages: [{ name: 'first', jobs: [first] }, { name: 'then', jobs: [{ name: shared }, { name: uniqueName('Missing') }] }] })).result(),
    );
    expect(failure.type).toBe('CcsInvalidInput');
    expect(failure.message).toMatch(/^2 job names did not resolve: 2 CCS jobs on server "default" are named ".*": .*; pass the JobID of the one you mean; no CCS job on server "default" is named exactly/);
    expect(rig.sim.state.runs.size).toBe(runsBefore);
  });

  it('a name resolving to a job the pipeline already runs by JobID is refused', async () => {
    const name = uniqueName('Twice');
    const id = addJob(rig.sim, [['Completed', 0]], { JobName: name });
    const failure = await failureOf((await startPipeline({ name: 'twice', stages: [{ name: 'a', jobs: [id] }, { name: 'b', jobs: [{ name }] }] })).result());
    expect(failure.message).toContain(`stages[1].jobs[0]: job ${id} (named ${JSON.stringify(name)}) is also at stages[0].jobs[0]`);
  });
});
