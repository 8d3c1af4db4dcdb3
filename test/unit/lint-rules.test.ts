/**
 * The sandbox lint rules (eslint.sandbox.mjs) applied to forbidden code: each must be refused in
 * src/workflows and src/domain by folder, whatever the file is called; the same code outside
 * the sandbox passes. And the no-cycle rule finds a circle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../temp-dir';

const ROOT = join(__dirname, '..', '..');
let sandbox: ESLint;
let cycles: (dir: string) => ESLint;

beforeAll(async () => {
  const rules = (await import(join(ROOT, 'eslint.sandbox.mjs'))) as { sandboxConfig: Linter.Config[]; noCycleConfig: Linter.Config[] };
  // Every TypeScript file parsed, so code outside the sandbox is linted too (and passes).
  const everywhere: Linter.Config = { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } };
  sandbox = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: [everywhere, ...rules.sandboxConfig] });
  cycles = (dir) => new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: rules.noCycleConfig });
});

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await sandbox.lintText(code, { filePath: join(ROOT, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const FORBIDDEN: [string, string][] = [
  ['a Node builtin', "import { readFileSync } from 'fs';"],
  ['a node: builtin', "import { createHash } from 'node:crypto';"],
  ['vm (missing from the old name list)', "import vm from 'vm';"],
  ['undici', "import { request } from 'undici';"],
  ['any other package', "import { parse } from 'yaml';"],
  ['the activity SDK', "import { Context } from '@temporalio/activity';"],
  ['the client SDK', "import { Client } from '@temporalio/client';"],
  ['the CCS client', "import { CcsClient } from '../ccs/client';"],
  ['the CCS client folder', "import * as ccs from '../ccs';"],
  ['the codec (hosting)', "import { AesGcmCodec } from '../hosting/codec';"],
  ['configuration', "import { loadConfig } from '../hosting/config';"],
  ['the simulator', "import { startSimulator } from '../sim/server';"],
  ['the CLI', "import { main } from '../cli/main';"],
  ['activities as values', "import { createActivities } from '../activities';"],
  ['process.env', 'export const level = process.env.LOG_LEVEL;'],
  ['globalThis.process', 'export const argv = globalThis.process.argv;'],
  ['setInterval', 'setInterval(() => undefined, 1000);'],
  ['globalThis.setTimeout', 'globalThis.setTimeout(() => undefined, 1000);'],
  ['require', "export const fs = require('fs');"],
  ['a dynamic import', "export const later = import('../ccs/client');"],
  ['fetch', "export const r = fetch('https://ccs.example');"],
];

describe('the workflow sandbox lint rules', () => {
  it.each(FORBIDDEN)('refuse %s in src/workflows and src/domain, under any file name', async (_what, code) => {
    for (const file of ['src/workflows/anything.ts', 'src/workflows/deep/er/name.ts', 'src/domain/helpers.ts']) {
      expect(await problems(code, file), file).not.toEqual([]);
    }
  });

  it('let the same code through outside the sandbox', async () => {
    for (const [, code] of FORBIDDEN) expect(await problems(code, 'src/activities/anything.ts')).toEqual([]);
  });

  it('allow what workflows may use: the workflow SDK, common, domain modules, activity types', async () => {
    const code = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import { ApplicationFailure } from '@temporalio/common';",
      "import { ErrorType } from '../domain/errors';",
      "import type { CcsActivities } from '../activities';",
      'export const x = [proxyActivities, ApplicationFailure, ErrorType] as const;',
      'export type A = CcsActivities;',
    ].join('\n');
    expect(await problems(code, 'src/workflows/anything.ts')).toEqual([]);
  });

  it('keep the domain below the workflows', async () => {
    expect(await problems("import { runCcsJob } from '../workflows/run-ccs-job';", 'src/domain/anything.ts')).not.toEqual([]);
    expect(await problems("import type { CcsActivities } from '../activities';", 'src/domain/anything.ts')).not.toEqual([]);
  });

  it('find an import circle', async () => {
    const dir = tempDir('lint-cycle-');
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b';\nexport const a = (): unknown => b;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a';\nexport const b = (): unknown => a;\n");
    const results = await cycles(dir).lintFiles(['a.ts']);
    expect(results[0]?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
