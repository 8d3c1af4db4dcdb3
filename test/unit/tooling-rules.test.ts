/**
 * The process rules (eslint.tooling.mjs) applied to code that breaks them: `process.exit` outside an
 * entry point's documented exception, and development tooling writing to a fixed name in the temp
 * folder. Every remaining exit in the repository says why; the private temp helper is private.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { privateTempFile } from '../../src/dev/private-temp';
import { parseSimArgs } from '../../src/sim/cli';

const ROOT = join(__dirname, '..', '..');
let eslint: ESLint;

beforeAll(async () => {
  const rules = (await import(join(ROOT, 'eslint.tooling.mjs'))) as {
    processExitConfig: Linter.Config[];
    privateTempConfig: Linter.Config[];
  };
  const everywhere: Linter.Config = { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } };
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [everywhere, ...rules.processExitConfig, ...rules.privateTempConfig],
  });
});

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('n/no-process-exit', () => {
  it('refuses process.exit anywhere, entry points included, unless a disable comment says why', async () => {
    for (const file of ['src/hosting/create-worker.ts', 'src/worker.ts', 'bench/bench.ts', 'test/helpers.ts']) {
      expect(await problems('process.exit(1);\n', file), file).toEqual([expect.stringMatching(/^n\/no-process-exit: /)]);
    }
    expect(await problems('process.exitCode = 1;\n', 'src/hosting/create-worker.ts')).toEqual([]);
    expect(
      await problems(
        '// eslint-disable-next-line n/no-process-exit -- entry point: the native runtime holds the loop\nprocess.exit(1);\n',
        'src/worker.ts',
      ),
    ).toEqual([]);
  });

  it('every remaining exit in the repository carries a disable comment with a reason', () => {
    const bare: string[] = [];
    for (const file of sourceFiles(['src', 'bench', 'test', 'tools'])) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!/eslint-disable(-next-line|-line)?\s[^*]*n\/no-process-exit/.test(line)) return;
        // The reason follows ` -- `, as ESLint's directive syntax has it: a few words, not a placeholder.
        if (!/n\/no-process-exit\s+--\s+\S+(\s+\S+){2,}/.test(line)) bare.push(`${relative(ROOT, file)}:${i + 1}`);
      });
    }
    expect(bare).toEqual([]);
  });
});

describe('private temp directories for development tooling', () => {
  const FIXED: [string, string][] = [
    [
      "join(tmpdir(), 'build.log')",
      "import { tmpdir } from 'node:os';\nimport { join } from 'node:path';\nexport const f = join(tmpdir(), 'build.log');\n",
    ],
    [
      'path.join(os.tmpdir(), name)',
      "import os from 'node:os';\nimport path from 'node:path';\nexport const f = (name: string) => path.join(os.tmpdir(), name);\n",
    ],
    ["'/tmp/x.pem'", "export const f = '/tmp/x.pem';\n"],
    ['`/tmp/${name}`', 'export const f = (name: string) => `/tmp/${name}`;\n'],
  ];

  it.each(FIXED)('refuses %s in src/dev, bench, tools and the test setup', async (_what, code) => {
    for (const file of [
      'src/dev/any.ts',
      'src/dev/cluster/any.ts',
      'bench/any.ts',
      'tools/any.ts',
      'test/setup/any.ts',
      'test/helpers.ts',
    ]) {
      expect(await problems(code, file), file).toEqual([
        expect.stringMatching(/^no-restricted-syntax: Development tooling writes to a private directory/),
      ]);
    }
  });

  it('lets mkdtemp prefixes through, and leaves code that is not tooling alone', async () => {
    const mkdtemp =
      "import { mkdtempSync } from 'node:fs';\nimport { tmpdir } from 'node:os';\nimport { join } from 'node:path';\nexport const d = mkdtempSync(join(tmpdir(), 'ccs-bench-'));\nexport const f = join(d, 'ca.pem');\n";
    expect(await problems(mkdtemp, 'bench/any.ts')).toEqual([]);
    expect(await problems(FIXED[0]![1], 'src/ccs/any.ts')).toEqual([]);
    expect(await problems(FIXED[0]![1], 'test/unit/any.test.ts')).toEqual([]);
  });

  it('privateTempFile gives each call its own directory, readable only by its owner, removed on request', () => {
    const a = privateTempFile('go-build.log');
    const b = privateTempFile('go-build.log');
    expect(a.path).not.toBe(b.path);
    for (const file of [a, b]) {
      expect(dirname(dirname(file.path))).toBe(tmpdir());
      expect(file.path.endsWith('/go-build.log')).toBe(true);
      expect(statSync(dirname(file.path)).mode & 0o777).toBe(0o700);
      file.remove();
      expect(() => statSync(dirname(file.path))).toThrow(/ENOENT/);
    }
  });
});

describe('ccs-sim --help', () => {
  it('is an answer of the parser, not an exit inside it', () => {
    expect(parseSimArgs(['--help'])).toEqual({ help: true });
    expect(parseSimArgs(['--port', '0', '-h'])).toEqual({ help: true });
    expect(parseSimArgs(['--port', '0'])).not.toHaveProperty('help');
  });
});

/** TypeScript and JavaScript files under `dirs`, without node_modules or dot-folders (scratch copies). */
function sourceFiles(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'fixtures') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(path);
    }
  };
  for (const dir of dirs) walk(join(ROOT, dir));
  return out;
}
