/**
 * The PostgreSQL evidence sink on a real PostgreSQL server from the machine's packages (issue 19):
 * the migration, a worker's records, one chain from concurrent writers, an edited and a deleted row
 * found by `ccs-jobs evidence verify`.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../src/dev/cluster/postgres';
import type { EvidenceContent } from '../../src/domain/evidence';
import { PostgresEvidenceSink } from '../../src/evidence/postgres-sink';
import { createWorker } from '../../src/hosting/create-worker';
import type { runCcsJob } from '../../src/workflows';
import { addJob, clientFor, quietRuntime, runCli, simAndWorker, type CliRun } from '../helpers';

const rig = simAndWorker();
let pg: LocalPostgres;

beforeAll(async () => {
  pg = await startPostgres({ log: () => undefined });
}, 600_000);
afterAll(async () => {
  await pg?.remove();
});

async function sql(text: string): Promise<void> {
  const db = new PgClient({ connectionString: pg.url });
  await db.connect();
  try {
    await db.query(text);
  } finally {
    await db.end();
  }
}

function verifyWithCli(...args: string[]): Promise<CliRun> {
  return runCli(['evidence', 'verify', ...args], { EVIDENCE_DATABASE_URL: pg.url });
}

describe('PostgreSQL evidence sink', () => {
  it('a worker writes its records there; concurrent writers extend one chain; verify names an edited and a deleted row', async () => {
    const sink = new PostgresEvidenceSink<EvidenceContent>(pg.url);
    quietRuntime();
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const ccs = clientFor(rig.sim);
    const taskQueue = `pg-evidence-${randomUUID()}`;
    const worker = await createWorker({
      connection,
      taskQueue,
      servers: { default: ccs },
      workflowBundlePath: inject('workflowBundlePath'),
      failWorkflowOnBug: true,
      evidence: sink,
    });
    const running = worker.run();
    try {
      const handle = await rig.w.client.workflow.start<typeof runCcsJob>('runCcsJob', {
        taskQueue,
        workflowId: `pg-${randomUUID()}`,
        args: [
          {
            jobId: addJob(rig.sim, [
              ['Executing', 1],
              ['Completed', 0],
            ]),
            pollInterval: '1s',
          },
        ],
      });
      await handle.result();
    } finally {
      worker.shutdown();
      await running;
      await ccs.close();
      await connection.close();
    }
    const writers = [new PostgresEvidenceSink<EvidenceContent>(pg.url), new PostgresEvidenceSink<EvidenceContent>(pg.url)];
    const draft = (i: number): EvidenceContent => ({
      key: `concurrent-${i}/run`,
      recordedAt: new Date().toISOString(),
      kind: 'job',
      workflowId: `concurrent-${i}`,
      runId: 'run',
      startedBy: {},
      ccs: 'default',
      jobId: null,
      jobRunId: null,
      startTime: null,
      endTime: null,
      status: 'Completed',
      outcome: 'completed',
      error: null,
      exception: null,
      messages: [],
      cancel: null,
      deadline: null,
      late: false,
      workerVersion: 'test',
      pipelineDigest: null,
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 2]!.append(draft(i))));
    expect((await writers[1]!.append(draft(3))).duplicate).toBe(true);
    await Promise.all(writers.map((w) => w.close()));

    const intact = await sink.verify();
    expect(intact).toMatchObject({ count: 41, broken: null });
    const records: EvidenceContent[] = [];
    for await (const r of sink.records()) if (r) records.push(r);
    expect(records[0]).toMatchObject({ kind: 'job', status: 'Completed', outcome: 'completed' });
    const head = /is intact: 41 record\(s\), head (41:[0-9a-f]{64})\n/.exec((await verifyWithCli()).stdout)?.[1];
    expect(head).toBeDefined();

    await sql(`UPDATE ccs_evidence SET record = replace(record, '"status":"Completed"', '"status":"Faulted"') WHERE seq = 5`);
    const edited = await verifyWithCli();
    expect(edited.code).toBe(2);
    expect(edited.stdout).toMatch(/BROKEN at record 5 \(edited\)/);
    await sql(`UPDATE ccs_evidence SET record = replace(record, '"status":"Faulted"', '"status":"Completed"') WHERE seq = 5`);
    await sql('DELETE FROM ccs_evidence WHERE seq = 7');
    const deleted = await verifyWithCli();
    expect(deleted.code).toBe(2);
    expect(deleted.stdout).toMatch(/BROKEN at record 7 \(missing before\): record 8 links to/);
    // A chain rewritten from scratch is valid in itself; the head kept from before refutes it.
    await sql('TRUNCATE ccs_evidence');
    const rebuilt = new PostgresEvidenceSink<EvidenceContent>(pg.url);
    for (let i = 0; i < 41; i++) await rebuilt.append(draft(100 + i));
    await rebuilt.close();
    const rewritten = await verifyWithCli('--anchor', head!);
    expect(rewritten.code).toBe(2);
    expect(rewritten.stdout).toMatch(/BROKEN at record 41 \(anchor\): record 41 hashes to [0-9a-f]{12}…, not to the anchored/);
    // The newest rows removed: the 39 left verify alone; the anchored head shows what went.
    const rebuiltHead = /head (41:[0-9a-f]{64})/.exec((await verifyWithCli()).stdout)?.[1];
    await sql('DELETE FROM ccs_evidence WHERE seq > 39');
    expect((await verifyWithCli()).code).toBe(0);
    const truncated = await verifyWithCli('--anchor', rebuiltHead!);
    expect(truncated.code).toBe(2);
    expect(truncated.stdout).toMatch(
      /BROKEN at record 40 \(anchor\): anchored record 41 is missing: the chain ends at record 39, so its newest 2 or more record\(s\) were removed/,
    );
    await sink.close();
  }, 120_000);
});
