/**
 * The pipeline report in a real headless Chromium (issue 19, part 3), driven over WebDriver by the
 * machine's chromedriver: every job present, coloured by outcome, no console errors, no network
 * request; a screenshot is kept as a CI artifact (test-artifacts/pipeline-report.png). A redriven
 * scan (issue 30), two real attempts, is drawn as one story: test-artifacts/pipeline-redrive-report.png.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PipelineReport } from '../../src/domain/pipeline';
import { redriveWorkflowId } from '../../src/domain/redrive';
import { formatDuration, parseDuration } from '../../src/domain/validation';
import { OUTCOME_COLOURS } from '../../src/evidence/html-report';
import type { EvidenceAttempt } from '../../src/cli/evidence-attempts';
import type { runCcsPipeline } from '../../src/workflows';
import { addJob, type CliRun, eventually, failureOf, runCli, simAndWorker } from '../helpers';
import { tempDir } from '../temp-dir';
import { inSession, startWebDriver, type Page, type WebDriver } from '../webdriver';

const rig = simAndWorker();
let webDriver: WebDriver;
const wd = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => webDriver.command<T>(method, path, body);

beforeAll(async () => {
  webDriver = await startWebDriver();
}, 600_000);
afterAll(() => {
  webDriver?.stop();
});

const rgb = (hex: string): string => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

/** A headless Chromium session on `file` (console and network logged), closed after `use`. */
async function inChromium(file: string, use: (s: string, page: Page) => Promise<void>): Promise<void> {
  await inSession(webDriver, { windowSize: '1280,900', logs: true }, async (page) => {
    await page.open(`file://${file}`);
    await use(page.path, page);
  });
}

/** The page was quiet: no SEVERE console entry, no request beyond the file itself. */
async function expectQuiet(s: string): Promise<void> {
  const consoleErrors = (await wd<{ level: string; message: string }[]>('POST', `${s}/se/log`, { type: 'browser' })).filter(
    (e) => e.level === 'SEVERE',
  );
  expect(consoleErrors).toEqual([]);
  const requests = (await wd<{ message: string }[]>('POST', `${s}/se/log`, { type: 'performance' }))
    .map((e) => JSON.parse(e.message) as { message: { method: string; params: { request?: { url: string } } } })
    .filter((e) => e.message.method === 'Network.requestWillBeSent')
    .map((e) => e.message.params.request?.url ?? '');
  expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  expect((await page.screenshot(name)).subarray(1, 4).toString()).toBe('PNG');
}

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

    await inChromium(file, async (s, page) => {
      const rows = await wd<{ id: string; outcome: string; colour: string }[]>('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('table.timeline tr.job')].map((tr) => ({ id: tr.dataset.jobId, outcome: tr.dataset.outcome, colour: getComputedStyle(tr.querySelector('.bar')).backgroundColor }));`,
        args: [],
      });
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
      await expectQuiet(s);
      await screenshot(page, 'pipeline-report.png');
    });
  }, 120_000);
  it('draws a redriven scan as one story: both real attempts in one timeline, carried jobs marked, the gate checks', async () => {
    const collect = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    // Run 1 faults (a credential expired), run 2 completes: the owner fixed the cause and redrives.
    const faulty = addJob(rig.sim, [['Completed', 0]], {
      runs: [
        {
          steps: [
            ['Executing', 4],
            ['Faulted', 0],
          ],
          exception: 'credential expired on <b>3</b> assets',
        },
        {
          steps: [
            ['Executing', 1],
            ['Completed', 0],
          ],
          exception: null,
        },
      ],
    });
    const sibling = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const reporting = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const root = `report-scan-${randomUUID()}`;
    const first = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: root,
      args: [
        {
          name: 'nightly scan',
          pollInterval: '1s',
          stages: [
            { name: 'collect', jobs: [collect] },
            { name: 'evaluate', jobs: [faulty, sibling], requireFresh: { fromStage: 'collect', within: '24h' } },
            { name: 'report', jobs: [reporting] },
          ],
        },
      ],
    });
    expect((await failureOf(first.result())).type).toBe('CcsPipelineFailed');
    const redrive = await rig.w.client.workflow.start<typeof runCcsPipeline>('runCcsPipeline', {
      taskQueue: rig.w.taskQueue,
      workflowId: redriveWorkflowId(root, 1),
      args: [{ redriveOf: { workflowId: root, runId: first.firstExecutionRunId } }],
    });
    const report: PipelineReport = await redrive.result();
    expect(report.status).toBe('Completed');

    // Asked for the first attempt's id, the page draws the whole scan.
    const file = join(tempDir('ccs-report-'), 'redriven.html');
    const written = await cli(['report', root, '--html', file]);
    expect(written.stderr).toBe('');
    expect(written.stdout).toBe(`wrote the report of ${root} (Failed), with the 2 attempts of scan ${root}, to ${file}\n`);
    expect(readFileSync(file, 'utf8')).not.toContain('<b>3</b>');

    await inChromium(file, async (s, page) => {
      const rows = await wd<
        {
          attempt: string;
          id: string;
          outcome: string;
          colour: string;
          carriedFrom: string | null;
          mark: string | null;
          link: string | null;
        }[]
      >('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('table.scan-timeline tr.job')].map((tr) => {
            const mark = tr.querySelector('.carried-mark');
            const target = mark && mark.getAttribute('href') ? document.getElementById(mark.getAttribute('href').slice(1)) : null;
            return { attempt: tr.dataset.attempt, id: tr.dataset.jobId, outcome: tr.dataset.outcome, colour: getComputedStyle(tr.querySelector('.bar')).backgroundColor,
              carriedFrom: tr.dataset.carriedFrom ?? null, mark: mark ? mark.textContent : null,
              link: target ? target.closest('section.attempt').dataset.attempt + ':' + target.dataset.jobId : null };
          });`,
        args: [],
      });
      const ran = (attempt: string, id: string, outcome: 'completed' | 'faulted' | 'skipped') => ({
        attempt,
        id,
        outcome,
        colour: rgb(OUTCOME_COLOURS[outcome]),
        carriedFrom: null,
        mark: null,
        link: null,
      });
      const carried = (id: string) => ({
        attempt: '1',
        id,
        outcome: 'completed',
        colour: rgb(OUTCOME_COLOURS.completed),
        carriedFrom: '0',
        mark: 'carried from attempt 0',
        link: `0:${id}`,
      });
      expect(rows).toEqual([
        ran('0', collect, 'completed'),
        ran('0', faulty, 'faulted'),
        ran('0', sibling, 'completed'),
        ran('0', reporting, 'skipped'),
        carried(collect),
        ran('1', faulty, 'completed'),
        carried(sibling),
        ran('1', reporting, 'completed'),
      ]);
      // A carried bar is striped over its colour: what a reader sees apart from a bar of a job run again.
      const stripes = await wd<string[]>('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('table.scan-timeline .bar')].map((b) => getComputedStyle(b).backgroundImage);`,
        args: [],
      });
      expect(stripes.map((b) => b.startsWith('repeating-linear-gradient'))).toEqual([false, false, false, false, true, false, true, false]);
      const lanes = await wd<{ attempt: string; status: string; colour: string }[]>('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('tr.attempt-summary')].map((tr) => ({ attempt: tr.dataset.attempt, status: tr.querySelector('.attempt-status').textContent, colour: getComputedStyle(tr.querySelector('.attempt-status')).backgroundColor }));`,
        args: [],
      });
      expect(lanes).toEqual([
        { attempt: '0', status: 'Failed', colour: rgb(OUTCOME_COLOURS.faulted) },
        { attempt: '1', status: 'Completed', colour: rgb(OUTCOME_COLOURS.completed) },
      ]);
      // The gate was checked in each attempt, the second time against the carried collection's run.
      const collectRun = rig.sim.state.runsOf(collect)[0]!.JobRunID;
      const checks = await wd<{ attempt: string; text: string }[]>('POST', `${s}/execute/sync`, {
        script: `return [...document.querySelectorAll('section.attempt tr.freshness')].map((tr) => ({ attempt: tr.closest('section.attempt').dataset.attempt, text: tr.innerText }));`,
        args: [],
      });
      expect(checks.map((c) => c.attempt)).toEqual(['0', '1']);
      for (const c of checks)
        expect(c.text).toMatch(
          new RegExp(
            `^evaluate\\t${collect} on default\\t${formatDuration(parseDuration('within', '24h'))}\\t${collectRun}[\\s\\S]*\\tfresh$`,
          ),
        );
      const text = await wd<string>('POST', `${s}/execute/sync`, { script: 'return document.body.innerText;', args: [] });
      expect(text).toContain('credential expired on <b>3</b> assets');
      expect(text).toContain(`redrive of ${root}: unfinished jobs`);
      await expectQuiet(s);
      await screenshot(page, 'pipeline-redrive-report.png');
    });

    // The same story from the evidence chain: any attempt's id shows both, what was carried and what ran again.
    await eventually(async () => (await cli(['evidence', 'show', redrive.workflowId, '--dir', rig.w.evidence, '--json'])).code === 0);
    const shown = JSON.parse((await cli(['evidence', 'show', redrive.workflowId, '--dir', rig.w.evidence, '--json'])).stdout) as {
      rootWorkflowId: string;
      attempts: EvidenceAttempt[];
    };
    expect(shown.rootWorkflowId).toBe(root);
    expect(
      shown.attempts.map((a) => ({
        attempt: a.attempt,
        status: a.status,
        outcome: a.outcome,
        carried: a.carried.map((c) => [c.jobId, c.from.attempt]),
        ran: a.ran.map((j) => [j.jobId, j.state]),
      })),
    ).toEqual([
      {
        attempt: 0,
        status: 'Failed',
        outcome: 'CcsPipelineFailed',
        carried: [],
        ran: [
          [collect, 'completed'],
          [faulty, 'failed'],
          [sibling, 'completed'],
        ],
      },
      {
        attempt: 1,
        status: 'Completed',
        outcome: 'completed',
        carried: [
          [collect, 0],
          [sibling, 0],
        ],
        ran: [
          [faulty, 'completed'],
          [reporting, 'completed'],
        ],
      },
    ]);
    const human = await cli(['evidence', 'show', root, '--dir', rig.w.evidence]);
    expect(human.stdout).toMatch(new RegExp(`^scan ${root}: 2 attempt\\(s\\), latest ${root}/redrive-1 Completed\\n`));
    expect(human.stdout).toContain(
      `  carried 2:\n    ${collect}  run ${rig.sim.state.runsOf(collect)[0]!.JobRunID}  from attempt 0 (${root}`,
    );
    const exported = join(tempDir('ccs-report-'), 'export.html');
    expect(
      (await cli(['evidence', 'export', '--format', 'html', '--out', exported, '--dir', rig.w.evidence, '--status', 'Completed'])).code,
    ).toBe(0);
    expect(readFileSync(exported, 'utf8')).toMatch(/<tbody class="lane" data-attempt="0">[\s\S]*<tbody class="lane" data-attempt="1">/);
  }, 180_000);
});
