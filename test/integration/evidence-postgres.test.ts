/**
 * The PostgreSQL evidence sink on a real PostgreSQL server from the machine's packages (issue 19):
 * the migration, a worker's records, one chain from concurrent writers, an edited and a deleted row
 * found by `ccs-jobs evidence verify`; the append-only table (issue 31): a writer role that may only
 * SELECT and INSERT, the triggers that refuse even the owner's UPDATE, DELETE and TRUNCATE, and TLS
 * when the URL asks for it.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../src/dev/cluster/postgres';
import type { EvidenceContent } from '../../src/domain/evidence';
import { APPEND_ONLY_SQLSTATE, migrateEvidenceDatabase, PostgresBlobStore, PostgresEvidenceSink } from '../../src/evidence/postgres-sink';
import { BlobDigestMismatch } from '../../src/evidence/blob-store';
import { createWorker } from '../../src/hosting/create-worker';
import type { runCcsJob } from '../../src/workflows';
import { addJob, clientFor, quietRuntime, runCli, simAndWorker, type CliRun } from '../helpers';

const rig = simAndWorker();
let pg: LocalPostgres;

beforeAll(async () => {
  pg = await startPostgres({ log: () => undefined, ssl: true });
}, 600_000);
afterAll(async () => {
  await pg?.remove();
});

async function sql(text: string): Promise<void> {
  await query(pg.url, text);
}

/** One statement on a connection of its own; the rows. */
async function query<R extends object = Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  const db = new PgClient({ connectionString: url });
  await db.connect();
  try {
    return (await db.query<R>(text)).rows;
  } finally {
    await db.end();
  }
}

/** The error a statement meets (the test fails when it succeeds). */
async function refusal(url: string, text: string): Promise<{ code?: string; message: string }> {
  try {
    await query(url, text);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error(`not refused: ${text}`);
}

/** The URL of another database on the same server, as another role. */
function urlFor(database: string, user = pg.user, password = pg.password, params = ''): string {
  return `postgres://${user}:${password}@127.0.0.1:${pg.port}/${database}${params}`;
}

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

    // The workers here connect as a superuser, which applied the migrations and so owns the table:
    // its UPDATE meets the append-only trigger...
    const refused = await refusal(pg.url, `UPDATE ccs_evidence SET record = record || ' ' WHERE seq = 5`);
    expect(refused.code).toBe(APPEND_ONLY_SQLSTATE);
    // ...which the owner or a superuser can still turn off on purpose. What this test shows is that
    // verify catches the edits, deletions and rewrites such a role makes then.
    await sql('ALTER TABLE ccs_evidence DISABLE TRIGGER USER');
    await sql(`UPDATE ccs_evidence SET record = replace(record, '"status":"Completed"', '"status":"Faulted"') WHERE seq = 5`);
    const edited = await verifyWithCli();
    expect(edited.code).toBe(2);
    expect(edited.stdout).toMatch(/BROKEN[\s\S]*\b5 \(edited\): record 5 does not hash/);
    await sql(`UPDATE ccs_evidence SET record = replace(record, '"status":"Faulted"', '"status":"Completed"') WHERE seq = 5`);
    await sql('DELETE FROM ccs_evidence WHERE seq = 7');
    const deleted = await verifyWithCli();
    expect(deleted.code).toBe(2);
    expect(deleted.stdout).toMatch(/BROKEN[\s\S]*\b7 \(missing before\): record 8 links to/);
    // A chain rewritten from scratch is valid in itself; the head kept from before refutes it.
    await sql('TRUNCATE ccs_evidence');
    const rebuilt = new PostgresEvidenceSink<EvidenceContent>(pg.url);
    for (let i = 0; i < 41; i++) await rebuilt.append(draft(100 + i));
    await rebuilt.close();
    const rewritten = await verifyWithCli('--anchor', head!);
    expect(rewritten.code).toBe(2);
    expect(rewritten.stdout).toMatch(/BROKEN[\s\S]*\b41 \(anchor\): record 41 hashes to [0-9a-f]{12}…, not to the anchored/);
    // The newest rows removed: the 39 left verify alone; the anchored head shows what went.
    const rebuiltHead = /head (41:[0-9a-f]{64})/.exec((await verifyWithCli()).stdout)?.[1];
    await sql('DELETE FROM ccs_evidence WHERE seq > 39');
    expect((await verifyWithCli()).code).toBe(0);
    const truncated = await verifyWithCli('--anchor', rebuiltHead!);
    expect(truncated.code).toBe(2);
    expect(truncated.stdout).toMatch(
      /BROKEN[\s\S]*\b40 \(anchor\): anchored record 41 is missing: the chain ends at record 39, so its newest 2 or more record\(s\) were removed/,
    );
    await sink.close();
  }, 120_000);

  it('migrated by the owner, the writer role appends and reads but may not UPDATE, DELETE or TRUNCATE; the owner meets the triggers', async () => {
    // A database of its own, where PUBLIC may not create in the schema (PostgreSQL 15's default, said
    // explicitly for older servers), and a login role for the workers.
    const writerPassword = randomUUID();
    await sql(`CREATE ROLE ccs_writer LOGIN PASSWORD '${writerPassword}'`);
    await sql('CREATE DATABASE ccs_roles');
    const admin = urlFor('ccs_roles');
    await query(admin, 'REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    const writerUrl = urlFor('ccs_roles', 'ccs_writer', writerPassword);
    const writer = new PostgresEvidenceSink<EvidenceContent>(writerUrl);
    const tables = async (): Promise<unknown> =>
      (await query<{ t: string | null }>(admin, "SELECT to_regclass('ccs_evidence_migrations')::text AS t"))[0]?.t;

    // Nothing migrated yet, and the writer may not: one line naming the command its owner must run.
    await expect(writer.append(draft(1))).rejects.toThrow(
      /^the evidence database lacks migration\(s\) 1, 2, 3, which role "ccs_writer" may not apply \(permission denied for schema public\): the tables' owner must apply them with `ccs-jobs evidence migrate --writer ccs_writer`$/,
    );
    // A writer that could still rewrite the record is refused, and nothing is left behind.
    await expect(migrateEvidenceDatabase(admin, { writerRole: pg.user })).rejects.toThrow(
      new RegExp(`^role "${pg.user}" may still UPDATE, DELETE, TRUNCATE on ccs_evidence .*nothing was changed$`),
    );
    expect(await tables()).toBeNull();
    // So is one that holds no privilege itself but may SET ROLE to the owner (here a superuser).
    await sql(`CREATE ROLE ccs_member NOINHERIT IN ROLE ${pg.user}`);
    await expect(migrateEvidenceDatabase(admin, { writerRole: 'ccs_member' })).rejects.toThrow(
      new RegExp(`^role "ccs_member" may still SET ROLE ${pg.user} on ccs_evidence `),
    );
    expect(await tables()).toBeNull();
    await expect(migrateEvidenceDatabase(admin, { writerRole: 'ccs_writer; DROP TABLE x' })).rejects.toThrow(/not a plain SQL role name/);
    await expect(migrateEvidenceDatabase(admin, { writerRole: 'no_such_role' })).rejects.toThrow(/role "no_such_role" does not exist/);

    // Migrated without a writer: the tables exist, the writer may not read them yet.
    expect(await migrateEvidenceDatabase(admin)).toEqual({ applied: [1, 2, 3] });
    expect(await tables()).toBe('ccs_evidence_migrations');
    await expect(writer.append(draft(1))).rejects.toThrow(
      /^role "ccs_writer" may not read the evidence tables \(permission denied for table ccs_evidence_migrations\): their owner must run `ccs-jobs evidence migrate --writer ccs_writer`$/,
    );
    // The writer granted (every migration already applied: nothing to apply, no DDL needed).
    // As operators run it: the CLI, the owner's URL in EVIDENCE_DATABASE_URL.
    const migrated = await runCli(['evidence', 'migrate', '--writer', 'ccs_writer'], { EVIDENCE_DATABASE_URL: admin });
    expect(migrated.stdout).toBe(
      'every migration was applied already; role ccs_writer may only SELECT and INSERT (no UPDATE, DELETE or TRUNCATE): give the workers its URL\n',
    );
    expect(migrated.code).toBe(0);
    for (let i = 0; i < 5; i++) await writer.append(draft(200 + i));
    expect((await writer.append(draft(202))).duplicate).toBe(true);
    expect(await writer.verify()).toMatchObject({ count: 5, broken: null });

    // The writer's privileges stop at INSERT: each change refused before any trigger runs.
    for (const statement of [
      `UPDATE ccs_evidence SET record = record || ' ' WHERE seq = 2`,
      'DELETE FROM ccs_evidence WHERE seq = 5',
      'TRUNCATE ccs_evidence',
      'DELETE FROM ccs_evidence_migrations',
      'INSERT INTO ccs_evidence_migrations (version) VALUES (99)',
      'ALTER TABLE ccs_evidence DISABLE TRIGGER USER',
      'DROP TABLE ccs_evidence',
    ]) {
      const refused = await refusal(writerUrl, statement);
      expect({ statement, code: refused.code }).toEqual({ statement, code: '42501' });
    }
    // The owner (here a superuser) has every privilege, and meets the triggers.
    for (const [statement, op, table] of [
      [`UPDATE ccs_evidence SET record = record || ' ' WHERE seq = 2`, 'UPDATE', 'ccs_evidence'],
      ['DELETE FROM ccs_evidence WHERE seq = 5', 'DELETE', 'ccs_evidence'],
      ['TRUNCATE ccs_evidence', 'TRUNCATE', 'ccs_evidence'],
      ['DELETE FROM ccs_evidence_migrations WHERE version = 2', 'DELETE', 'ccs_evidence_migrations'],
    ] as const) {
      const refused = await refusal(admin, statement);
      expect({ statement, code: refused.code, message: refused.message }).toEqual({
        statement,
        code: APPEND_ONLY_SQLSTATE,
        message: `${table} is append-only: ${op} refused`,
      });
    }
    const privileges = await query<{ p: string; granted: boolean }>(
      admin,
      `SELECT p, has_table_privilege('ccs_writer', 'ccs_evidence', p) AS granted
         FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p`,
    );
    expect(Object.fromEntries(privileges.map((r) => [r.p, r.granted]))).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
      REFERENCES: false,
      TRIGGER: false,
    });
    expect(await writer.verify()).toMatchObject({ count: 5, broken: null });
    await writer.close();

    // The blobs records cite: the writer inserts and reads them, a second put is a no-op, and no one
    // changes one unseen (the writer may not; the owner meets the trigger; a swap past it is caught).
    const blobs = new PostgresBlobStore(writerUrl);
    const answer = Buffer.from('{"Checks":[{"CheckId":"c1","Result":"Fail"}]}');
    const ref = await blobs.put(answer);
    expect(await blobs.put(answer)).toEqual(ref);
    expect(await blobs.get(ref.sha256)).toEqual(answer);
    expect((await refusal(writerUrl, `UPDATE ccs_evidence_blobs SET bytes = 'x'`)).code).toBe('42501');
    expect((await refusal(writerUrl, 'DELETE FROM ccs_evidence_blobs')).code).toBe('42501');
    expect(await refusal(admin, `UPDATE ccs_evidence_blobs SET bytes = 'x'`)).toMatchObject({
      code: APPEND_ONLY_SQLSTATE,
      message: 'ccs_evidence_blobs is append-only: UPDATE refused',
    });
    await query(
      admin,
      `ALTER TABLE ccs_evidence_blobs DISABLE TRIGGER USER; UPDATE ccs_evidence_blobs SET bytes = 'another answer'; ALTER TABLE ccs_evidence_blobs ENABLE TRIGGER USER`,
    );
    await expect(blobs.get(ref.sha256)).rejects.toBeInstanceOf(BlobDigestMismatch);
    await blobs.close();
  }, 60_000);

  it('a URL that asks for TLS gets it, verified against sslrootcert', async () => {
    const ca = `sslrootcert=${encodeURIComponent(pg.caFile!)}`;
    const ssl = async (params: string): Promise<unknown> =>
      (
        await query<{ ssl: boolean }>(
          urlFor('postgres', pg.user, pg.password, params),
          'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
        )
      )[0]?.ssl;
    expect(await ssl(`?sslmode=require&${ca}`)).toBe(true);
    expect(await ssl(`?sslmode=verify-full&${ca}`)).toBe(true);
    expect(await ssl('?sslmode=disable')).toBe(false);
    expect(await ssl('')).toBe(false);
    // The installed pg treats require (and prefer, verify-ca) as verify-full: a certificate it cannot
    // verify is refused; libpq's "encrypt, verify nothing" needs uselibpqcompat=true.
    await expect(ssl('?sslmode=require')).rejects.toThrow(/self-signed certificate/);
    expect(await ssl('?uselibpqcompat=true&sslmode=require')).toBe(true);

    // The sink's own pool: its connections, still open in the pool after an append, are encrypted.
    const name = `ccs-evidence-tls-${process.pid}`;
    const sink = new PostgresEvidenceSink<EvidenceContent>(
      urlFor('postgres', pg.user, pg.password, `?sslmode=verify-full&${ca}&application_name=${name}`),
    );
    try {
      await sink.append(draft(300));
      const sessions = await query<{ ssl: boolean }>(
        pg.url,
        `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${name}'`,
      );
      expect(sessions.length).toBeGreaterThan(0);
      expect(sessions.every((r) => r.ssl)).toBe(true);
    } finally {
      await sink.close();
    }
  }, 60_000);
});
