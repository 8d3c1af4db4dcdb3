/**
 * Retry-as-poll keeps history flat: a run with 3 status changes and 50+ polls stays within 50 events,
 * and a run long enough for the server to suggest it continues as new carries its state across.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import { startDevServer, type DevServer } from '../../src/dev/dev-server';
import type { EvidenceContent } from '../../src/domain/evidence';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import type { runCcsJob } from '../../src/workflows';
import { addJob, eventually, recordHistory, simAndWorker, startRun, startWorker, type TestWorker } from '../helpers';

const rig = simAndWorker();

describe('history size', () => {
  // 48 today (62 before issue 27 removed the pre-release patches' 14 markers and TemporalChangeVersion
  // upserts), 6 of them the closing evidence record; polling itself adds none.
  it('3 status changes and at least 50 polls fit in 50 events', async () => {
    const jobId = addJob(rig.sim, [
      ['Pending', 4],
      ['Executing', 44],
      ['Custom', 6],
      ['Completed', 0],
    ]);
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', maxPollInterval: '1s' });
    const result = await handle.result();
    const history = await handle.fetchHistory();
    const events = history.events?.length ?? 0;
    console.log(`history: ${events} events for ${result.polls} polls and 3 status changes (Pending → Executing → Custom → Completed)`);
    expect(result.status).toBe('Completed');
    expect(result.polls).toBeGreaterThanOrEqual(50);
    expect(events).toBeLessThanOrEqual(50);
    await recordHistory(handle, 'fifty-polls');
  }, 120_000);
});

describe('continue-as-new', () => {
  let server: DevServer;
  let worker: TestWorker;

  beforeAll(async () => {
    // A server that suggests continue-as-new after 12 events, so a short run crosses several executions.
    server = await startDevServer({ extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=12'] });
    worker = await startWorker(rig.sim, {}, server.address);
  });
  afterAll(async () => {
    await worker?.stop();
    await server?.stop();
  });

  it('carries run, polls and deadline across executions; query and cancel keep working', async () => {
    const jobId = addJob(rig.sim, [
      ['Pending', 2],
      ['Executing', 2],
      ['Idle', 2],
      ['Executing', 600],
    ]);
    // Started by a client with an identity of its own: the closing record names it, not the worker
    // that continued the workflow.
    const starter = new Client({ connection: worker.client.connection, identity: 'scan-starter@ops-host' });
    const handle = await starter.workflow.start<typeof runCcsJob>('runCcsJob', {
      taskQueue: worker.taskQueue,
      workflowId: `t-${randomUUID()}`,
      args: [{ jobId, pollInterval: '1s', maxPollInterval: '1s', timeout: '10m' }],
    });
    const later = await eventually(
      async () => {
        const d = await handle.describe();
        const s = await handle.query(statusQuery);
        return d.runId !== handle.firstExecutionRunId && s.status === 'Executing' && s.polls > 0 ? s : undefined;
      },
      30_000,
      'a continued execution following the run',
    );
    const [run] = rig.sim.state.runsOf(jobId);
    expect(later).toMatchObject({ phase: 'running', jobRunId: run?.JobRunID });
    await handle.signal(cancelSignal, { reason: 'after continue-as-new' });
    const result = await handle.result();
    expect(result).toMatchObject({
      jobRunId: run?.JobRunID,
      status: 'Aborted',
      cancelled: { by: 'signal', reason: 'after continue-as-new' },
    });
    expect(result.polls).toBeGreaterThanOrEqual(later.polls);
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    expect(run?.abortRequests).toBe(1);
    const records = await eventually(async () => {
      const found: EvidenceContent[] = [];
      for await (const r of new JsonlEvidenceSink<EvidenceContent>(worker.evidence).records())
        if (r?.workflowId === handle.workflowId) found.push(r);
      return found.length > 0 ? found : undefined;
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'Aborted', startedBy: { identity: 'scan-starter@ops-host' } });
    expect(records[0]?.runId).not.toBe(handle.firstExecutionRunId);
    await recordHistory(handle, 'continued-as-new', server.address);
    await recordHistory(
      worker.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId),
      'continue-as-new-first-execution',
      server.address,
    );
  }, 60_000);
});
