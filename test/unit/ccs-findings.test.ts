/**
 * The client's findings calls against the simulator over real sockets (issue 31): a job's scope
 * (assets, groups, standards), a group resolved to its assets, raw results per asset × standard of
 * an ended run with their counts, a shape it cannot read kept raw and unread, and the 403 of a user
 * without "View evaluation results" naming that task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorType } from '../../src/domain/errors';
import { summarizeResults } from '../../src/ccs/parse';
import type { Simulator } from '../../src/sim/server';
import { endedRun, findingsIds, findingsScope, startFindingsSim } from '../findings-rig';
import { addJob, clientFor, eventually, startSim } from '../helpers';

const ids = findingsIds();
const { A, B, C, G, S1, S2 } = ids;
const SCOPE = findingsScope(ids);

let sim: Simulator;
beforeAll(async () => {
  sim = await startFindingsSim();
});
afterAll(async () => {
  await sim?.close();
});

describe('findings calls of the CCS client', () => {
  it('reads the scope, resolves the group, and counts the results of 3 assets × 2 standards', async () => {
    const { jobId, jobRunId } = await endedRun(sim, SCOPE);
    const client = clientFor(sim);
    try {
      const scope = await client.getJobScope(jobId);
      expect(scope).toEqual({
        assets: [
          { id: A, type: 'symc-csm-AssetSystem-Asset-Unix-Machine', group: false },
          { id: G, type: 'symc-csm-AssetSystem-AssetGroup', group: true },
        ],
        standards: [S1, S2],
      });
      expect((await client.getAssetGroupAssets(G)).map((a) => a.id).sort()).toEqual([B, C].sort());
      for (const assetId of [A, B, C]) {
        const first = await client.getEvaluationResults({ assetId, standardId: S1, jobRunId });
        expect(first.summary).toEqual({ evaluated: 10, passed: 7, failed: 3, notApplicable: 0, other: 0 });
        expect(JSON.parse(first.text)).toMatchObject({ JobRunId: jobRunId });
        const second = await client.getEvaluationResults({ assetId, standardId: S2, jobRunId });
        expect(second.summary).toEqual({ evaluated: 4, passed: 2, failed: 1, notApplicable: 1, other: 0 });
      }
    } finally {
      await client.close();
    }
  });

  it('a user without "View evaluation results" gets a 403 naming that task; a shape it cannot read is kept and not counted', async () => {
    const { jobRunId } = await endedRun(sim, SCOPE);
    const auditor = clientFor(sim, { username: 'auditor', password: 'a' });
    try {
      const refused = await auditor.getEvaluationResults({ assetId: A, standardId: S1, jobRunId }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ type: ErrorType.Forbidden });
      expect((refused as Error).message).toMatch(/forbidden \(403\).*needs the task View evaluation results$/);
    } finally {
      await auditor.close();
    }
    const xmlSim = await startSim({ resultsShape: 'xml' });
    try {
      const jobId = addJob(xmlSim, [['Completed', 0]], SCOPE);
      const client = clientFor(xmlSim);
      const run = await client.executeJob(jobId);
      await eventually(async () => ((await client.getJobRun(jobId, run.jobRunId)).status === 'Completed' ? true : undefined), 10_000);
      const kept = await client.getEvaluationResults({ assetId: A, standardId: S1, jobRunId: run.jobRunId });
      expect(kept.summary).toBeNull();
      expect(kept.text).toMatch(/^\{"Results":"<\?xml/);
      await client.close();
    } finally {
      await xmlSim.close();
    }
    expect(summarizeResults({ Results: '<xml/>' })).toBeNull();
    expect(summarizeResults({ Checks: [{ CheckId: 'c', Result: 'Pass' }, { CheckId: 'd' }] })).toBeNull();
    expect(summarizeResults([{ Status: 'Non-Compliant' }, { Status: 'N/A' }])).toEqual({
      evaluated: 2,
      passed: 0,
      failed: 1,
      notApplicable: 0,
      other: 1,
    });
  });
});
