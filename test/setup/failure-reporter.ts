/**
 * A reporter for .ci/run: appends one JSON line per failed test to FAILURES_FILE with its message
 * and the assertion's diff. Vitest's JSON report keeps only the stack, which has no diff, so a
 * failing `toEqual` of a summary object could not say which field differed.
 */
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestCase } from 'vitest/node';

/** The test's suites and title joined by spaces: the `fullName` of Vitest's JSON report, which .ci/run matches on. */
function jsonFullName(test: TestCase): string {
  const names = [test.name];
  for (let suite = test.parent; suite.type === 'suite'; suite = suite.parent) names.unshift(suite.name);
  return names.join(' ');
}

// eslint-disable-next-line no-control-regex -- the diff is coloured; the summary is plain text.
const ANSI = /\u001b\[[0-9;]*m/g;

export default class FailureReporter implements Reporter {
  private readonly file = process.env.FAILURES_FILE;

  onTestCaseResult(test: TestCase): void {
    const result = test.result();
    if (!this.file || result.state !== 'failed') return;
    for (const error of result.errors ?? []) {
      const line = {
        test: `${relative(process.cwd(), test.module.moduleId)} > ${jsonFullName(test)}`,
        message: String(error.message ?? '').replace(ANSI, ''),
        diff: String(error.diff ?? '').replace(ANSI, ''),
      };
      appendFileSync(this.file, `${JSON.stringify(line)}\n`);
    }
  }
}
