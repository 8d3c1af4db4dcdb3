/**
 * The bundler is the second guard (after lint) on workflow determinism: workflow code that imports a
 * Node builtin or the CCS client does not bundle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../temp-dir';

function collectingLogger(lines: string[]) {
  const keep = (message: string, meta?: unknown): void => {
    lines.push(`${message} ${JSON.stringify(meta ?? '')}`);
  };
  return { trace() {}, debug() {}, info() {}, warn: keep, error: keep, log() {} };
}
const silent = collectingLogger([]);

describe('workflow bundle', () => {
  it('refuses workflow code that imports a Node builtin, naming it', async () => {
    const dir = tempDir('wf-bundle-');
    writeFileSync(
      join(dir, 'index.ts'),
      "import { readFileSync } from 'node:fs';\nexport async function bad(): Promise<string> { return readFileSync('/etc/hostname', 'utf8'); }\n",
    );
    const lines: string[] = [];
    await expect(bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: collectingLogger(lines) })).rejects.toThrow(
      /Webpack finished with errors/,
    );
    expect(lines.join('\n')).toMatch(/node:fs|'fs'/);
  }, 60_000);

  it('refuses workflow code that reaches the CCS client (undici is Node I/O)', async () => {
    const dir = tempDir('wf-bundle-');
    writeFileSync(
      join(dir, 'index.ts'),
      `import { CcsClient } from '${join(__dirname, '../../src/ccs/client')}';\nexport async function bad(): Promise<string> { return typeof CcsClient; }\n`,
    );
    await expect(bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: silent })).rejects.toThrow();
  }, 60_000);
});
