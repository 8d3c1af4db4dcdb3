/**
 * Workers as the image runs them: the Dockerfile's build stage (tsc with tsconfig.build.json, then the
 * prebuilt workflow bundles), and `node dist/src/worker.js` with the image's ENV and the compose
 * service's environment; only addresses and paths are local.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, managedProcess, type ManagedProcess } from './processes';

const ROOT = join(__dirname, '..', '..', '..');

export interface CompiledWorker {
  /** The compiled tree (`dist` in the image). */
  dist: string;
  bundle: string;
  seconds: number;
}

/**
 * The Dockerfile's build stage into `out` (inside the repository, so that compiled code finds
 * node_modules as it does in /app): `tsc -p tsconfig.build.json`, then `bundle-workflows`.
 */
export function compileWorker(out: string): CompiledWorker {
  const started = Date.now();
  mkdirSync(out, { recursive: true });
  const dist = join(out, 'dist');
  const run = (args: string[]): void => {
    try {
      execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer };
      const output = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`;
      throw new Error(`${args.slice(0, 2).join(' ')} failed:\n${output.trim().split('\n').slice(-10).join('\n')}`);
    }
  };
  run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist]);
  const bundle = join(out, 'workflow-bundle.js');
  run([join(dist, 'src/dev/bundle-workflows.js'), bundle]);
  return { dist, bundle, seconds: Math.round((Date.now() - started) / 1000) };
}

/**
 * The `ENV` of the Dockerfile's worker stage (the last one), as a map; `${NAME}` is the stage's
 * `ARG NAME=default`, or `buildArgs.NAME` when given (as `docker build --build-arg` would pass it).
 */
export function dockerfileWorkerEnv(
  dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
  buildArgs: Record<string, string> = {},
): Record<string, string> {
  const stage = dockerfile.split(/^FROM /m).at(-1) ?? '';
  const args: Record<string, string> = {};
  for (const [, key, value] of stage.matchAll(/^ARG ([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/gm))
    args[key!] = buildArgs[key!] ?? value?.trim() ?? '';
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(stage)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const [, key, value] of block.replace(/\\\n/g, ' ').matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S*)/g)) {
    env[key!] = value!.replace(/^"|"$/g, '').replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => args[name] ?? '');
  }
  return env;
}

export interface ClusterWorker extends ManagedProcess {
  index: number;
  healthUrl: string;
  metricsUrl: string;
}

/**
 * One worker process; ready once its `/readyz` says it polls Temporal (the `temporal` check), whatever
 * CCS says: a real CCS that refuses is reported by the worker, not a reason to stop the cluster.
 */
export async function workerProcess(
  index: number,
  compiled: CompiledWorker,
  env: Record<string, string>,
  logDir: string,
): Promise<ClusterWorker> {
  const health = await freePort();
  const metrics = await freePort();
  const healthUrl = `http://127.0.0.1:${health}`;
  const process_ = managedProcess({
    name: `worker ${index}`,
    command: process.execPath,
    args: [join(compiled.dist, 'src/worker.js')],
    cwd: join(compiled.dist, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
      WORKFLOW_BUNDLE_PATH: compiled.bundle,
      HEALTH_BIND_ADDRESS: `127.0.0.1:${health}`,
      METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
    },
    logFile: join(logDir, `worker-${index}.log`),
    ready: async (child) => {
      const deadline = Date.now() + 60_000;
      while ((await pollsTemporal(healthUrl)) !== true) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error(`${healthUrl}/readyz did not report the worker polling Temporal within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  });
  return Object.assign(process_, { index, healthUrl, metricsUrl: `http://127.0.0.1:${metrics}/metrics` });
}

async function pollsTemporal(healthUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${healthUrl}/readyz`);
    return ((await res.json()) as { checks?: Record<string, string> }).checks?.temporal === 'ok';
  } catch {
    return false;
  }
}
