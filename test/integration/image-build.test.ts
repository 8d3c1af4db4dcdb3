/**
 * Docker cannot run here, so the image is checked by doing what its Dockerfile does: compile with
 * tsconfig.build.json, prebuild the workflow bundle with the script the image runs, then start the
 * compiled worker (plain node, no tsx) on that bundle and see it serve a run without webpack. What
 * the Dockerfile says (files, user, Node version, HEALTHCHECK) is a unit test (test/unit/dockerfile.test.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import type { Simulator } from '../../src/sim/server';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { AesGcmCodec, encryptingDataConverter } from '../../src/hosting/codec';
import { SIM_USER, addJob, eventually, failureOf, startRun, startSim, startWorker, type TestWorker } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const KEY = randomBytes(32);
let sim: Simulator;
let helper: TestWorker;
let out: string;

beforeAll(async () => {
  sim = await startSim();
  helper = await startWorker(sim);
  // Inside the repository, so that compiled code and the bundler find node_modules as in /app.
  mkdirSync(join(ROOT, '.build-test'), { recursive: true });
  out = mkdtempSync(join(ROOT, '.build-test', 'image-'));
});
afterAll(async () => {
  await helper?.stop();
  await sim?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('the worker image build', () => {
  it('compiles, prebuilds the bundle, and the compiled worker serves a run on it without webpack', async () => {
    const dist = join(out, 'dist');
    // The Dockerfile's build stage, with the output redirected to a temporary directory.
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const bundle = join(out, 'workflow-bundle.js');
    execFileSync(process.execPath, [join(dist, 'src/dev/bundle-workflows.js'), bundle], { cwd: ROOT, stdio: 'pipe' });
    expect(readFileSync(bundle, 'utf8').length).toBeGreaterThan(100_000);
    expect(readFileSync(join(out, 'workflow-bundle.encoded-failures.js'), 'utf8')).toContain('encodeCommonAttributes');
    expect(dockerfile).toContain('node dist/src/dev/bundle-workflows.js /app/workflow-bundle.js');
    expect(dockerfile).toContain('CMD ["node", "dist/src/worker.js"]');

    writeFileSync(join(out, 'ca.pem'), sim.caPem!);
    const health = await freePort();
    const taskQueue = `image-${Date.now()}`;
    const child = spawn(process.execPath, [join(dist, 'src/worker.js')], {
      cwd: out,
      env: {
        PATH: process.env.PATH ?? '',
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKFLOW_BUNDLE_PATH: bundle,
        HEALTH_BIND_ADDRESS: `127.0.0.1:${health}`,
        CCS_BASE_URL: sim.baseUrl,
        CCS_USERNAME: SIM_USER.username,
        CCS_PASSWORD: SIM_USER.password,
        CCS_CA_FILE: join(out, 'ca.pem'),
        CCS_CODEC_KEYS: `image:${KEY.toString('base64')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    try {
      await eventually(
        () =>
          fetch(`http://127.0.0.1:${health}/readyz`).then(
            (r) => r.ok || undefined,
            () => undefined,
          ),
        30_000,
        'the compiled worker to be ready',
      );
      const encrypted = {
        ...helper,
        taskQueue,
        client: new Client({
          connection: helper.client.connection,
          dataConverter: encryptingDataConverter(new AesGcmCodec([{ id: 'image', key: KEY }])),
        }),
      };
      const jobId = addJob(sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]);
      const run = await startRun(encrypted, { jobId, pollInterval: '1s', maxPollInterval: '1s' });
      expect((await run.result()).status).toBe('Completed');
      // The compiled encoded-failures converter and its bundle: a faulted run's failure is readable
      // with the key, and history holds only "Encoded failure".
      const faultId = addJob(
        sim,
        [
          ['Executing', 1],
          ['Faulted', 0],
        ],
        { exception: 'compiled-canary exception' },
      );
      const faulted = await startRun(encrypted, { jobId: faultId, pollInterval: '1s', maxPollInterval: '1s' });
      expect((await failureOf(faulted.result())).message).toMatch(/faulted: compiled-canary exception$/);
      const history = JSON.stringify(await faulted.fetchHistory());
      expect(history).toContain('Encoded failure');
      expect(history).not.toContain('compiled-canary');
      expect(history).not.toMatch(/ faulted: /);
      expect(output).not.toContain('webpack');
      expect(output).not.toContain('Workflow bundle created');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    // The image installs production dependencies only: the compiled worker and CLI must need no other.
    const production = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies,
    );
    for (const entry of ['src/worker.js', 'src/cli/main.js', 'src/hosting/codec-server.js']) {
      const needed = packagesRequiredBy(join(dist, entry));
      expect(
        needed.filter((name) => !production.includes(name)),
        entry,
      ).toEqual([]);
    }
  }, 120_000);
});

/** Every package the compiled file and the compiled files it requires (transitively) require by name. */
function packagesRequiredBy(entry: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
      if (spec!.startsWith('.')) {
        const base = join(dirname(file), spec!);
        visit(existsSync(`${base}.js`) ? `${base}.js` : join(base, 'index.js'));
      } else if (!spec!.startsWith('node:') && !builtinModules.includes(spec!)) {
        packages.add(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
      }
    }
  };
  visit(entry);
  return [...packages].sort();
}
