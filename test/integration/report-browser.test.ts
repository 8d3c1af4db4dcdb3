/**
 * The pipeline report in a real headless Chromium (issue 19, part 3), driven over WebDriver by the
 * machine's chromedriver: every job present, coloured by outcome, no console errors, no network
 * request; a screenshot is kept as a CI artifact (test-artifacts/pipeline-report.png).
 */
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureChromium, type ChromiumBinaries } from '../../src/dev/chromium';
import { freeLowPort, waitForPort } from '../../src/dev/cluster/processes';
import { OUTCOME_COLOURS } from '../../src/evidence/html-report';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, type CliRun, failureOf, runCli, simAndWorker } from '../helpers';
import { tempDir } from '../temp-dir';

const rig = simAndWorker();
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
let browser: ChromiumBinaries;
let driver: ChildProcess | undefined;
let base = '';

/** One WebDriver command; its `value`, or an error naming the command. */
async function wd<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { value: T & { error?: string; message?: string } };
  if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${json.value.error ?? res.status} ${json.value.message ?? ''}`);
  return json.value;
}

beforeAll(async () => {
  browser = ensureChromium((line) => console.log(line));
  const port = await freeLowPort();
  driver = spawn(browser.chromedriver, [`--port=${port}`], { stdio: 'ignore' });
  await waitForPort(port, 20_000);
  base = `http://127.0.0.1:${port}`;
}, 600_000);
afterAll(() => {
  driver?.kill();
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue });
}

describe('the HTML pipeline report', () => {
  it('opens in headless Chromium: every job, coloured by outcome, no console error, no network request', async () => {
    const collect = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const evalOk = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const evalSlow = addJob(rig.sim, [
      ['Executing', 60],
      ['Completed', 0],
    ]);
    const evalBad = addJob(
      rig.sim,
      [
        ['Executing', 3],
        ['Faulted', 0],
      ],
      {
        exception: 'Evaluation failed: <script>alert(1)</script> no checks',
        messages: [{ Message: 'No applicable checks for asset type Unix' }],
      },
    );
    const later = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const handle = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: `report-${randomUUID()}`,
      args: [
        {
          name: 'nightly scan',
          pollInterval: '1s',
          stages: [
            { name: 'collect', jobs: [collect] },
            { name: 'evaluate', jobs: [evalOk, evalBad, evalSlow] },
            { name: 'report', jobs: [later] },
          ],
        },
      ],
    });
    await failureOf(handle.result()); // the faulted evaluation stops the pipeline: the slow one is aborted, "report" skipped
    const file = join(tempDir('ccs-report-'), 'nightly.html');
    const written = await cli(['report', handle.workflowId, '--html', file]);
    expect(written.stderr).toBe('');
    expect(written.stdout).toBe(`wrote the report of ${handle.workflowId} (Failed) to ${file}\n`);
    expect(readFileSync(file, 'utf8')).not.toContain('<script>');

    const session = await wd<{ sessionId: string }>('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': {
            binary: browser.chromium,
            args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1280,900'],
          },
          'goog:loggingPrefs': { browser: 'ALL', performance: 'ALL' },
        },
      },
    });
    const s = `/session/${session.sessionId}`;
    try {
      await wd('POST', `${s}/url`, { url: `file://${file}` });
      const rows = await wd<{ id: string; outcome: string; colour: string }[]>('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('table.timeline tr.job')].map((tr) => ({ id: tr.dataset.jobId, outcome: tr.dataset.outcome, colour: getComputedStyle(tr.querySelector('.bar')).backgroundColor }));`,
        args: [],
      });
      const rgb = (hex: string): string => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
      expect(rows).toEqual([
        { id: collect, outcome: 'completed', colour: rgb(OUTCOME_COLOURS.completed) },
        { id: evalOk, outcome: 'completed', colour: rgb(OUTCOME_COLOURS.completed) },
        { id: evalBad, outcome: 'faulted', colour: rgb(OUTCOME_COLOURS.faulted) },
        { id: evalSlow, outcome: 'aborted', colour: rgb(OUTCOME_COLOURS.aborted) },
        { id: later, outcome: 'skipped', colour: rgb(OUTCOME_COLOURS.skipped) },
      ]);
      const text = await wd<string>('POST', `${s}/execute/sync`, { script: 'return document.body.innerText;', args: [] });
      expect(text).toContain('Evaluation failed: <script>alert(1)</script> no checks');
      expect(text).toContain('No applicable checks for asset type Unix');
      const consoleErrors = (await wd<{ level: string; message: string }[]>('POST', `${s}/se/log`, { type: 'browser' })).filter(
        (e) => e.level === 'SEVERE',
      );
      expect(consoleErrors).toEqual([]);
      const requests = (await wd<{ message: string }[]>('POST', `${s}/se/log`, { type: 'performance' }))
        .map((e) => JSON.parse(e.message) as { message: { method: string; params: { request?: { url: string } } } })
        .filter((e) => e.message.method === 'Network.requestWillBeSent')
        .map((e) => e.message.params.request?.url ?? '');
      expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
      const png = await wd<string>('GET', `${s}/screenshot`);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'pipeline-report.png'), Buffer.from(png, 'base64'));
      expect(Buffer.from(png, 'base64').subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await wd('DELETE', s).catch(() => undefined);
    }
  }, 120_000);
});
