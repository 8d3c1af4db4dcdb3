/**
 * Live scan state in the stock Temporal UI (issue 32, part 1): a run started by the CLI and one
 * started by a schedule carry a static summary and keep their current details up to date (Executing
 * → Completed, paused, attention), read the ways an operator reads them: `temporal workflow describe
 * -o json`, the `__temporal_workflow_metadata` query, and the dev server's own UI in headless
 * Chromium (screenshots kept in test-artifacts/). A dev server of the file's own, with its UI on.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../src/dev/dev-server';
import type { Simulator } from '../../src/sim/server';
import type { runCcsJob } from '../../src/workflows';
import { addJob, type CliRun, eventually, runCli, startSim, startWorker, type TestWorker } from '../helpers';
import { inSession, startWebDriver, type WebDriver } from '../webdriver';

const RUN_FLAGS = ['--poll', '1s', '--max-poll', '1s'];
const SECRET = 'sim-password';
let server: DevServer;
let sim: Simulator;
let w: TestWorker;
let webDriver: WebDriver;

beforeAll(async () => {
  server = await startDevServer({ uiPort: await freePort() });
  sim = await startSim();
  w = await startWorker(sim, {}, server.address);
  webDriver = await startWebDriver();
}, 600_000);
afterAll(async () => {
  webDriver?.stop();
  await w?.stop();
  await sim?.close();
  await server?.stop();
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: w.taskQueue });
}

/** `temporal workflow describe -o json` of the workflow, parsed. */
async function describeJson(workflowId: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    inject('temporalCliPath'),
    ['workflow', 'describe', '-w', workflowId, '-o', 'json', '--address', server.address],
    { timeout: 20_000 },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** A payload as the CLI prints it ({ metadata, data } in Base64, or already decoded): its text. */
function payloadText(p: unknown): string | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p === 'string') return p;
  const data = (p as { data?: unknown }).data;
  if (typeof data !== 'string') return JSON.stringify(p);
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as string;
}

/** The static summary and details as `temporal workflow describe` shows them. */
async function describedMetadata(workflowId: string): Promise<{ summary?: string; details?: string; raw: string }> {
  const d = await describeJson(workflowId);
  const meta = (d.executionConfig as { userMetadata?: { summary?: unknown; details?: unknown } } | undefined)?.userMetadata;
  return { summary: payloadText(meta?.summary), details: payloadText(meta?.details), raw: JSON.stringify(d) };
}

/** The current details through the built-in metadata query. */
async function currentDetails(handle: WorkflowHandle<typeof runCcsJob>): Promise<string> {
  const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

async function detailsUntil(handle: WorkflowHandle<typeof runCcsJob>, text: string, timeoutMs = 30_000): Promise<string> {
  return eventually(
    async () => {
      const d = await currentDetails(handle).catch(() => '');
      return d.includes(text) ? d : undefined;
    },
    timeoutMs,
    `current details showing ${JSON.stringify(text)}`,
  );
}

let cliRun: { workflowId: string; jobId: string } | undefined;

describe('live scan state in the Temporal UI', () => {
  it('a CLI run: static summary at start, current details through Executing, paused, attention and Completed', async () => {
    const jobId = addJob(sim, [
      ['Executing', 600],
      ['Completed', 0],
    ]);
    const workflowId = `ui-cli-${jobId}`;
    const started = await cli(['run', jobId, '--id', workflowId, '--requested-by', 'ops-team', '--json', ...RUN_FLAGS]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const handle = w.client.workflow.getHandle<typeof runCcsJob>(workflowId);

    const meta = await describedMetadata(workflowId);
    expect(meta.summary).toBe(`CCS job ${jobId.slice(0, 4)}… on default, by ccs-jobs run for ops-team`);
    expect(meta.details).toContain(`**JobID** \`${jobId}\``);
    expect(meta.details).toContain('**CCS server** default');

    const executing = await detailsUntil(handle, '**Status** Executing');
    expect(executing).toMatch(/\*\*Run\*\* `[0-9a-f-]{36}`/);
    expect(executing).toContain('**Waits for** a status change, next read in 1 s');

    // Attention: CCS refuses the status reads until the details say so; readable again, they clear.
    sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'] });
    const attention = await detailsUntil(handle, '**Attention**');
    expect(attention).toMatch(/\*\*Attention\*\* Ccs\w+ since \S+Z/);
    expect(attention).toContain('**Waits for** CCS to answer again');
    sim.setFaults({});
    await eventually(async () => !(await currentDetails(handle)).includes('**Attention**'), 30_000, 'the attention to clear');

    // Paused: shown at once (a signal), and gone again on resume.
    expect((await cli(['pause', workflowId, '--reason', 'patch window'])).code).toBe(0);
    const paused = await detailsUntil(handle, '**Waits for** a resume signal');
    expect(paused).toMatch(/\*\*Paused\*\* by signal since \S+Z/);
    expect(paused).not.toContain('patch window'); // a person's reason is not shown to every UI reader
    expect((await cli(['resume', workflowId])).code).toBe(0);
    await eventually(async () => !(await currentDetails(handle)).includes('**Paused**'), 30_000, 'the pause to leave the details');

    // The run's ten minutes pass at once: the simulator's run moves back in time, and the next read sees it Completed.
    for (const r of sim.state.runsOf(jobId)) r.startedAt -= 600_000;
    const result = await handle.result();
    expect(result.status).toBe('Completed');
    const completed = await currentDetails(handle);
    expect(completed).toContain('**Status** Completed');
    expect(completed).not.toContain('**Waits for**');
    expect(completed).not.toContain('**Attention**');
    expect(completed).not.toContain(SECRET);

    const after = await describedMetadata(workflowId);
    expect(after.raw).not.toContain(SECRET);
    cliRun = { workflowId, jobId };
  }, 120_000);

  it('a scheduled run: current details from its start to Completed', async () => {
    const jobId = addJob(sim, [
      ['Executing', 2],
      ['Completed', 0],
    ]);
    const name = `ui-schedule-${jobId.slice(0, 8)}`;
    const created = await cli(['schedule', 'create', name, '--cron', '0 3 1 1 *', '--job', jobId, '--poll', '1s']);
    expect(created.stderr).toBe('');
    expect((await cli(['schedule', 'trigger', name])).code).toBe(0);
    const workflowId = await eventually(
      async () => {
        for await (const e of w.client.workflow.list({ query: `TemporalScheduledById = "${name}"` })) return e.workflowId;
        return undefined;
      },
      30_000,
      'the scheduled run to be listed',
    );
    const handle = w.client.workflow.getHandle<typeof runCcsJob>(workflowId);
    await detailsUntil(handle, '**Status** Executing');
    expect((await handle.result()).status).toBe('Completed');
    expect(await detailsUntil(handle, '**Status** Completed')).toMatch(/\*\*Run\*\* `[0-9a-f-]{36}`/);
    await cli(['schedule', 'delete', name]);
  }, 90_000);

  it("shows in the dev server's UI: the list by job status and server, a workflow's summary and current details (screenshots)", async () => {
    expect(cliRun).toBeDefined();
    const { workflowId, jobId } = cliRun!;
    const { runId } = await w.client.workflow.getHandle(workflowId).describe();
    await inSession(webDriver, { windowSize: '1600,1000' }, async (page) => {
      const { run } = page;
      const wd = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> =>
        webDriver.command<T>(method, path, body);
      const s = page.path;
      /** The page's text and the text of its frames: the UI renders user metadata as markdown in sandboxed iframes. */
      const pageText = async (): Promise<string> => {
        let text = await run<string>('return document.body.innerText;');
        for (const frame of await wd<unknown[]>('POST', `${s}/elements`, { using: 'css selector', value: 'iframe' })) {
          try {
            await wd('POST', `${s}/frame`, { id: frame });
            text += `\n${await run<string>('return document.body ? document.body.innerText : "";')}`;
          } catch (err) {
            // The UI re-rendered that frame between listing and reading it: this read misses it, the next one sees the new frame.
            if (!/stale element|no such frame/.test((err as Error).message)) throw err;
          } finally {
            await wd('POST', `${s}/frame`, { id: null });
          }
        }
        return text;
      };
      const screenshot = async (name: string): Promise<void> => {
        expect((await page.screenshot(name)).subarray(1, 4).toString()).toBe('PNG');
      };
      const summary = `CCS job ${jobId.slice(0, 4)}… on default, by ccs-jobs run for ops-team`;
      // The list: UI 2.42's list carries no user metadata (the visibility API does not return it), so the
      // operator's view is the search attributes this project keeps, added as columns (the UI's own
      // column setting, kept in localStorage).
      await page.open(`${server.uiUrl!}/namespaces/default/workflows`);
      const columns = ['Status', 'Workflow ID', 'Type', 'CcsJobStatus', 'CcsServer', 'CcsAttention', 'Start', 'End'].map((label) => ({
        label,
      }));
      await run(
        `localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify({ default: columns }))}); location.reload();`,
      );
      const row = await eventually(
        async () => (await pageText()).split('\n').find((line) => line.includes(workflowId) && line.includes('runCcsJob')),
        60_000,
        'the CLI run in the workflow list',
      );
      expect(row).toMatch(/Completed\s+default/);
      await screenshot('ui-workflow-list.png');

      // The workflow's User Metadata tab: its static summary and details, and its current details.
      await page.open(`${server.uiUrl!}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/user-metadata`);
      const text = await eventually(
        async () => {
          const t = await pageText();
          return t.includes(summary) && t.includes(`JobID ${jobId}`) && /Status Completed/.test(t) ? t : undefined;
        },
        60_000,
        'the summary, details and current details on the workflow page',
      );
      expect(text).toMatch(/Run [0-9a-f-]{36}/);
      expect(text).not.toContain(SECRET);
      await screenshot('ui-workflow-details.png');
    });
  }, 180_000);
});
