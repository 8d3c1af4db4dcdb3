/**
 * Evidence records (issue 19, part 1): one sealed record per closed run, per outcome, in the worker's
 * chain; a retried write adds nothing; the chain verifies.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { runCcsPipeline } from '../../src/workflows';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import type { EvidenceContent } from '../../src/domain/evidence';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import type { Chained } from '../../src/evidence/chain';
import { addJob, eventually, failureOf, simAndWorker, startRun } from '../helpers';

const rig = simAndWorker();

async function recordsOf(workflowId: string): Promise<(EvidenceContent & Chained)[]> {
  const out: (EvidenceContent & Chained)[] = [];
  for await (const r of new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).records()) if (r && r.workflowId === workflowId) out.push(r);
  return out;
}

describe('evidence records', () => {
  it('one record per outcome: completed, faulted, aborted by signal, timed out; the chain verifies', async () => {
    const completed = await startRun(rig.w, { jobId: addJob(rig.sim, [['Executing', 1], ['Completed', 0]]), pollInterval: '1s', requestedBy: 'alice' });
    await completed.result();
    const faulted = await startRun(rig.w, { jobId: addJob(rig.sim, [['Executing', 1], ['Faulted', 0]], { exception: 'host unreachable', messages: [{ Message: 'lnx-07 down' }] }), pollInterval: '1s' });
    await failureOf(faulted.result());
    const aborted = await startRun(rig.w, { jobId: addJob(rig.sim, [['Executing', 60], ['Completed', 0]]), pollInterval: '1s' });
    await eventually(async () => (await aborted.query(statusQuery)).jobRunId);
    await aborted.signal(cancelSignal, { reason: 'scan called off' });
    await aborted.result();
    const timedOut = await startRun(rig.w, { jobId: addJob(rig.sim, [['Executing', 60], ['Completed', 0]]), pollInterval: '1s', timeout: '3s' });
    await failureOf(timedOut.result());

    const [c] = await recordsOf(completed.workflowId);
    expect(c).toMatchObject({ kind: 'job', status: 'Completed', outcome: 'completed', error: null, ccs: 'default', startedBy: { requestedBy: 'alice' }, late: false });
    expect(c?.jobRunId).toMatch(/^[0-9a-f-]{36}$/);
    expect(c?.workerVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const [f] = await recordsOf(faulted.workflowId);
    expect(f).toMatchObject({ status: 'Faulted', outcome: 'CcsJobFaulted', exception: 'host unreachable', messages: [{ text: 'lnx-07 down' }] });
    const [a] = await recordsOf(aborted.workflowId);
    expect(a).toMatchObject({ status: 'Aborted', outcome: 'completed', cancel: { by: 'signal', reason: 'scan called off' } });
    const [t] = await recordsOf(timedOut.workflowId);
    expect(t).toMatchObject({ status: 'Aborted', outcome: 'CcsJobTimedOut', cancel: { by: 'timeout' } });
    expect(t?.deadline).toMatch(/^\d{4}-/);
    for (const id of [completed, faulted, aborted, timedOut].map((h) => h.workflowId)) expect(await recordsOf(id)).toHaveLength(1);
    expect((await new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).verify()).broken).toBeNull();
  });

  it('a pipeline with failures: its own record (report, digest, requester) and one per job, naming the pipeline', async () => {
    const ok = addJob(rig.sim, [['Executing', 1], ['Completed', 0]]);
    const bad = addJob(rig.sim, [['Executing', 1], ['Faulted', 0]]);
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `p-${randomUUID()}`,
      args: [{ name: 'evidence scan', pollInterval: '1s', requestedBy: 'ops-bob', stages: [{ name: 'collect', continueOnFailure: true, jobs: [ok, bad] }] }],
    });
    expect((await handle.result()).status).toBe('CompletedWithFailures');
    const [p] = await recordsOf(handle.workflowId);
    expect(p).toMatchObject({ kind: 'pipeline', status: 'CompletedWithFailures', outcome: 'completed', startedBy: { requestedBy: 'ops-bob' } });
    expect(p?.pipelineDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(p?.pipeline?.stages[0]?.jobs.map((j) => j.state)).toEqual(['completed', 'failed']);
    const children = p!.pipeline!.stages[0]!.jobs.map((j) => j.workflowId);
    for (const child of children) expect((await recordsOf(child))[0]?.startedBy).toEqual({ pipelineWorkflowId: handle.workflowId });
  });
});
