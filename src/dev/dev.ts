/**
 * `npm run dev`: the demo's stack (Temporal dev server with UI, CCS simulator, worker), kept running
 * for exploration with the CLI until Ctrl-C.
 */
import { DEFAULT_JOBS } from '../sim/default-scenario';
import { startStack } from './stack';

async function dev(): Promise<void> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const stack = await startStack(say, { preferDefaultPorts: true });
  const done = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say(`
The stack is up. In another shell:
  export TEMPORAL_ADDRESS=${stack.temporal.address}
  npx ccs-jobs run ${DEFAULT_JOBS[0]!.JobID} --wait
  npx ccs-jobs pipeline run examples/nightly-scan.yaml --wait
  npx ccs-jobs list --status Executing
  npx ccs-jobs schedule create nightly --cron "0 2 * * *" --job ${DEFAULT_JOBS[1]!.JobID}
Simulator jobs: ${DEFAULT_JOBS.map((j) => `${j.JobID} (${j.JobName})`).join(', ')}
Simulator control API: ${stack.sim.baseUrl.replace(/\/ccs\/api\/v1$/, '')}/__sim/runs, /__sim/stats, /__sim/faults
Temporal UI: ${stack.temporal.uiUrl}
Ctrl-C stops everything.`);
  await done;
  say('stopping...');
  await stack.stop();
}

dev().catch((err: unknown) => {
  console.error(`dev stack failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
