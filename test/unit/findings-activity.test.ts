/**
 * The collectFindings activity against the simulator (issue 31): 3 assets (one through a group) × 2
 * standards of an ended run, each answer kept as a blob under its SHA-256 with its counts; a retried
 * attempt fetches only what its heartbeat does not hold; a user without "View evaluation results"
 * yields an outcome saying why, not a failure; the pair bound.
 */
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFindingsActivities } from '../../src/activities/findings';
import { serverPicker } from '../../src/activities/servers';
import type { FindingsOutcome } from '../../src/domain/activities';
import { FileBlobStore, sha256Of } from '../../src/evidence/blob-store';
import type { Simulator } from '../../src/sim/server';
import { endedRun, findingsIds, findingsScope, startFindingsSim } from '../findings-rig';
import { clientFor } from '../helpers';
import { tempDir } from '../temp-dir';

const ids = findingsIds();
const { A, B, C, S1, S2 } = ids;
const SCOPE = findingsScope(ids);

let sim: Simulator;
beforeAll(async () => {
  sim = await startFindingsSim();
});
afterAll(async () => {
  await sim?.close();
});

function run(user: 'sim-user' | 'auditor', input: { jobId: string; jobRunId: string; maxPairs?: number }, heartbeatDetails?: unknown) {
  const client = user === 'auditor' ? clientFor(sim, { username: 'auditor', password: 'a' }) : clientFor(sim);
  const blobs = new FileBlobStore(tempDir('ccs-findings-'));
  const beats: unknown[] = [];
  const env = new MockActivityEnvironment({ heartbeatDetails }, { logger: new DefaultLogger('ERROR') });
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const activities = createFindingsActivities({ serverOf: serverPicker({ default: client }), blobs });
  return {
    blobs,
    beats,
    result: env.run((i: typeof input) => activities.collectFindings(i), input).finally(() => client.close()) as Promise<FindingsOutcome>,
  };
}

describe('collectFindings', () => {
  it('keeps the results of 3 assets × 2 standards as blobs with their counts', async () => {
    const ended = await endedRun(sim, SCOPE);
    const requestsBefore = sim.stats().results?.['200'] ?? 0;
    const { result, blobs } = run('sim-user', ended);
    const outcome = await result;
    expect(outcome.total).toBe(6);
    expect(outcome.missing).toBeUndefined();
    expect(outcome.pairs.map((p) => `${p.assetId}/${p.standardId}`).sort()).toEqual(
      [A, B, C].flatMap((a) => [`${a}/${S1}`, `${a}/${S2}`]).sort(),
    );
    for (const p of outcome.pairs) {
      const stored = await blobs.get(p.sha256);
      expect(stored && sha256Of(stored)).toBe(p.sha256);
      expect(p.summary).toEqual(
        p.standardId === S1
          ? { evaluated: 10, passed: 7, failed: 3, notApplicable: 0, other: 0 }
          : { evaluated: 4, passed: 2, failed: 1, notApplicable: 1, other: 0 },
      );
    }
    expect((sim.stats().results?.['200'] ?? 0) - requestsBefore).toBe(6);
  });

  it('a retried attempt fetches only the pairs its heartbeat does not hold; the pair bound is said', async () => {
    const ended = await endedRun(sim, SCOPE);
    const first = run('sim-user', { ...ended, maxPairs: 4 });
    const partial = await first.result;
    expect(partial.pairs).toHaveLength(4);
    expect(partial.missing).toMatchObject({
      type: 'FindingsTooMany',
      reason: 'the job covers 6 asset × standard pairs; the first 4 were fetched',
    });
    const before = sim.stats().results?.['200'] ?? 0;
    const retried = await run('sim-user', ended, first.beats.at(-1)).result;
    expect(retried.pairs).toHaveLength(6);
    expect((sim.stats().results?.['200'] ?? 0) - before).toBe(2);
  });

  it('a user without "View evaluation results": no failure, the outcome says why the findings are missing', async () => {
    const ended = await endedRun(sim, SCOPE);
    const outcome = await run('auditor', ended).result;
    expect(outcome.pairs).toEqual([]);
    expect(outcome.missing?.type).toBe('CcsForbidden');
    expect(outcome.missing?.reason).toMatch(/forbidden \(403\).*View evaluation results/);
  });
});
