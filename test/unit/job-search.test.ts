/**
 * The simulator's Search Jobs (GET /Jobs?Attributes=…&page=&pagesize=) and Search Job by Name
 * (GET /Jobs?jobname=…) read by the CCS client over real sockets, with no Temporal: what
 * `ccs-jobs run --name`, pipeline entries `{ name: … }` and reconcile's search stand on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CcsClient } from '../../src/ccs/client';
import { CcsError } from '../../src/domain/errors';
import type { Simulator } from '../../src/sim/server';
import { addJob, clientFor, startSim } from '../helpers';

let sim: Simulator;
let ccs: CcsClient;
beforeAll(async () => {
  sim = await startSim();
  ccs = clientFor(sim);
});
afterAll(async () => {
  await ccs?.close();
  await sim?.close();
});

/** A name no other test uses. */
const uniqueName = (label: string): string => `${label} ${randomUUID().slice(0, 8)}`;

describe('Search Jobs (GET /Jobs?Attributes=…&page=&pagesize=)', () => {
  it('pages through every match once, in a stable order, across more than one page', async () => {
    const prefix = `Paged ${randomUUID().slice(0, 6)}`;
    const ids = Array.from({ length: 7 }, (_, i) => addJob(sim, [['Completed', 0]], { JobName: `${prefix} ${i}` }));
    addJob(sim, [['Completed', 0]], { JobName: `Other ${prefix}` });
    const seen: string[] = [];
    for (let page = 0; page < 10; page++) {
      const jobs = await ccs.searchJobs(`JobName StartsWith ${prefix}`, { page, pageSize: 3 });
      seen.push(...jobs.map((j) => j.jobId));
      if (jobs.length < 3) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect(sim.stats().jobsearch?.['200']).toBeGreaterThanOrEqual(3);
  });

  it('reads AND, OR, Contains, = with a wildcard and JobType; refuses an unknown attribute with a 400', async () => {
    const tag = randomUUID().slice(0, 6);
    const a = addJob(sim, [['Completed', 0]], { JobName: `Nightly ${tag} Linux`, JobType: 'EvaluationJob' });
    const b = addJob(sim, [['Completed', 0]], { JobName: `Nightly ${tag} Windows`, JobType: 'CollectionJob' });
    const search = async (terms: string): Promise<string[]> =>
      (await ccs.searchJobs(terms, { page: 0, pageSize: 50 })).map((j) => j.jobId).sort();
    expect(await search(`JobName Contains ${tag}, JobType = EvaluationJob`)).toEqual([a]);
    expect(await search(`(JobName = nightly ${tag} *)`)).toEqual([a, b].sort());
    expect(await search(`JobName = Nightly ${tag} Linux | JobName = Nightly ${tag} Windows`)).toEqual([a, b].sort());
    const refused = await ccs.searchJobs('Colour = blue', { page: 0, pageSize: 5 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CcsError);
    expect((refused as CcsError).type).toBe('CcsBadRequest');
    await expect(ccs.searchJobs('  ', { page: 0, pageSize: 5 })).rejects.toThrow(/a job search needs terms/);
  });

  it('Search Job by Name answers the vendor sample’s GET /Jobs?jobname=… with the exact matches', async () => {
    const name = uniqueName('Vendor sample');
    const id = addJob(sim, [['Completed', 0]], { JobName: name });
    expect((await ccs.findJobsByName(name)).map((j) => j.jobId)).toEqual([id]);
    expect(await ccs.findJobsByName(`${name} (copy)`)).toEqual([]);
  });
});
