/**
 * A pipeline's documented caps (README, "Pipelines"): stages, jobs per stage, jobs in all, and the
 * lengths of its names, each refused with one line naming the field and the fix, before anything
 * starts (the CLI loads the file through the same check the workflow runs first).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../src/cli/pipeline-file';
import { MAX_JOB_NAME } from '../../src/domain/job-names';
import {
  MAX_JOBS_PER_STAGE,
  MAX_PIPELINE_JOBS,
  MAX_PIPELINE_NAME,
  MAX_STAGE_NAME,
  MAX_STAGES,
  pipelineProblems,
} from '../../src/domain/pipeline';
import { tempDir } from '../temp-dir';

const jobs = (n: number): string[] => Array.from({ length: n }, () => randomUUID());
const stage = (name: string, n: number): { name: string; jobs: string[] } => ({ name, jobs: jobs(n) });

describe('pipeline caps', () => {
  it('are the documented ones', () => {
    expect({ MAX_STAGES, MAX_JOBS_PER_STAGE, MAX_PIPELINE_JOBS, MAX_PIPELINE_NAME, MAX_STAGE_NAME, MAX_JOB_NAME }).toEqual({
      MAX_STAGES: 20,
      MAX_JOBS_PER_STAGE: 50,
      MAX_PIPELINE_JOBS: 200,
      MAX_PIPELINE_NAME: 200,
      MAX_STAGE_NAME: 100,
      MAX_JOB_NAME: 256,
    });
  });

  it('accept a pipeline exactly at every cap', () => {
    const longNames = Array.from({ length: MAX_PIPELINE_JOBS / MAX_JOBS_PER_STAGE }, (_, i) =>
      stage(`${i}`.padEnd(MAX_STAGE_NAME, 's'), MAX_JOBS_PER_STAGE),
    );
    expect(pipelineProblems({ name: 'n'.repeat(MAX_PIPELINE_NAME), stages: longNames })).toEqual([]);
    expect(pipelineProblems({ name: 'many stages', stages: Array.from({ length: MAX_STAGES }, (_, i) => stage(`stage ${i}`, 1)) })).toEqual(
      [],
    );
    expect(pipelineProblems({ name: 'by name', stages: [{ name: 's', jobs: [{ name: 'j'.repeat(MAX_JOB_NAME) }] }] })).toEqual([]);
  });

  it.each([
    [
      'too many jobs in a stage',
      { name: 'p', stages: [stage('collect', MAX_JOBS_PER_STAGE + 1)] },
      `stages[0].jobs: ${MAX_JOBS_PER_STAGE + 1} jobs; at most ${MAX_JOBS_PER_STAGE} per stage: move some to another stage`,
    ],
    [
      'too many stages',
      { name: 'p', stages: Array.from({ length: MAX_STAGES + 1 }, (_, i) => stage(`s${i}`, 1)) },
      `stages: ${MAX_STAGES + 1} stages; at most ${MAX_STAGES}: merge stages, or split the scan into several pipelines`,
    ],
    [
      'too many jobs in all',
      { name: 'p', stages: Array.from({ length: 5 }, (_, i) => stage(`s${i}`, 41)) },
      `stages: 205 jobs in all; at most ${MAX_PIPELINE_JOBS} per pipeline: split the scan into several pipelines`,
    ],
    [
      'a long pipeline name',
      { name: 'n'.repeat(MAX_PIPELINE_NAME + 1), stages: [stage('s', 1)] },
      `name: at most ${MAX_PIPELINE_NAME} characters; got ${MAX_PIPELINE_NAME + 1}: shorten it`,
    ],
    [
      'a long stage name',
      { name: 'p', stages: [stage('s'.repeat(MAX_STAGE_NAME + 1), 1)] },
      `stages[0].name: at most ${MAX_STAGE_NAME} characters; got ${MAX_STAGE_NAME + 1}: shorten it`,
    ],
    [
      'a long job name',
      { name: 'p', stages: [{ name: 's', jobs: [{ name: 'j'.repeat(MAX_JOB_NAME + 1) }] }] },
      /^stages\[0\]\.jobs\[0\]\.name: must be a CCS job name of 1 to 256 characters/,
    ],
    [
      'a long requestedBy',
      { name: 'p', requestedBy: 'r'.repeat(201), stages: [stage('s', 1)] },
      /^requestedBy: must be text of at most 200 characters \(who asked for the pipeline\); got "r{50,}/,
    ],
  ])('refuse %s with one line naming the field and the fix', (_what, definition, expected) => {
    const problems = pipelineProblems(definition);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected instanceof RegExp ? expected : new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(problems[0]).not.toContain('\n');
  });

  it('check an oversized pipeline in bounded time and words: a stage over its cap is not checked job by job', () => {
    const huge = { name: 'p', stages: [{ name: 'all', jobs: Array.from({ length: 100_000 }, () => 'not-a-guid') }] };
    expect(pipelineProblems(huge)).toEqual([
      `stages: 100000 jobs in all; at most ${MAX_PIPELINE_JOBS} per pipeline: split the scan into several pipelines`,
      `stages[0].jobs: 100000 jobs; at most ${MAX_JOBS_PER_STAGE} per stage: move some to another stage`,
    ]);
    expect(pipelineProblems({ name: 'p', stages: Array.from({ length: 10_000 }, () => ({})) })).toHaveLength(1);
  });

  it('stop the CLI before it starts anything', () => {
    const file = join(tempDir('pipeline-caps-'), 'big.json');
    writeFileSync(file, JSON.stringify({ name: 'nightly', stages: [stage('collect', MAX_JOBS_PER_STAGE + 10)] }));
    expect(() => loadPipelineFile(file)).toThrow(
      `pipeline file ${file} has 1 problem:\n  stages[0].jobs: ${MAX_JOBS_PER_STAGE + 10} jobs; at most ${MAX_JOBS_PER_STAGE} per stage: move some to another stage`,
    );
  });
});
