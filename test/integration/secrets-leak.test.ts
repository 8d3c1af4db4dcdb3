/**
 * Secrets never leave, whatever CCS echoes. A worker process runs real workflows against a simulator
 * whose every error answer quotes the request back (Authorization header and form body, as IIS
 * error pages and gateways do) and whose run texts quote credentials: a success through 500s, a run
 * that needs attention through echoed 403s, a faulted run, a 400 before the run, and refused grants.
 * Then everything an operator or an attacker can read is searched for the password (as typed and as
 * sent) and every token the simulator issued: the full history (`temporal workflow show -o json`),
 * what `describe` shows of a retrying activity, the worker's log, the CLI's output, `/readyz` and
 * `/metrics`. With and without payload encryption.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { freePort } from '../../src/dev/dev-server';
import type { Simulator } from '../../src/sim/server';
import { addJob, eventually, spawnWorkerProcess, startSim, type WorkerProcess } from '../helpers';
import { tempDir } from '../temp-dir';

const USER = 'CORP\\svc-leak';
const PASSWORD = `Canary-${randomBytes(6).toString('hex')}!pw`;
const RUN = ['--poll', '1s', '--max-poll', '2s'];

let sim: Simulator;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  sim = await startSim({ users: { [USER]: { password: PASSWORD, role: 'operator' } } });
  dir = tempDir('ccs-leak-');
  writeFileSync(join(dir, 'ca.pem'), sim.caPem!);
});
afterEach(() => {
  sim.setFaults({});
  for (const child of children) child.kill('SIGKILL');
});
afterAll(async () => {
  await sim?.close();
});

interface Seen {
  what: string;
  text: string;
}

/** The ccs-jobs CLI in this process: exit code and everything it printed. */
async function ccsJobs(args: string[], env: Record<string, string>): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await main(args, env, { write: (t) => void (text += t), isTTY: false }, (t) => void (text += t));
  return { code, text };
}

function temporal(args: string[]): string {
  return execFileSync(inject('temporalCliPath'), [...args, '--address', inject('temporalAddress')], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Every form a secret may take in what was read: as is, Base64 (how the password is sent), URL-encoded. */
function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)];
}

async function scenarios(encrypt: boolean): Promise<Seen[]> {
  const taskQueue = `leak-${randomUUID()}`;
  const health = `127.0.0.1:${await freePort()}`;
  const metrics = `127.0.0.1:${await freePort()}`;
  const codecKeys: Record<string, string> = encrypt ? { CCS_CODEC_KEYS: `leak:${randomBytes(32).toString('base64')}` } : {};
  const proc: WorkerProcess = await spawnWorkerProcess({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    CCS_BASE_URL: sim.baseUrl,
    CCS_USERNAME: USER,
    CCS_PASSWORD: PASSWORD,
    CCS_CA_FILE: join(dir, 'ca.pem'),
    HEALTH_BIND_ADDRESS: health,
    METRICS_BIND_ADDRESS: metrics,
    LOG_LEVEL: 'DEBUG',
    ...codecKeys,
  });
  children.add(proc.child);
  const cliEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), ...codecKeys };
  const seen: Seen[] = [];
  const ids: string[] = [];
  const cli = async (what: string, args: string[]) => {
    const out = await ccsJobs([...args, '--task-queue', taskQueue], cliEnv);
    seen.push({ what: `ccs-jobs ${what}`, text: out.text });
    return out;
  };
  const run = async (what: string, jobId: string, succeeds: boolean) => {
    const id = `leak-${what}-${randomUUID()}`;
    ids.push(id);
    const out = await cli(`run (${what})`, ['run', jobId, '--wait', '--id', id, ...RUN]);
    expect(out.code === 0, out.text).toBe(succeeds);
    await cli(`status (${what})`, ['status', id]);
    await cli(`status --json (${what})`, ['status', id, '--json']);
    return id;
  };

  // Success through echoed 500s on half the status reads.
  sim.setFaults({ echoRequest: true, errorRate: 0.5, errorStatus: [500], endpoints: ['jobruns'] });
  await run(
    '500s',
    addJob(sim, [
      ['Executing', 3],
      ['Completed', 0],
    ]),
    true,
  );

  // Echoed 403s while the run is followed: it needs attention, then ends. What describe shows of the
  // retrying activity (its last failure) is read while it happens.
  sim.setFaults({ echoRequest: true, errorRate: 1, errorStatus: [403], endpoints: ['jobruns'], startInSeconds: 2, activeForSeconds: 4 });
  const attentionJob = addJob(sim, [
    ['Executing', 8],
    ['Completed', 0],
  ]);
  const attentionId = `leak-403-${randomUUID()}`;
  ids.push(attentionId);
  const following = cli('run (403)', ['run', attentionJob, '--wait', '--id', attentionId, ...RUN]);
  await eventually(
    () => {
      let described: string;
      try {
        described = temporal(['workflow', 'describe', '-w', attentionId, '-o', 'json']);
      } catch {
        return undefined; // not started yet
      }
      seen.push({ what: 'temporal workflow describe (403)', text: described });
      return described.includes('CcsForbidden') || described.includes('Encoded failure');
    },
    20_000,
    'the 403s to show in describe',
  );
  await cli('status (403, attention)', ['status', attentionId]);
  await cli('list --attention', ['list', '--attention']);
  expect((await following).code).toBe(0);

  // A faulted run whose exception quotes credentials, as a CCS job's error text might.
  sim.setFaults({ echoRequest: true });
  await run(
    'faulted',
    addJob(
      sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      {
        exception: `login as ${USER} with password=${PASSWORD} failed; Authorization: Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      },
    ),
    false,
  );

  // A 400 before the run: the echo quotes the bearer token.
  sim.setFaults({ echoRequest: true, errorRate: 1, errorStatus: [400], endpoints: ['execute'] });
  await run(
    '400',
    addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]),
    false,
  );

  // Refused grants: tokens revoked, then the refresh and the password grant are refused, each answer
  // quoting the form it was sent (refresh token, Base64 password).
  sim.setFaults({ echoRequest: true, refuseGrants: true });
  sim.revokeTokens();
  await run(
    'refused',
    addJob(sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]),
    false,
  );
  expect(sim.stats().token?.['400'] ?? 0).toBeGreaterThanOrEqual(1);

  const ready = await fetch(`http://${health}/readyz`);
  seen.push({ what: '/readyz', text: await ready.text() });
  seen.push({ what: '/metrics', text: await (await fetch(`http://${metrics}/metrics`)).text() });
  await cli('list --all --json', ['list', '--all', '--json']);
  for (const id of ids) {
    seen.push({ what: `temporal workflow show ${id}`, text: temporal(['workflow', 'show', '-w', id, '-o', 'json']) });
    seen.push({ what: `temporal workflow describe ${id}`, text: temporal(['workflow', 'describe', '-w', id, '-o', 'json']) });
  }
  proc.child.kill('SIGTERM');
  await proc.exited;
  seen.push({ what: 'worker output', text: proc.output() });
  return seen;
}

function leaks(seen: Seen[]): string[] {
  const secrets = [PASSWORD, ...sim.issuedTokens()].flatMap(forms);
  expect(sim.issuedTokens().length).toBeGreaterThanOrEqual(2);
  return seen.flatMap(({ what, text }) => secrets.filter((s) => text.includes(s)).map((s) => `${what} holds ${s.slice(0, 6)}…`));
}

describe('secrets never leave, whatever CCS echoes', () => {
  it('without payload encryption: 0 hits in history, describe, logs, CLI, /readyz, /metrics', async () => {
    const seen = await scenarios(false);
    expect(leaks(seen)).toEqual([]);
    // The echoes did happen, and what they said is still there, scrubbed: the test would see a leak.
    const all = seen.map((s) => s.text).join('\n');
    expect(all).toContain('[redacted]');
    expect(all).toMatch(/CcsBadRequest/);
    expect(all).toMatch(/CcsAuthenticationFailed/);
    expect(seen.find((s) => s.what === '/readyz')?.text).toMatch(/CcsAuthenticationFailed/);
  }, 180_000);

  it('with CCS_CODEC_KEYS: 0 hits, and failure messages are encrypted in history', async () => {
    const seen = await scenarios(true);
    expect(leaks(seen)).toEqual([]);
    const shows = seen
      .filter((s) => s.what.startsWith('temporal workflow show'))
      .map((s) => s.text)
      .join('\n');
    expect(shows).toContain('Encoded failure');
    expect(shows).not.toContain('[redacted]'); // nothing of CCS's words is readable without the key
    // The CLI decodes them with the key.
    expect(
      seen
        .filter((s) => s.what.startsWith('ccs-jobs run'))
        .map((s) => s.text)
        .join('\n'),
    ).toMatch(/CcsBadRequest: .*rejected \(400\)/);
  }, 180_000);
});
