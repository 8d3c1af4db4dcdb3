/**
 * Text from CCS or a person reaches the terminal harmless: escape sequences and line breaks in a
 * CCS message, exception or status text, a reason or a name show as `\uXXXX` text, through the
 * very functions the CLI prints with (status, progress, the run's outcome, pipeline reports, errors).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { pipelineText, waitForJob } from '../../src/cli/progress';
import { jobStatusText } from '../../src/cli/status-command';
import { printable } from '../../src/cli/terminal-text';
import type { RunCcsJobResult, RunCcsJobStatus } from '../../src/domain/contract';
import type { PipelineReport } from '../../src/domain/pipeline';
import { tempDir } from '../temp-dir';

const OSC = '\u001b]0;pwned\u0007';
const SHOWN = '\\u001b]0;pwned\\u0007';
const FORGED_LINE = 'ok\nCompleted: job forged';
/** Any control character but the line feeds the CLI writes itself. */
// eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const JOB = '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16';
const RUN = 'e8a2a8e3-c0be-4e15-84f2-23ac49c3f808';

describe('printable', () => {
  it.each([
    [OSC, SHOWN],
    ['\u001b[2J\u001b[1;1Hclean', '\\u001b[2J\\u001b[1;1Hclean'],
    ['line one\nline two\r', 'line one\\u000aline two\\u000d'],
    ['C1 CSI \u009b31m, DEL \u007f, tab \t', 'C1 CSI \\u009b31m, DEL \\u007f, tab \\u0009'],
    ['bidi \u202eevil\u2066', 'bidi \\u202eevil\\u2066'],
    ['plain text, accents é and CJK 漢字', 'plain text, accents é and CJK 漢字'],
  ])('%j prints as %j', (text, shown) => {
    expect(printable(text)).toBe(shown);
  });
});

describe('what the CLI prints of CCS and user text', () => {
  it('status: the CCS status text, a pause reason and an attention message', () => {
    const s: RunCcsJobStatus = {
      phase: 'running',
      jobId: JOB,
      jobRunId: RUN,
      status: 'Executing',
      customStatusText: OSC,
      polls: 3,
      paused: { since: '2026-12-01T00:00:00Z', by: 'signal', reason: FORGED_LINE, until: null, holdDeadline: false },
      attention: { type: 'CcsForbidden', message: `403 ${OSC}`, since: '2026-12-01T00:00:00Z' },
    } as unknown as RunCcsJobStatus;
    const text = jobStatusText(`ccs-job-${JOB}`, { status: { name: 'RUNNING' } as never, startTime: new Date() }, s);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain(`Executing (${SHOWN})`);
    expect(text).toContain('by signal: ok\\u000aCompleted: job forged');
    expect(text).toContain(`CcsForbidden: 403 ${SHOWN}`);
    expect(text).not.toMatch(/^Completed: job forged/m);
  });

  it('waitForJob: the live message notes and the outcome (exception, messages, summary, cancel reason)', async () => {
    const result = {
      status: 'Completed',
      jobId: JOB,
      jobRunId: RUN,
      polls: 2,
      summary: OSC,
      exception: FORGED_LINE,
      messages: [{ seq: 1, time: '2026-12-01T00:00:00Z', text: OSC }],
      cancelled: null,
    } as unknown as RunCcsJobResult;
    const status = {
      phase: 'running',
      jobId: JOB,
      status: 'Executing',
      polls: 1,
      messageCount: 1,
      messages: [{ seq: 1, text: `live ${OSC}` }],
    } as unknown as RunCcsJobStatus;
    let printed = '';
    let finish: (r: RunCcsJobResult) => void = () => undefined;
    const handle = {
      describe: () => Promise.resolve({ startTime: new Date() }),
      result: () => new Promise<RunCcsJobResult>((r) => (finish = r)),
      query: () => Promise.resolve(status),
    } as unknown as WorkflowHandle;
    const write = (t: string): void => {
      printed += t;
      // The run ends once its live message has been shown: progress first, then the outcome.
      if (t.includes('message live')) finish(result);
    };
    expect(await waitForJob(handle, { write, isTTY: false }, false, new Date())).toBe(0);
    expect(printed).not.toMatch(RAW_CONTROL);
    expect(printed).toContain(`message live ${SHOWN}`);
    expect(printed).toContain(`summary: ${SHOWN}`);
    expect(printed).toContain('exception: ok\\u000aCompleted: job forged');
    expect(printed).toContain(`message 2026-12-01T00:00:00Z ${SHOWN}`);
    expect(printed.split('\n').filter((l) => l.startsWith('Completed: '))).toEqual([`Completed: job ${JOB} run ${RUN}`]);
  });

  it('pipeline reports: stage names, job errors and messages', async () => {
    const report = {
      name: `scan ${OSC}`,
      status: 'Failed',
      startedAt: '2026-12-01T00:00:00Z',
      stages: [
        {
          name: FORGED_LINE,
          state: 'failed',
          jobs: [
            {
              jobId: JOB,
              workflowId: 'w',
              state: 'failed',
              status: 'Faulted',
              jobRunId: RUN,
              error: { type: 'CcsJobFaulted', message: OSC },
              messages: [{ text: OSC }],
            },
          ],
        },
      ],
    } as unknown as PipelineReport;
    const text = (await pipelineText(report)).join('\n');
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain(`pipeline scan ${SHOWN}: Failed`);
    expect(text).toContain(`CcsJobFaulted: ${SHOWN}`);
    expect(text).toContain(`      message ${SHOWN}`);
    expect(text.split('\n')).toHaveLength(5);
  });

  it('a path holding an escape sequence: the pipeline file named in the output and in the error line', async () => {
    const dir = tempDir('ccs-cli-printing-');
    const path = join(dir, `scan ${OSC}.yaml`);
    writeFileSync(path, `name: scan\nstages:\n  - name: collect\n    jobs: [${JOB}]\n`);
    const said = { out: '', err: '' };
    const run = (...argv: string[]): Promise<number> =>
      main(argv, {}, { write: (t) => void (said.out += t), isTTY: false }, (t) => void (said.err += t));
    expect(await run('pipeline', 'validate', path)).toBe(0);
    expect(said.out).toBe(`${join(dir, `scan ${SHOWN}.yaml`)}: valid pipeline "scan" with 1 stage(s) and 1 job(s)\n`);
    expect(await run('pipeline', 'validate', join(dir, `missing ${OSC}.yaml`))).toBe(1);
    expect(said.err).toBe(`ccs-jobs: cannot read pipeline file ${join(dir, `missing ${SHOWN}.yaml`)} (ENOENT)\n`);
  });

  it('errors: a value the user typed is shown escaped in the one error line', async () => {
    for (const argv of [['run', OSC], [OSC], ['run', JOB, '--poll', OSC], ['pause', 'x', '--until', OSC]]) {
      let err = '';
      const code = await main(argv, { TEMPORAL_ADDRESS: '127.0.0.1:1' }, { write: () => undefined, isTTY: false }, (t) => void (err += t));
      expect(code, JSON.stringify(argv)).toBe(1);
      expect(err, JSON.stringify(argv)).not.toMatch(RAW_CONTROL);
      expect(err, JSON.stringify(argv)).toContain(SHOWN);
      expect(err.trim().split('\n'), JSON.stringify(argv)).toHaveLength(1);
    }
  });
});
