/**
 * Replays every committed history (test/fixtures/histories) against the current workflow code: a
 * change that would break running executions fails here. Record new ones with
 * `npm run test:record-histories`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { quietRuntime } from '../helpers';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('replay of committed histories', () => {
  it('has the scenarios the contract promises', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const name of ['completed', 'faulted', 'aborted-externally', 'cancel-signal', 'cancel-native', 'timed-out', 'adopted-after-500', 'continued-as-new', 'pipeline-completed', 'pipeline-fail-fast', 'pipeline-cancelled', 'attention-forbidden-then-completed', 'attention-then-cancelled', 'cancel-while-execute-rate-limited', 'ended-idle-with-end-time', 'execute-answered-without-runid']) {
      expect(files).toContain(`${name}.json`);
    }
  });

  it('replays each without nondeterminism', async () => {
    quietRuntime();
    const histories = files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { workflowId: string; history: unknown });
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error).slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
