/**
 * The PostgreSQL evidence migrations without a server (issue 31): the writer role's name is checked
 * before anything connects, and the migrations stay in the order they are applied. What they do on a
 * real server is in test/integration/evidence-postgres.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { APPEND_ONLY_SQLSTATE, EVIDENCE_MIGRATIONS, migrateEvidenceDatabase } from '../../src/evidence/postgres-sink';

// Nothing listens on port 1: a name that passes the check meets a refused connection instead.
const NOWHERE = 'postgres://admin:secret@127.0.0.1:1/evidence';

describe('migrateEvidenceDatabase', () => {
  it.each(['ccs-writer', '1writer', 'w"; DROP TABLE ccs_evidence; --', 'a b', '', 'x'.repeat(64), 'rôle'])(
    'refuses the writer role %j before connecting',
    async (role) => {
      await expect(migrateEvidenceDatabase(NOWHERE, { writerRole: role })).rejects.toThrow(/is not a plain SQL role name/);
    },
  );

  it.each(['ccs_writer', '_w', 'CCS_Writer', 'w'.repeat(63)])('takes %j as a role name (and then connects)', async (role) => {
    await expect(migrateEvidenceDatabase(NOWHERE, { writerRole: role })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('EVIDENCE_MIGRATIONS', () => {
  it('are numbered 1, 2, … in the order they are applied; 2 makes both tables append-only', () => {
    expect(EVIDENCE_MIGRATIONS.map((m) => m.version)).toEqual(EVIDENCE_MIGRATIONS.map((_, i) => i + 1));
    const two = EVIDENCE_MIGRATIONS[1]!.sql;
    for (const table of ['ccs_evidence', 'ccs_evidence_migrations']) {
      expect(two).toContain(`BEFORE UPDATE OR DELETE ON ${table}\n      FOR EACH ROW`);
      expect(two).toContain(`BEFORE TRUNCATE ON ${table}\n      FOR EACH STATEMENT`);
    }
    expect(two).toContain(`ERRCODE = '${APPEND_ONLY_SQLSTATE}'`);
    expect(APPEND_ONLY_SQLSTATE).toMatch(/^[0-9A-Z]{5}$/);
  });
});
