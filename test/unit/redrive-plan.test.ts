/**
 * What a pipeline redrive re-runs and what it carries (planRedrive), and the checks of its input and
 * of a definition's automatic redrive, without a server. What the workflow does with a plan is in
 * test/workflow/pipeline-redrive.test.ts; a redrive against the simulator in test/integration.
 */
import { describe, expect, it } from 'vitest';
import type { PipelineDefinition, PipelineJobReport, PipelineJobState, PipelineReport } from '../../src/domain/pipeline';
import { pipelineProblems } from '../../src/domain/pipeline';
import {
  autoRedriveProblems,
  planRedrive,
  redriveInputProblems,
  type CarriedFrom,
  type RedrivePlan,
  type RedriveSource,
} from '../../src/domain/redrive';

const ROOT = 'nightly-scan';
const [A, B, C, D] = [
  '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16',
  '24f58e54-5d94-45f8-97a8-ccb6d959233a',
  '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
  '9f6b7e1a-0c2d-4e3f-8a9b-0c1d2e3f4a5b',
];
const definition: PipelineDefinition = {
  name: 'nightly',
  stages: [
    { name: 'collect', jobs: [A] },
    { name: 'evaluate', jobs: [B, C], continueOnFailure: true },
    { name: 'report', jobs: [D] },
  ],
};

function entry(
  of: string,
  stage: number,
  jobId: string,
  state: PipelineJobState,
  extra: Partial<PipelineJobReport> = {},
): PipelineJobReport {
  return {
    jobId,
    workflowId: `${of}/stage-${stage + 1}/${jobId}`,
    state,
    ...(state === 'completed' ? { status: 'Completed', jobRunId: `run-${jobId.slice(0, 4)}`, runId: `r-${jobId.slice(0, 4)}` } : {}),
    ...extra,
  };
}

/** The source of a redrive of `of` (attempt `attempt`), its jobs in `states` stage by stage. */
function source(
  states: PipelineJobState[][],
  of = ROOT,
  attempt = 0,
  extra: (s: number, j: number) => Partial<PipelineJobReport> = () => ({}),
): RedriveSource {
  const report: PipelineReport = {
    name: 'nightly',
    status: 'Failed',
    startedAt: '2026-12-01T00:00:00.000Z',
    endedAt: '2026-12-01T04:00:00.000Z',
    stages: definition.stages.map((stage, i) => ({
      name: stage.name,
      state: states[i]!.every((s) => s === 'completed') ? 'completed' : states[i]!.includes('failed') ? 'failed' : 'skipped',
      jobs: (stage.jobs as string[]).map((jobId, j) => entry(of, i, jobId, states[i]![j]!, extra(i, j))),
    })),
  };
  return { of: { workflowId: of, runId: `run-of-${of}` }, rootWorkflowId: ROOT, attempt, definition, report, closedAs: 'FAILED' };
}

/** The plan as `carry`/`run` per stage, per job. */
function shape(plan: RedrivePlan): string[][] {
  return plan.stages.map((s) => s.jobs.map((j) => (j.carry ? `carry:${j.carry.state}` : 'run')));
}

function planOf(src: RedriveSource, options: { onlyFailed?: boolean; fromStage?: number } = {}): RedrivePlan {
  const planned = planRedrive(src, options);
  if ('refusal' in planned) throw new Error(`refused: ${planned.refusal}`);
  return planned.plan;
}

function refusalOf(src: RedriveSource, options: { onlyFailed?: boolean; fromStage?: number } = {}): string {
  const planned = planRedrive(src, options);
  if (!('refusal' in planned)) throw new Error(`planned: ${JSON.stringify(shape(planned.plan))}`);
  return planned.refusal;
}

const failedMidway = (): RedriveSource => source([['completed'], ['completed', 'failed'], ['skipped']]);

describe('planRedrive: unfinished (default)', () => {
  it('re-runs failed, skipped and never-started jobs; carries completed ones with where they ran', () => {
    const plan = planOf(failedMidway());
    expect(plan.mode).toBe('unfinished');
    expect(shape(plan)).toEqual([['carry:completed'], ['carry:completed', 'run'], ['run']]);
    const carried = plan.stages[0]!.jobs[0]!.carry!;
    expect(carried.jobRunId).toBe(`run-${A.slice(0, 4)}`);
    expect(carried.carried).toEqual<CarriedFrom>({
      workflowId: ROOT,
      runId: `run-of-${ROOT}`,
      evidenceKey: `${ROOT}/stage-1/${A}/r-${A.slice(0, 4)}`,
      attempt: 0,
    });
  });

  it('re-runs cancelled and pending (running when the attempt was terminated) jobs too', () => {
    expect(shape(planOf(source([['completed'], ['cancelled', 'running'], ['pending']])))).toEqual([
      ['carry:completed'],
      ['run', 'run'],
      ['run'],
    ]);
  });

  it('a job carried before keeps its origin (attempt, run, evidence key), not the attempt redriven', () => {
    const origin: CarriedFrom = { workflowId: ROOT, runId: 'first-run', evidenceKey: `${ROOT}/stage-1/${A}/r-1`, attempt: 0 };
    const src = source([['completed'], ['completed', 'failed'], ['skipped']], `${ROOT}/redrive-1`, 1, (s) =>
      s === 0 ? { carried: origin } : {},
    );
    const plan = planOf(src);
    expect(plan.stages[0]!.jobs[0]!.carry!.carried).toEqual(origin);
    expect(plan.stages[1]!.jobs[0]!.carry!.carried).toMatchObject({ workflowId: `${ROOT}/redrive-1`, attempt: 1 });
  });

  it('an entry without a run id is carried with no evidence key (not a made-up one)', () => {
    const src = source([['completed'], ['completed', 'failed'], ['skipped']], ROOT, 0, () => ({ runId: undefined }));
    expect(planOf(src).stages[0]!.jobs[0]!.carry!.carried!.evidenceKey).toBeNull();
  });

  it('refuses when every job completed', () => {
    expect(refusalOf(source([['completed'], ['completed', 'completed'], ['completed']]))).toBe(
      `nothing to redrive: every job of ${ROOT} completed`,
    );
  });

  it('refuses an attempt whose report says it is still running', () => {
    const src = failedMidway();
    src.report.status = 'running';
    expect(refusalOf(src)).toBe(`pipeline ${ROOT} is still running; redrive it once it has ended`);
  });

  it('a report missing stages (it stopped before them) re-runs those stages', () => {
    const src = failedMidway();
    src.report.stages = src.report.stages.slice(0, 1);
    expect(shape(planOf(src))).toEqual([['carry:completed'], ['run', 'run'], ['run']]);
  });
});

describe('planRedrive: only-failed', () => {
  it('re-runs only failed jobs; skipped and cancelled ones are carried as they were', () => {
    const plan = planOf(source([['completed'], ['cancelled', 'failed'], ['skipped']]), { onlyFailed: true });
    expect(plan.mode).toBe('only-failed');
    expect(shape(plan)).toEqual([['carry:completed'], ['carry:cancelled', 'run'], ['carry:skipped']]);
  });

  it('refuses when no job failed, saying what the default would run', () => {
    expect(refusalOf(source([['completed'], ['completed', 'cancelled'], ['skipped']]), { onlyFailed: true })).toBe(
      `nothing to redrive: no job of ${ROOT} failed (without --only-failed, its skipped and cancelled jobs would run)`,
    );
  });
});

describe('planRedrive: from-stage', () => {
  it('re-runs every job of stage N and after, completed or not; carries the stages before', () => {
    const plan = planOf(source([['completed'], ['completed', 'completed'], ['failed']]), { fromStage: 2 });
    expect(plan).toMatchObject({ mode: 'from-stage', fromStage: 2 });
    expect(shape(plan)).toEqual([['carry:completed'], ['run', 'run'], ['run']]);
  });

  it('stage 1 re-runs everything, even a scan that completed', () => {
    expect(shape(planOf(source([['completed'], ['completed', 'completed'], ['completed']]), { fromStage: 1 }))).toEqual([
      ['run'],
      ['run', 'run'],
      ['run'],
    ]);
  });

  it('the last stage is in range; 0 and one past the last are refused', () => {
    expect(shape(planOf(source([['completed'], ['completed', 'completed'], ['skipped']]), { fromStage: 3 }))).toEqual([
      ['carry:completed'],
      ['carry:completed', 'carry:completed'],
      ['run'],
    ]);
    expect(refusalOf(failedMidway(), { fromStage: 4 })).toBe(`--from-stage 4: pipeline ${ROOT} has 3 stages; give 1 to 3`);
    expect(refusalOf(failedMidway(), { fromStage: 0 })).toBe(`--from-stage 0: pipeline ${ROOT} has 3 stages; give 1 to 3`);
  });

  it('refuses when a stage before N did not complete, naming it', () => {
    expect(refusalOf(failedMidway(), { fromStage: 3 })).toBe(
      `--from-stage 3: stage 2 "evaluate" of ${ROOT} did not complete (job ${C} failed); redrive from stage 2 or earlier`,
    );
  });
});

describe('redrive input', () => {
  it('accepts a plain redrive and each mode', () => {
    expect(redriveInputProblems({ redriveOf: { workflowId: ROOT, runId: '' } })).toEqual([]);
    expect(redriveInputProblems({ redriveOf: { workflowId: ROOT, runId: 'r' }, onlyFailed: true, requestedBy: 'ops' })).toEqual([]);
    expect(redriveInputProblems({ redriveOf: { workflowId: ROOT, runId: 'r' }, fromStage: 2, automatic: true })).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(redriveInputProblems({ redriveOf: { workflowId: '', runId: 3 }, onlyFailed: 'yes', fromStage: 1.5, extra: 1 })).toEqual([
      'extra: unknown key; allowed: redriveOf, onlyFailed, fromStage, requestedBy, automatic',
      'redriveOf.workflowId: required, a workflow id of at most 1000 characters; got ""',
      'redriveOf.runId: must be a run id, or "" for the latest run; got 3',
      'onlyFailed: must be true or false',
      'fromStage: must be a stage number, 1 to 20; got 1.5',
    ]);
    expect(redriveInputProblems({ redriveOf: { workflowId: ROOT, runId: '' }, onlyFailed: true, fromStage: 2 })).toEqual([
      'fromStage: give onlyFailed or fromStage, not both',
    ]);
    expect(redriveInputProblems(null)).toEqual(['(top): a redrive must be an object with "redriveOf"; got null']);
  });
});

describe('automatic redrive in a definition', () => {
  it('accepts { after, max } and after alone', () => {
    expect(autoRedriveProblems({ after: '30m', max: 2 })).toEqual([]);
    expect(autoRedriveProblems({ after: 60_000 })).toEqual([]);
    expect(pipelineProblems({ ...definition, redrive: { after: '30m', max: 20 } })).toEqual([]);
  });

  it('refuses a delay under a minute, a max outside 1..20 and unknown keys, in pipelineProblems too', () => {
    expect(pipelineProblems({ ...definition, redrive: { after: '59s', max: 21, every: 1 } })).toEqual([
      'redrive.every: unknown key; allowed: after, max',
      'redrive.after: must be at least 1m; got "59s"',
      'redrive.max: must be a whole number of redrives, 1 to 20; got 21',
    ]);
    expect(autoRedriveProblems({ max: 0 })).toEqual([
      'redrive.after: required, how long after a failed attempt its redrive starts, e.g. "30m"',
      'redrive.max: must be a whole number of redrives, 1 to 20; got 0',
    ]);
    expect(autoRedriveProblems({ after: 'later' })).toEqual(['redrive.after: must be a duration such as "30m" or "2h"; got "later"']);
    expect(autoRedriveProblems('30m')).toEqual(['redrive: must be an object like { after: 30m, max: 2 }; got "30m"']);
  });
});
