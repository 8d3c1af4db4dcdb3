/**
 * The PostgreSQL evidence sink (EVIDENCE_DATABASE_URL): the same sealed records in one table, the
 * chain extended under a transaction-scoped advisory lock so any number of workers append to one
 * chain. Each record is stored as the exact JSON text that was hashed (not JSONB, which may rewrite
 * it). The table is created by the project's migrations, applied in order on first use.
 */
import { Pool, type PoolClient } from 'pg';
import { GENESIS, seal, verifyStream, type Anchor, type ChainVerdict, type Chained } from './chain';
import type { KeyedContent } from './jsonl-sink';

/** The project's migrations of the evidence schema, applied once each, in order. */
export const EVIDENCE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `CREATE TABLE ccs_evidence (
      seq BIGINT PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      recorded_at TIMESTAMPTZ NOT NULL,
      record TEXT NOT NULL,
      hash CHAR(64) NOT NULL,
      prev_hash CHAR(64) NOT NULL
    );
    CREATE INDEX ccs_evidence_recorded_at ON ccs_evidence (recorded_at)`,
  },
];

/** An arbitrary, fixed advisory lock key: "one appender at a time" across every worker. */
const APPEND_LOCK = 7_217_301_907;

export class PostgresEvidenceSink<T extends KeyedContent> {
  private readonly pool: Pool;
  private migrated: Promise<void> | undefined;

  constructor(connectionString: string) {
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
    // An idle client's error (the server restarted) must not crash the worker; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /** Applies the migrations not yet applied (under the same lock, so concurrent workers apply each once). */
  migrate(): Promise<void> {
    this.migrated ??= this.transaction(async (db) => {
      await db.query(
        'CREATE TABLE IF NOT EXISTS ccs_evidence_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const done = new Set((await db.query<{ version: number }>('SELECT version FROM ccs_evidence_migrations')).rows.map((r) => r.version));
      for (const m of EVIDENCE_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await db.query(m.sql);
        await db.query('INSERT INTO ccs_evidence_migrations (version) VALUES ($1)', [m.version]);
      }
    }).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async transaction<R>(work: (db: PoolClient) => Promise<R>): Promise<R> {
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      await db.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  async append(content: T): Promise<T & Chained & { duplicate: boolean }> {
    await this.migrate();
    return this.transaction(async (db) => {
      const existing = await db.query<{ record: string }>('SELECT record FROM ccs_evidence WHERE key = $1', [content.key]);
      if (existing.rows[0]) return { ...(JSON.parse(existing.rows[0].record) as T & Chained), duplicate: true };
      const last = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM ccs_evidence ORDER BY seq DESC LIMIT 1');
      const head = last.rows[0];
      const record = seal(content, head ? Number(head.seq) + 1 : 1, head?.hash ?? GENESIS);
      await db.query('INSERT INTO ccs_evidence (seq, key, recorded_at, record, hash, prev_hash) VALUES ($1, $2, $3, $4, $5, $6)', [
        record.seq,
        content.key,
        content.recordedAt,
        JSON.stringify(record),
        record.hash,
        record.prevHash,
      ]);
      return { ...record, duplicate: false };
    });
  }

  /** Every record in chain order, read in pages of 500 (rows that do not parse are null, for verify). */
  async *records(): AsyncGenerator<(T & Chained) | null> {
    await this.migrate();
    let after = 0;
    for (;;) {
      const page = await this.pool.query<{ seq: string; record: string }>(
        'SELECT seq, record FROM ccs_evidence WHERE seq > $1 ORDER BY seq LIMIT 500',
        [after],
      );
      for (const row of page.rows) {
        after = Number(row.seq);
        try {
          yield JSON.parse(row.record) as T & Chained;
        } catch {
          yield null;
        }
      }
      if (page.rows.length < 500) return;
    }
  }

  /** Walks the whole chain, a record at a time: the count, the head's hash, and the first break if any. */
  verify(anchors: readonly Anchor[] = [], after?: Anchor): Promise<ChainVerdict> {
    return verifyStream(this.records(), anchors, after);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
