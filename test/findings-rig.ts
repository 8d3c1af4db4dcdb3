/**
 * What the findings tests share: a simulator with a user who may read results and one who may not
 * ("View evaluation results"), and an ended run of a job on 3 assets (one a group of two) × 2 standards.
 */
import { randomUUID } from 'node:crypto';
import type { SimJob } from '../src/sim/state';
import type { Simulator } from '../src/sim/server';
import { addJob, clientFor, eventually, startSim } from './helpers';

/** The ids of the job's assets, group and standards. */
export function findingsIds() {
  const [A, B, C, G, S1, S2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  return { A, B, C, G, S1, S2 };
}

/** S1: 10 checks, 7 pass; S2: 4 checks, 2 pass, 1 not applicable. */
export function findingsScope(ids: ReturnType<typeof findingsIds>): Partial<SimJob> {
  const { A, B, C, G, S1, S2 } = ids;
  return {
    JobType: 'CollectionEvaluationJob',
    assets: [
      { Id: A, Name: 'lnx-01', Type: 'symc-csm-AssetSystem-Asset-Unix-Machine' },
      { Id: G, Name: 'Windows servers', members: [{ Id: B }, { Id: C }] },
    ],
    standards: [S1, S2],
    results: { checks: 10, passRatio: 0.7, byStandard: { [S2]: { checks: 4, passRatio: 0.5, notApplicable: 1 } } },
  };
}

/** `sim-user` may read results; `auditor` (password `a`) may follow runs but not read their results. */
export function startFindingsSim(): Promise<Simulator> {
  return startSim({
    users: { 'sim-user': { password: 'sim-password', role: 'operator' }, auditor: { password: 'a', role: 'operator-no-results' } },
  });
}

/** A run of a job with `scope`, executed and followed until CCS says Completed. */
export async function endedRun(sim: Simulator, scope: Partial<SimJob>): Promise<{ jobId: string; jobRunId: string }> {
  const jobId = addJob(sim, [['Completed', 0]], scope);
  const client = clientFor(sim);
  try {
    const { jobRunId } = await client.executeJob(jobId);
    await eventually(async () => ((await client.getJobRun(jobId, jobRunId)).status === 'Completed' ? true : undefined), 10_000);
    return { jobId, jobRunId };
  } finally {
    await client.close();
  }
}
