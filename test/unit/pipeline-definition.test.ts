/**
 * Pipeline definitions checked before anything starts, without a server: every problem reported at
 * once with its path, entries by name, and the stale-data gate's references and window (issue 19,
 * part 4). What a refused definition does to a workflow is tested in test/integration/pipeline.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pipelineProblems } from '../../src/domain/pipeline';

describe('pipeline definition', () => {
  it('reports every problem at once, each with its path', () => {
    expect(
      pipelineProblems({
        name: '',
        stages: [
          { name: 'collect', jobs: ['not-a-guid', { jobId: '24f58e54-5d94-45f8-97a8-ccb6d959233a', timeout: 'soon', retries: 3 }] },
          { name: 'collect', jobs: [] },
          { name: 'evaluate', jobs: ['24F58E54-5D94-45F8-97A8-CCB6D959233A'], continueOnFailure: 'yes' },
        ],
        schedule: 'nightly',
      }),
    ).toEqual([
      'schedule: unknown key; allowed: name, stages, ccs, timeout, pollInterval, maxPollInterval, requestedBy, alertIfNoSuccess, redrive',
      'name: required, a non-empty string',
      'stages[0].jobs[0]: must be a job GUID like 24f58e54-5d94-45f8-97a8-ccb6d959233a; got "not-a-guid"',
      'stages[0].jobs[1].retries: unknown key; allowed: jobId, name, ccs, timeout, pollInterval, maxPollInterval',
      'stages[0].jobs[1].timeout: must be a duration such as "30s", "5m", "1h30m" or a number of milliseconds; got "soon"',
      'stages[1].name: duplicate stage name "collect"',
      'stages[1].jobs: required, a non-empty list of job GUIDs',
      'stages[2].continueOnFailure: must be true or false',
      'stages[2].jobs[0]: duplicate job 24f58e54-5d94-45f8-97a8-ccb6d959233a (also at stages[0].jobs[1].jobId); a job can run once per pipeline',
    ]);
    expect(pipelineProblems({ name: 'x', stages: [] })).toEqual(['stages: required, a non-empty list of stages']);
    expect(pipelineProblems({ name: 'ok', stages: [{ name: 's', jobs: [randomUUID()] }] })).toEqual([]);
  });
});

describe('pipeline entries { name: … }', () => {
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
});

describe('requireFresh', () => {
  it('validation: one of job or fromStage, an earlier stage, a window of at least a minute', () => {
    const job = randomUUID();
    expect(
      pipelineProblems({
        name: 'p',
        stages: [
          { name: 'evaluate', jobs: [job], requireFresh: { fromStage: 'collect', within: '24h' } },
          { name: 'collect', jobs: [randomUUID()] },
          { name: 'report', jobs: [randomUUID()], requireFresh: { job, fromStage: 'collect', within: '1s' } },
          { name: 'other', jobs: [randomUUID()], requireFresh: { job: 'nightly' } },
        ],
      }),
    ).toEqual([
      'stages[0].requireFresh.fromStage: must name an earlier stage; got "collect"',
      "stages[2].requireFresh: give exactly one of job (a collection JobID) and fromStage (an earlier stage's name)",
      'stages[2].requireFresh.within: must be at least 60000 ms; got "1s"',
      'stages[3].requireFresh.job: must be a job GUID like 0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16; got "nightly"',
      'stages[3].requireFresh.within: required, how recent the collection must be, e.g. "24h"',
    ]);
  });
});
