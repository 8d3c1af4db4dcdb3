/**
 * How the `temporal` CLI is found, without running it: TEMPORAL_CLI_PATH first (and a wrong one is
 * an error naming it, not a silent fallback), then PATH. The provisioned CLI itself is exercised by
 * test/integration/temporal-dev-server.test.ts.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import { tempDir } from '../temp-dir';

/** An executable file named `temporal` in a directory of its own; its path. */
function fakeCli(): string {
  const path = join(tempDir('ccs-temporal-cli-'), 'temporal');
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findTemporalCli', () => {
  it('finds the CLI through TEMPORAL_CLI_PATH first, and says so when that path is wrong', () => {
    const cli = fakeCli();
    const onPath = fakeCli();
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: cli, PATH: '' })).toBe(cli);
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: cli, PATH: join(onPath, '..') })).toBe(cli);
    expect(() => findTemporalCli({ TEMPORAL_CLI_PATH: '/nonexistent/temporal' })).toThrow(
      'TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file',
    );
  });

  it('then looks on PATH, skipping a file that is not executable', () => {
    const onPath = fakeCli();
    const notExecutable = join(tempDir('ccs-temporal-cli-'), 'temporal');
    writeFileSync(notExecutable, '');
    chmodSync(notExecutable, 0o644);
    expect(findTemporalCli({ PATH: [join(notExecutable, '..'), join(onPath, '..')].join(':') })).toBe(onPath);
  });
});
