/**
 * The patch ledger (docs/versioning.md) is the truth about which `patched()` ids are live: every id
 * the workflow code passes to `patched(` or `deprecatePatch(` has a row, every row names an id the
 * code still uses, and each row's fixtures (old side, new side) exist in test/fixtures/histories.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = join(ROOT, 'src', 'workflows');
const HISTORIES = join(ROOT, 'test', 'fixtures', 'histories');

interface LedgerRow {
  id: string;
  oldFixture: string;
  newFixture: string;
}

/** The rows of the table under "## Ledger of live patch ids": id, why, fixture old side, fixture new side, deprecated, removed. */
function ledgerRows(markdown: string): LedgerRow[] {
  const start = markdown.indexOf('## Ledger of live patch ids');
  if (start < 0) throw new Error('docs/versioning.md has no "## Ledger of live patch ids" section');
  const section = markdown.slice(start).split('\n').slice(1);
  const next = section.findIndex((line) => line.startsWith('## '));
  const lines = (next < 0 ? section : section.slice(0, next)).filter((line) => line.trim().startsWith('|'));
  const [header, separator, ...rows] = lines;
  if (!header?.includes('id') || !separator?.includes('---')) throw new Error('the ledger section has no table with an id column');
  return rows.map((row) => {
    const cells = row
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim().replace(/^`|`$/g, ''));
    if (cells.length < 6) throw new Error(`ledger row has ${cells.length} columns, not 6: ${row}`);
    return { id: cells[0]!, oldFixture: cells[2]!, newFixture: cells[3]! };
  });
}

/** Every id passed to patched( or deprecatePatch( in `source`: a string literal, or a constant of the same file holding one. */
function patchIds(source: string, file: string): string[] {
  const ids: string[] = [];
  for (const match of source.matchAll(/\b(?:patched|deprecatePatch)\(\s*([^)]*?)\s*\)/g)) {
    const arg = match[1]!;
    const literal = /^(['"`])([^'"`]+)\1$/.exec(arg);
    if (literal) {
      ids.push(literal[2]!);
      continue;
    }
    const constant = new RegExp(`\\bconst\\s+${arg}\\s*=\\s*(['"\`])([^'"\`]+)\\1`).exec(source);
    if (!constant)
      throw new Error(
        `${file}: patch id ${arg} is neither a string literal nor a constant of the same file; the ledger test cannot read it`,
      );
    ids.push(constant[2]!);
  }
  return ids;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('the readers this test relies on', () => {
  it('read ledger rows and patch ids in both spellings', () => {
    const doc =
      '## Ledger of live patch ids\n\n| id | why | old | new | deprecate | remove |\n|---|---|---|---|---|---|\n| `a-v1` | x | `1.0.0-a.json` | `1.1.0-a.json` | 1.3.0 | 1.5.0 |\n\n## Next\n| b | c |\n';
    expect(ledgerRows(doc)).toEqual([{ id: 'a-v1', oldFixture: '1.0.0-a.json', newFixture: '1.1.0-a.json' }]);
    const code = "const P = 'p-v1';\nif (patched(P)) {}\ndeprecatePatch('q-v1');\n";
    expect(patchIds(code, 'x.ts')).toEqual(['p-v1', 'q-v1']);
    expect(() => patchIds('patched(ids.p)', 'x.ts')).toThrow(/neither a string literal/);
  });
});

describe('the patch ledger', () => {
  const rows = ledgerRows(readFileSync(join(ROOT, 'docs', 'versioning.md'), 'utf8'));
  const inCode = sources(WORKFLOWS).flatMap((file) => patchIds(readFileSync(file, 'utf8'), file));

  it('lists every patch id the workflow code uses, and only those', () => {
    expect([...new Set(inCode)].sort()).toEqual(rows.map((r) => r.id).sort());
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it("names fixtures that exist for each row's old and new side", () => {
    for (const row of rows) {
      expect(existsSync(join(HISTORIES, row.oldFixture)), `${row.id}: ${row.oldFixture}`).toBe(true);
      expect(existsSync(join(HISTORIES, row.newFixture)), `${row.id}: ${row.newFixture}`).toBe(true);
    }
  });
});
