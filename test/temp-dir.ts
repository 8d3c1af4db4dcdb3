/**
 * Temporary directories that are removed when the test file that made them ends, so a test run
 * leaves nothing behind in the machine's temp folder. KEEP_TEST_DIRS=1 keeps them for a post-mortem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered when a test file first imports this module (each file has its own module registry),
// so it runs after that file's own afterAll hooks, once its workers and servers have stopped.
afterAll(() => {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the temp folder, named `<prefix>XXXXXX`, removed when this test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
