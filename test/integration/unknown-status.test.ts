/**
 * A run whose CCS status stays outside the documented codes 0–7, through a real workflow on the dev
 * server and the simulator over its socket: flagged `CcsUnknownStatus` once it lasts longer than
 * `unknownStatusAttentionAfter` (query, `CcsAttention`), still followed, cleared when CCS reports a
 * documented status, and the workflow ends as CCS says.
 */
import { describe, expect, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import { addJob, eventually, searchAttributeHistory, startRun, startSim, startWorker } from '../helpers';

describe('a run in an undocumented status', () => {
  it('status 9 for longer than unknownStatusAttentionAfter: flagged CcsUnknownStatus, still followed, cleared when it completes', async () => {
    const sim = await startSim();
    const w = await startWorker(sim);
    try {
      const jobId = addJob(sim, [
        ['Executing', 2],
        [9, 20],
        ['Completed', 0],
      ]);
      const handle = await startRun(w, { jobId, pollInterval: '1s', maxPollInterval: '2s', unknownStatusAttentionAfter: '3s' });
      const flagged = await eventually(async () => (await handle.query(statusQuery)).attention, 30_000, 'the run to be flagged');
      expect(flagged.type).toBe(ErrorType.UnknownStatus);
      expect(flagged.message).toContain('has reported status "9", outside the documented codes 0–7');
      expect(await handle.query(statusQuery)).toMatchObject({ phase: 'running', status: '9', statusCode: null });
      // What `ccs-jobs list --attention` finds: the search attribute, while the run is still going.
      await eventually(
        async () =>
          (await w.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND CcsAttention = '${ErrorType.UnknownStatus}'`)).count ===
          1,
        20_000,
        'CcsAttention to be visible',
      );
      expect((await handle.describe()).status.name).toBe('RUNNING');
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(sim.state.runsOf(jobId)).toHaveLength(1);
      expect((await handle.query(statusQuery)).attention).toBeUndefined();
      expect(await searchAttributeHistory(handle, 'CcsAttention')).toEqual([ErrorType.UnknownStatus, null]); // set once, then cleared
      expect(await searchAttributeHistory(handle, 'CcsJobStatus')).toEqual(['Executing', '9', 'Completed']);
      // Flagging and clearing add a few events once, nothing per poll.
      const history = await handle.fetchHistory();
      expect(history.events?.length).toBeLessThanOrEqual(70);
    } finally {
      await w.stop();
      await sim.close();
    }
  }, 90_000);
});
