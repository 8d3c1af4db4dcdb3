/**
 * `npm run cluster [-- --workers N] [--no-ui]`: the production-shaped cluster (PostgreSQL, the real
 * Temporal server, UI, N workers from the compiled image build, and the CCS simulator unless real CCS
 * settings are in the environment), kept running until Ctrl-C. Prints TEMPORAL_ADDRESS=<host:port>
 * once everything is ready. docs/operations.md, "A cluster without Docker".
 */
import { DEFAULT_JOBS } from '../../sim/default-scenario';
import { ensureTemporalCli } from '../temporal-cli';
import { startCluster } from './index';
import { ensurePostgresBinaries } from './postgres';
import { ensureTemporalBinaries } from './temporal-server';

const USAGE = 'usage: npm run cluster [-- --workers N] [--no-ui] [--build-only]';

function options(argv: string[]): { workers: number; ui: boolean; buildOnly: boolean; help: boolean } {
  let workers = 3;
  let ui = true;
  let buildOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--no-ui') ui = false;
    else if (arg === '--build-only') buildOnly = true;
    else if (arg === '--workers' || arg.startsWith('--workers=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[++i];
      workers = Number(value);
      if (!Number.isInteger(workers) || workers < 1 || workers > 16)
        throw new Error(`--workers must be a whole number from 1 to 16, got ${value ?? 'nothing'}`);
    } else if (arg === '--help' || arg === '-h') {
      return { workers, ui, buildOnly, help: true };
    } else throw new Error(`unknown option ${arg}; ${USAGE}`);
  }
  return { workers, ui, buildOnly, help: false };
}

/** --build-only: what the cluster needs on this machine (CI runs it as an install step), timed. */
async function buildOnly(ui: boolean, say: (line: string) => void): Promise<void> {
  const started = Date.now();
  await ensureTemporalCli(say);
  const bin = ensurePostgresBinaries(say);
  const binaries = await ensureTemporalBinaries({ ui, log: say });
  const built = Object.entries(binaries.built)
    .map(([what, s]) => `${what} ${s} s`)
    .join(', ');
  say(
    `cluster binaries ready in ${Math.round((Date.now() - started) / 1000)} s (${built ? `built now: ${built}` : 'all cached'}): PostgreSQL ${bin}, ${binaries.server}, ${binaries.sqlTool}${binaries.ui ? `, ${binaries.ui}` : ''}`,
  );
}

async function main(): Promise<void> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const { workers, ui, buildOnly: onlyBuild, help } = options(process.argv.slice(2));
  if (help) return say(USAGE);
  if (onlyBuild) return buildOnly(ui, say);
  const cluster = await startCluster({ workers, ui, preferDefaultPorts: true, log: say });
  // Ctrl-C, a supervisor's SIGTERM, or the terminal going away: stop everything (PostgreSQL runs as
  // another user and would outlive us otherwise).
  const done = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolve);
  });
  const built = Object.entries(cluster.timings.builds)
    .map(([what, s]) => `${what} ${s} s`)
    .join(', ');
  say(`
The cluster is up in ${cluster.timings.start} s${built ? ` (built now: ${built})` : ''}: PostgreSQL on ${cluster.postgres.host}:${cluster.postgres.port},
the Temporal server (metrics ${cluster.metricsUrl}), ${cluster.workers.length} workers on task queue ${cluster.taskQueue}${cluster.sim ? `, the CCS simulator at ${cluster.sim.baseUrl}` : ', your CCS'}.
Logs: ${cluster.dir}
In another shell:
  export TEMPORAL_ADDRESS=${cluster.address}
  npx ccs-jobs run ${cluster.sim ? DEFAULT_JOBS[0]!.JobID : '<JobID>'} --wait
  npx ccs-jobs pipeline run examples/nightly-scan.yaml --wait
The workers poll as Worker Deployment ${cluster.deploymentName}, build ${cluster.buildId}; a new build goes beside it and is made current with
  temporal worker deployment set-current-version --address ${cluster.address} --deployment-name ${cluster.deploymentName} --build-id <new build> --yes
(docs/operations.md, "Versioned deploys").
Ctrl-C stops everything.`);
  if (cluster.uiUrl) say(`TEMPORAL_UI=${cluster.uiUrl}`);
  say(`TEMPORAL_ADDRESS=${cluster.address}`);
  await done;
  say('stopping...');
  await cluster.stop();
}

main().catch((err: unknown) => {
  console.error(`cluster failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
