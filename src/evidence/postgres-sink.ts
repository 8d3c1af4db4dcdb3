/**
 * The PostgreSQL evidence sink (EVIDENCE_DATABASE_URL): the same sealed records in one table, the
 * chain extended under a transaction-scoped advisory lock so any number of workers append to one
 * chain. Each record is stored as the exact JSON text that was hashed (not JSONB, which may rewrite
 * it). The tables are created by the project's migrations: applied by the tables' owner with
 * `migrateEvidenceDatabase` (`ccs-jobs evidence migrate --writer ROLE`), which leaves the workers'
 * role only SELECT and INSERT; a worker connected as the owner still applies them itself on first use.
 * From migration 2 on the table is append-only even for its owner (triggers refuse UPDATE, DELETE and
 * TRUNCATE), and a role that may not change it cannot quietly rewrite the record.
 */
import { Client, Pool, type ClientBase } from 'pg';
import { GENESIS, seal, verifyStream, type Anchor, type ChainVerdict, type Chained } from './chain';
import type { KeyedContent } from './jsonl-sink';
import { BlobDigestMismatch, MAX_BLOB_BYTES, sha256Of, type BlobRef, type BlobStore } from './blob-store';
import type { EvidenceSigner } from './signing';

/** The SQLSTATE the append-only triggers raise (a code of the project's own, stable across releases). */
export const APPEND_ONLY_SQLSTATE = 'CCS01';

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
  {
    // Append-only even for the owner and superusers: only ALTER TABLE ... DISABLE TRIGGER (the
    // owner's or a superuser's deliberate act, which verify and the anchors are there to catch) or
    // dropping the table gets past it. PUBLIC never had these privileges; the REVOKE says so.
    version: 2,
    sql: `CREATE FUNCTION ccs_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '${APPEND_ONLY_SQLSTATE}',
              HINT = 'the evidence chain is never edited; ccs-jobs evidence verify checks it';
    END
    $fn$;
    CREATE TRIGGER ccs_evidence_no_update_delete BEFORE UPDATE OR DELETE ON ccs_evidence
      FOR EACH ROW EXECUTE FUNCTION ccs_evidence_append_only();
    CREATE TRIGGER ccs_evidence_no_truncate BEFORE TRUNCATE ON ccs_evidence
      FOR EACH STATEMENT EXECUTE FUNCTION ccs_evidence_append_only();
    CREATE TRIGGER ccs_evidence_migrations_no_update_delete BEFORE UPDATE OR DELETE ON ccs_evidence_migrations
      FOR EACH ROW EXECUTE FUNCTION ccs_evidence_append_only();
    CREATE TRIGGER ccs_evidence_migrations_no_truncate BEFORE TRUNCATE ON ccs_evidence_migrations
      FOR EACH STATEMENT EXECUTE FUNCTION ccs_evidence_append_only();
    REVOKE UPDATE, DELETE, TRUNCATE ON ccs_evidence, ccs_evidence_migrations FROM PUBLIC`,
  },
  {
    // The blobs records cite (a run's raw results), by their SHA-256: append-only like the records.
    version: 3,
    sql: `CREATE TABLE ccs_evidence_blobs (
      sha256 CHAR(64) PRIMARY KEY,
      size BIGINT NOT NULL,
      bytes BYTEA NOT NULL,
      stored_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TRIGGER ccs_evidence_blobs_no_update_delete BEFORE UPDATE OR DELETE ON ccs_evidence_blobs
      FOR EACH ROW EXECUTE FUNCTION ccs_evidence_append_only();
    CREATE TRIGGER ccs_evidence_blobs_no_truncate BEFORE TRUNCATE ON ccs_evidence_blobs
      FOR EACH STATEMENT EXECUTE FUNCTION ccs_evidence_append_only();
    REVOKE UPDATE, DELETE, TRUNCATE ON ccs_evidence_blobs FROM PUBLIC`,
  },
];

/** An arbitrary, fixed advisory lock key: "one appender at a time" across every worker. */
const APPEND_LOCK = 7_217_301_907;

/** A role name `migrateEvidenceDatabase` accepts: a plain SQL identifier, quoted as written. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/i;

const sqlCode = (err: unknown): string | undefined => (err as { code?: unknown } | null)?.code as string | undefined;

interface MigrationState {
  exists: boolean;
  done: Set<number>;
}

/** BEGIN, the append lock, the work, COMMIT (ROLLBACK on any error). */
async function locked<R>(db: ClientBase, work: () => Promise<R>): Promise<R> {
  try {
    await db.query('BEGIN');
    await db.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const result = await work();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The versions already applied, read without DDL (none when the migrations table does not exist yet), and who we are. */
async function appliedVersions(db: ClientBase, onRole: (role: string) => void = () => undefined): Promise<MigrationState> {
  const found = await db.query<{ exists: boolean; role: string }>(
    "SELECT to_regclass('ccs_evidence_migrations') IS NOT NULL AS exists, current_user AS role",
  );
  onRole(found.rows[0]?.role ?? '<role>');
  if (!found.rows[0]?.exists) return { exists: false, done: new Set() };
  const rows = await db.query<{ version: number }>('SELECT version FROM ccs_evidence_migrations');
  return { exists: true, done: new Set(rows.rows.map((r) => r.version)) };
}

/** Applies the migrations missing (inside the caller's locked transaction); the versions applied. */
async function applyMissing(db: ClientBase, state: MigrationState): Promise<number[]> {
  const missing = EVIDENCE_MIGRATIONS.filter((m) => !state.done.has(m.version));
  if (missing.length === 0) return [];
  if (!state.exists) {
    await db.query('CREATE TABLE ccs_evidence_migrations (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  }
  for (const m of missing) {
    await db.query(m.sql);
    await db.query('INSERT INTO ccs_evidence_migrations (version) VALUES ($1)', [m.version]);
  }
  return missing.map((m) => m.version);
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Applies the evidence migrations as the tables' owner (`adminUrl`: a role that may create tables in
 * the schema, or that owns them already) and, with `writerRole`, makes that existing role the
 * workers' writer: SELECT and INSERT on `ccs_evidence`, SELECT on `ccs_evidence_migrations`, USAGE
 * on their schema, every other privilege on both tables revoked. Refused (nothing changed) when the
 * role would still be able to UPDATE, DELETE or TRUNCATE the record (a superuser, the owner, or a
 * member of a role that may). One transaction under the append lock; safe to repeat.
 */
export async function migrateEvidenceDatabase(
  adminUrl: string,
  options: { writerRole?: string } = {},
): Promise<{ applied: number[]; granted?: string }> {
  const role = options.writerRole;
  if (role !== undefined && !ROLE_NAME.test(role)) {
    throw new Error(
      `--writer ${JSON.stringify(role)} is not a plain SQL role name (letters, digits and _, not starting with a digit, at most 63)`,
    );
  }
  const db = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
  db.on('error', () => undefined);
  await db.connect();
  try {
    return await locked(db, async () => {
      if (role !== undefined) {
        const exists = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
        if (exists.rowCount === 0)
          throw new Error(`role "${role}" does not exist: create it first (CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '...')`);
      }
      const applied = await applyMissing(db, await appliedVersions(db));
      if (role === undefined) return { applied };
      const writer = quoteIdent(role);
      await db.query(`REVOKE ALL ON ccs_evidence, ccs_evidence_migrations, ccs_evidence_blobs FROM ${writer}`);
      await db.query(`GRANT SELECT, INSERT ON ccs_evidence, ccs_evidence_blobs TO ${writer}`);
      await db.query(`GRANT SELECT ON ccs_evidence_migrations TO ${writer}`);
      const schema = await db.query<{ nspname: string; usage: boolean }>(
        `SELECT n.nspname, has_schema_privilege($1, n.oid, 'USAGE') AS usage
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('ccs_evidence')`,
        [role],
      );
      const ns = schema.rows[0];
      if (ns && !ns.usage) await db.query(`GRANT USAGE ON SCHEMA ${quoteIdent(ns.nspname)} TO ${writer}`);
      // Privileges it has or inherits, and roles it may SET ROLE to (NOINHERIT too): the owner, a superuser.
      const left = await db.query<{ privilege: string }>(
        `SELECT p AS privilege FROM unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) AS p
          WHERE has_table_privilege($1, 'ccs_evidence', p) OR has_table_privilege($1, 'ccs_evidence_blobs', p)
         UNION ALL
         SELECT 'SET ROLE ' || quote_ident(r.rolname) FROM pg_roles r
          WHERE (r.rolsuper OR r.oid = (SELECT relowner FROM pg_class WHERE oid = to_regclass('ccs_evidence')))
            AND r.rolname <> $1 AND pg_has_role($1, r.oid, 'MEMBER')`,
        [role],
      );
      if (left.rows.length > 0) {
        throw new Error(
          `role "${role}" may still ${left.rows.map((r) => r.privilege).join(', ')} on ccs_evidence (a superuser, the table's owner, ` +
            `or a member of one or of a role that may): give the workers a role of their own; nothing was changed`,
        );
      }
      return { applied, granted: role };
    });
  } finally {
    await db.end().catch(() => undefined);
  }
}

export class PostgresEvidenceSink<T extends KeyedContent> {
  private readonly pool: Pool;
  private migrated: Promise<void> | undefined;

  constructor(
    connectionString: string,
    /** Signs each record (EVIDENCE_SIGNING_KEY_FILE); none, records are hash-chained only. */
    private readonly signer?: EvidenceSigner,
  ) {
    this.pool = new Pool({ connectionString, max: 4, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
    // An idle client's error (the server restarted) must not crash the worker; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  /**
   * Applies the migrations not yet applied (under the same lock, so concurrent workers apply each
   * once). Reads only when all are applied, so a writer role without CREATE or ownership starts; one
   * that meets a missing migration it may not apply fails with the command its owner must run.
   */
  migrate(): Promise<void> {
    this.migrated ??= this.transaction(async (db) => {
      let role = '<role>';
      let state: MigrationState | undefined;
      try {
        state = await appliedVersions(db, (r) => (role = r));
        await applyMissing(db, state);
      } catch (err) {
        if (sqlCode(err) !== '42501') throw err;
        const fix = `\`ccs-jobs evidence migrate --writer ${role}\``;
        const reason = (err as Error).message;
        if (!state)
          throw new Error(`role "${role}" may not read the evidence tables (${reason}): their owner must run ${fix}`, { cause: err });
        const missing = EVIDENCE_MIGRATIONS.filter((m) => !state?.done.has(m.version)).map((m) => m.version);
        throw new Error(
          `the evidence database lacks migration(s) ${missing.join(', ')}, which role "${role}" may not apply (${reason}): ` +
            `the tables' owner must apply them with ${fix}`,
          { cause: err },
        );
      }
    }).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  private async transaction<R>(work: (db: ClientBase) => Promise<R>): Promise<R> {
    const db = await this.pool.connect();
    try {
      return await locked(db, () => work(db));
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
      const record = seal(content, head ? Number(head.seq) + 1 : 1, head?.hash ?? GENESIS, this.signer);
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

  /** The chain's newest record's place and hash, null for an empty chain (what the head publisher writes elsewhere). */
  async head(): Promise<Anchor | null> {
    await this.migrate();
    const last = await this.pool.query<{ seq: string; hash: string }>('SELECT seq, hash FROM ccs_evidence ORDER BY seq DESC LIMIT 1');
    const row = last.rows[0];
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * The blobs records cite, in `ccs_evidence_blobs` (migration 3): inserted once by digest (a second
 * put of the same bytes is a no-op), never updated, read back checked against the digest.
 */
export class PostgresBlobStore implements BlobStore {
  private readonly pool: Pool;

  constructor(
    connectionString: string,
    private readonly sink?: { migrate(): Promise<void> },
  ) {
    this.pool = new Pool({ connectionString, max: 2, connectionTimeoutMillis: 10_000, statement_timeout: 60_000 });
    this.pool.on('error', () => undefined);
  }

  async put(bytes: Uint8Array): Promise<BlobRef> {
    if (bytes.length > MAX_BLOB_BYTES) throw new Error(`a blob of ${bytes.length} bytes is more than the ${MAX_BLOB_BYTES} kept`);
    await this.sink?.migrate();
    const sha256 = sha256Of(bytes);
    await this.pool.query('INSERT INTO ccs_evidence_blobs (sha256, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [
      sha256,
      bytes.length,
      Buffer.from(bytes),
    ]);
    return { sha256, bytes: bytes.length };
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      throw new Error(`a blob is named by 64 lower-case hex digits (its SHA-256); got ${JSON.stringify(sha256.slice(0, 80))}`);
    const row = (await this.pool.query<{ bytes: Buffer }>('SELECT bytes FROM ccs_evidence_blobs WHERE sha256 = $1', [sha256])).rows[0];
    if (!row) return undefined;
    const actual = sha256Of(row.bytes);
    if (actual !== sha256) throw new BlobDigestMismatch(sha256, actual);
    return row.bytes;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
