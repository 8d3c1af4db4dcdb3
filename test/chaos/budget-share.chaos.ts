/**
 * One CCS request budget for the whole deployment (`npm run test:chaos`, or this file alone):
 * 1, 2 and 3 worker processes share one simulator with CCS_REQUESTS_PER_SECOND, and enough runs
 * polled every second that held waits ask far more than the budget. Every second, the simulator
 * must receive at most the budget + 25 %, whatever the number of workers. The table of measured
 * requests per second is printed at the end (docs/reliability.md keeps one).
 * CHAOS_SHARED_BUDGET (default 20), CHAOS_SHARED_BUDGET_RUNS (200) and
 * CHAOS_SHARED_BUDGET_SECONDS (45, the measured window) scale it.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startSimulator } from '../../src/sim/server';
import type { runCcsJob } from '../../src/workflows';
import { SIM_USER, eventually, spawnWorkerProcess, type WorkerProcess } from '../helpers';
import { tempDir } from '../temp-dir';

const BUDGET = Number(process.env.CHAOS_SHARED_BUDGET ?? 20);
const RUNS = Number(process.env.CHAOS_SHARED_BUDGET_RUNS ?? 200);
const MEASURE_SECONDS = Number(process.env.CHAOS_SHARED_BUDGET_SECONDS ?? 45);
const rows: string[] = [];

/** The worker count the process last said it divides its budget by (its "CCS request budget shared" line). */
function sharedAmong(output: string): number | undefined {
  const lines = output.split('\n').filter((line) => line.includes('"msg":"CCS request budget shared"'));
  const last = lines.at(-1);
  return last === undefined ? undefined : (JSON.parse(last) as { workers: number }).workers;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

afterAll(() => {
  console.log(
    `\none request budget of ${BUDGET}/s for all workers, ${RUNS} runs polled every 1 s (requests/s at the simulator)\n| workers | seconds | p50 | p90 | max | limit |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
});

describe.sequential('one CCS request budget for all workers', () => {
  it.each([1, 2, 3])(
    `%i worker process(es) on one task queue: the simulator receives at most ${BUDGET} × 1.25 requests in every second`,
    async (workers) => {
      const sim = await startSimulator({ port: 0 });
      const dir = tempDir('budget-share-');
      writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
      const env = {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_TASK_QUEUE: `budget-share-${workers}-${randomUUID()}`,
        WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
        CCS_BASE_URL: sim.baseUrl,
        CCS_USERNAME: SIM_USER.username,
        CCS_PASSWORD: SIM_USER.password,
        CCS_CA_FILE: join(dir, 'ca.pem'),
        CCS_REQUESTS_PER_SECOND: String(BUDGET),
      };
      const connection = await Connection.connect({ address: inject('temporalAddress') });
      const client = new Client({ connection });
      const procs: WorkerProcess[] = [];
      const workflowIds: string[] = [];
      try {
        procs.push(...(await Promise.all(Array.from({ length: workers }, () => spawnWorkerProcess(env)))));
        // Each worker counts the others at start and every 15 s: wait until all have counted all.
        await eventually(
          () => procs.every((p) => sharedAmong(p.output()) === workers),
          60_000,
          `every worker to share the budget among ${workers}`,
        );
        const started = Date.now();
        await Promise.all(
          Array.from({ length: RUNS }, async () => {
            const jobId = sim.state.addJob({ JobID: randomUUID(), JobName: 'held wait', steps: [['Executing', 3600]] }).JobID;
            const workflowId = `budget-share-${randomUUID()}`;
            workflowIds.push(workflowId);
            await client.workflow.start<typeof runCcsJob>('runCcsJob', {
              taskQueue: env.TEMPORAL_TASK_QUEUE,
              workflowId,
              args: [{ jobId, pollInterval: '1s', maxPollInterval: '1s' }],
            });
          }),
        );
        // Measured over whole seconds from the first start: the executes and first reads are in it too.
        const from = new Date(Math.floor(started / 1000) * 1000).toISOString();
        const window = await eventually(
          () => {
            const seconds = sim.requestRate().filter((s) => s.second >= from);
            return seconds.length >= MEASURE_SECONDS ? seconds.slice(0, MEASURE_SECONDS).map((s) => s.requests) : undefined;
          },
          (MEASURE_SECONDS + 60) * 1000,
          `${MEASURE_SECONDS} s of requests`,
        );
        const sorted = [...window].sort((a, b) => a - b);
        const limit = BUDGET * 1.25;
        rows.push(
          `| ${workers} | ${window.length} | ${percentile(sorted, 50)} | ${percentile(sorted, 90)} | ${sorted.at(-1)} | ${limit} |`,
        );
        // The runs ask far more than the budget (RUNS reads a second): the budget, not the load, sets the rate.
        expect(window.reduce((a, b) => a + b, 0)).toBeGreaterThan(BUDGET * MEASURE_SECONDS * 0.5);
        expect(sorted.at(-1)).toBeLessThanOrEqual(limit);
      } finally {
        await Promise.all(
          workflowIds.map((id) =>
            client.workflow
              .getHandle(id)
              .terminate('budget measured')
              .catch(() => undefined),
          ),
        );
        for (const p of procs) p.child.kill('SIGKILL');
        await Promise.all(procs.map((p) => p.exited));
        await connection.close();
        await sim.close();
      }
    },
    300_000,
  );
});
