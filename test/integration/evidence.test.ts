/**
 * Evidence records (issue 19, part 1): one sealed record per closed run, per outcome, in the worker's
 * chain; a retried write adds nothing; the chain verifies.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { runCcsPipeline } from '../../src/workflows';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import type { EvidenceContent } from '../../src/domain/evidence';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import type { Chained } from '../../src/evidence/chain';
import { addJob, type CliRun, eventually, failureOf, recordHistory, runCli, simAndWorker, startRun } from '../helpers';
import { tempDir } from '../temp-dir';
import { validate } from '../trestle';

const rig = simAndWorker();

function cli(args: string[]): Promise<CliRun> {
  return runCli(args);
}

async function recordsOf(workflowId: string): Promise<(EvidenceContent & Chained)[]> {
  const out: (EvidenceContent & Chained)[] = [];
  for await (const r of new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).records()) if (r && r.workflowId === workflowId) out.push(r);
  return out;
}

describe('evidence records', () => {
  it('one record per outcome: completed, faulted, aborted by signal, timed out; the chain verifies', async () => {
    const completed = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
      requestedBy: 'alice',
    });
    await completed.result();
    const faulted = await startRun(rig.w, {
      jobId: addJob(
        rig.sim,
        [
          ['Executing', 1],
          ['Faulted', 0],
        ],
        { exception: 'host unreachable', messages: [{ Message: 'lnx-07 down' }] },
      ),
      pollInterval: '1s',
    });
    await failureOf(faulted.result());
    const aborted = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
    });
    await eventually(async () => (await aborted.query(statusQuery)).jobRunId);
    await aborted.signal(cancelSignal, { reason: 'scan called off' });
    await aborted.result();
    const timedOut = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
      timeout: '3s',
    });
    await failureOf(timedOut.result());

    await recordHistory(completed, 'evidence-completed');
    const refused = await startRun(rig.w, { jobId: 'not-a-guid', pollInterval: '1s' });
    expect((await failureOf(refused.result())).type).toBe('CcsInvalidInput');
    expect((await recordsOf(refused.workflowId))[0]).toMatchObject({ status: 'NotStarted', outcome: 'CcsInvalidInput', jobRunId: null });
    const [c] = await recordsOf(completed.workflowId);
    expect(c).toMatchObject({
      kind: 'job',
      status: 'Completed',
      outcome: 'completed',
      error: null,
      ccs: 'default',
      startedBy: { requestedBy: 'alice', identity: `${process.pid}@${hostname()}` },
      late: false,
    });
    expect(c?.jobRunId).toMatch(/^[0-9a-f-]{36}$/);
    expect(c?.workerVersion).toMatch(/^\d+\.\d+\.\d+$/);
    const [f] = await recordsOf(faulted.workflowId);
    expect(f).toMatchObject({
      status: 'Faulted',
      outcome: 'CcsJobFaulted',
      exception: 'host unreachable',
      messages: [{ text: 'lnx-07 down' }],
    });
    const [a] = await recordsOf(aborted.workflowId);
    expect(a).toMatchObject({ status: 'Aborted', outcome: 'completed', cancel: { by: 'signal', reason: 'scan called off' } });
    const [t] = await recordsOf(timedOut.workflowId);
    expect(t).toMatchObject({ status: 'Aborted', outcome: 'CcsJobTimedOut', cancel: { by: 'timeout' } });
    expect(t?.deadline).toMatch(/^\d{4}-/);
    for (const id of [completed, faulted, aborted, timedOut].map((h) => h.workflowId)) expect(await recordsOf(id)).toHaveLength(1);
    expect((await new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).verify()).broken).toBeNull();
  });

  it('a pipeline with failures: its own record (report, digest, requester) and one per job, naming the pipeline', async () => {
    const ok = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const bad = addJob(rig.sim, [
      ['Executing', 1],
      ['Faulted', 0],
    ]);
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `p-${randomUUID()}`,
      args: [
        {
          name: 'evidence scan',
          pollInterval: '1s',
          requestedBy: 'ops-bob',
          stages: [{ name: 'collect', continueOnFailure: true, jobs: [ok, bad] }],
        },
      ],
    });
    expect((await handle.result()).status).toBe('CompletedWithFailures');
    const [p] = await recordsOf(handle.workflowId);
    expect(p).toMatchObject({
      kind: 'pipeline',
      status: 'CompletedWithFailures',
      outcome: 'completed',
      startedBy: { requestedBy: 'ops-bob' },
    });
    expect(p?.pipelineDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(p?.pipeline?.stages[0]?.jobs.map((j) => j.state)).toEqual(['completed', 'failed']);
    const children = p!.pipeline!.stages[0]!.jobs.map((j) => j.workflowId);
    for (const child of children) expect((await recordsOf(child))[0]?.startedBy).toEqual({ pipelineWorkflowId: handle.workflowId });
  });

  it('ccs-jobs evidence list, show, verify and export; verify names an edited and a deleted record', async () => {
    const done = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]),
      pollInterval: '1s',
    });
    await done.result();
    await eventually(async () => (await recordsOf(done.workflowId)).length === 1);
    const dir = tempDir('ccs-evidence-copy-');
    cpSync(rig.w.evidence, dir, { recursive: true });
    const all = JSON.parse((await cli(['evidence', 'list', '--dir', dir, '--json'])).stdout) as { seq: number }[];
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect((await cli(['evidence', 'list', '--dir', dir, '--status', 'faulted'])).stdout).toMatch(/Faulted\s+CcsJobFaulted/);
    expect(JSON.parse((await cli(['evidence', 'show', done.workflowId, '--dir', dir])).stdout)).toMatchObject({
      workflowId: done.workflowId,
      status: 'Completed',
    });
    const intact = await cli(['evidence', 'verify', '--dir', dir]);
    expect(intact.code).toBe(0);
    const head = new RegExp(`is intact: ${all.length} record\\(s\\), head (${all.length}:[0-9a-f]{64})\n`).exec(intact.stdout)?.[1];
    expect(head, intact.stdout).toBeDefined();
    expect((await cli(['evidence', 'verify', '--dir', dir, '--anchor', head!])).stdout).toMatch(/is intact: .*; 1 anchor\(s\) found/);
    const badAnchor = await cli(['evidence', 'verify', '--dir', dir, '--anchor', 'yesterday']);
    expect([badAnchor.code, badAnchor.stderr.trim().split('\n')]).toEqual([1, [expect.stringMatching(/--anchor must be SEQ:HASH/)]]);
    const csvFile = join(dir, 'out.csv');
    expect((await cli(['evidence', 'export', '--format', 'csv', '--out', csvFile, '--dir', dir])).stdout).toBe(
      `exported ${all.length} record(s) as csv to ${csvFile}\n`,
    );
    const csv = readFileSync(csvFile, 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^seq,recordedAt,kind,workflowId,/);
    expect(csv).toHaveLength(all.length + 1);
    const htmlFile = join(dir, 'out.html');
    expect((await cli(['evidence', 'export', '--format', 'html', '--out', htmlFile, '--dir', dir])).code).toBe(0);
    expect(readFileSync(htmlFile, 'utf8')).toMatch(/<section class="pipeline" data-workflow-id="p-[0-9a-f-]{36}">[\s\S]*evidence scan/);
    const jsonFile = join(dir, 'out.json');
    await cli(['evidence', 'export', '--format', 'json', '--out', jsonFile, '--dir', dir, '--since', '1h']);
    expect((JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown[]).length).toBe(all.length);

    const file = readdirSync(dir).find((n) => n.startsWith('evidence-'))!;
    const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n');
    writeFileSync(join(dir, file), `${[lines[0], lines[1]!.replace('"status":"', '"status":"X'), ...lines.slice(2)].join('\n')}\n`);
    const edited = await cli(['evidence', 'verify', '--dir', dir]);
    expect(edited.code).toBe(2);
    expect(edited.stdout).toMatch(
      /is BROKEN: 1 break\(s\) in \d+ record\(s\)\n {2}at position 2 \(edited\): record \d+ does not hash to its hash/,
    );
    writeFileSync(join(dir, file), `${[lines[0], ...lines.slice(2)].join('\n')}\n`);
    const deleted = await cli(['evidence', 'verify', '--dir', dir]);
    expect(deleted.code).toBe(2);
    expect(deleted.stdout).toMatch(
      /is BROKEN: 1 break\(s\) in \d+ record\(s\)\n {2}at position 2 \(missing before\): .*1 record\(s\) removed before it/,
    );
    // The newest record removed: the shorter chain is valid in itself; only the anchored head shows it.
    writeFileSync(join(dir, file), `${lines.slice(0, -1).join('\n')}\n`);
    expect((await cli(['evidence', 'verify', '--dir', dir])).code).toBe(0);
    const truncated = await cli(['evidence', 'verify', '--dir', dir, '--anchor', head!]);
    expect(truncated.code).toBe(2);
    expect(truncated.stdout).toMatch(
      new RegExp(
        `at position ${all.length} \\(anchor\\): anchored record ${all.length} is missing: the chain ends at record ${all.length - 1}`,
      ),
    );
  });
  it('the records the worker wrote, exported as OSCAL (trestle validates it) and bundled for an offline check', async () => {
    const done = await startRun(rig.w, {
      jobId: addJob(rig.sim, [
        ['Executing', 1],
        ['Faulted', 0],
      ]),
      pollInterval: '1s',
    });
    await done.result().catch(() => undefined);
    await eventually(async () => (await recordsOf(done.workflowId)).length === 1);
    const dir = tempDir('ccs-evidence-oscal-');
    cpSync(rig.w.evidence, dir, { recursive: true });
    const oscalFile = join(dir, 'assessment-results.json');
    const exported = await cli(['evidence', 'export', '--format', 'oscal', '--out', oscalFile, '--dir', dir]);
    expect(exported.code, exported.stderr).toBe(0);
    const document = JSON.parse(readFileSync(oscalFile, 'utf8')) as { 'assessment-results': { results: { description: string }[] } };
    expect(document['assessment-results'].results.some((r) => r.description.includes(done.workflowId))).toBe(true);
    const validated = await validate(document, 'worker-records');
    expect(validated.code, validated.output).toBe(0);

    const bundle = join(tempDir('ccs-evidence-bundle-'), 'audit.zip');
    const made = await cli(['evidence', 'bundle', '--since', '1h', '--out', bundle, '--dir', dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^bundled \d+ record\(s\)/);
    const checked = await cli(['evidence', 'verify', '--bundle', bundle]);
    expect(checked.stdout).toMatch(/^evidence bundle .* is intact: \d+ record\(s\)/);
    expect(checked.code).toBe(0);
    // One byte of the ZIP changed: named, exit 2.
    const bytes = readFileSync(bundle);
    bytes[40] = bytes[40]! ^ 0xff;
    writeFileSync(bundle, bytes);
    const broken = await cli(['evidence', 'verify', '--bundle', bundle]);
    expect(broken.stdout).toMatch(/is BROKEN: [1-9]\d* problem\(s\)/);
    expect(broken.code).toBe(2);
  });
});
