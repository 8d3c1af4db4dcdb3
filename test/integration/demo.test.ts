/**
 * `npm run demo` as the README tells a new user to run it: it exits 0 with the report; Ctrl-C stops
 * everything it started.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers';
import { tempDir } from '../temp-dir';

const ROOT = join(__dirname, '..', '..');
const EVIDENCE = tempDir('ccs-demo-evidence-');

function startDemo() {
  const child = spawn('npm', ['run', '--silent', 'demo'], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0', EVIDENCE_DIR: EVIDENCE },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, exited, output: () => output };
}

function listening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = connect(Number(port), host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run demo', () => {
  it('runs the demo scan pipeline, prints the report and exits 0', async () => {
    const demo = startDemo();
    const code = await demo.exited;
    const out = demo.output();
    expect(out).toMatch(/Temporal at 127\.0\.0\.1:\d+, UI at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('running pipeline "demo compliance scan": collect (1 job) → evaluate (2 jobs)');
    expect(out).toMatch(/^\[\d+s\] stage 2\/2 evaluate: /m);
    expect(out).toContain('pipeline demo compliance scan: CompletedWithFailures');
    expect(out).toMatch(/0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16\s+completed · Completed · run [0-9a-f-]{36}/);
    expect(out).toMatch(/24f58e54-5d94-45f8-97a8-ccb6d959233a\s+completed · Completed/);
    expect(out).toMatch(/a282d163-2248-4904-8135-0eaf08be8e55\s+failed · Faulted/);
    expect(out).toContain('CcsJobFaulted: ');
    expect(out).toContain('message');
    expect(out).toMatch(
      new RegExp(
        `^evidence: record \\d+ \\(sha256 [0-9a-f]{16}…\\) in ${EVIDENCE}; check it with: npx ccs-jobs evidence verify --dir ${EVIDENCE}$`,
        'm',
      ),
    );
    const report = /^report: (\S+\.html)$/m.exec(out)?.[1] ?? '';
    expect(report.startsWith(join(EVIDENCE, 'reports', 'demo-scan-'))).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('demo compliance scan');
    expect(code).toBe(0);
    const address = /Temporal at (\S+),/.exec(out)?.[1] ?? '';
    expect(await listening(address)).toBe(false);
  }, 180_000);

  it('Ctrl-C stops everything it started and exits', async () => {
    const demo = startDemo();
    await eventually(() => demo.output().includes('running pipeline'), 120_000, 'the demo to start its pipeline');
    const address = /Temporal at (\S+),/.exec(demo.output())?.[1] ?? '';
    expect(await listening(address)).toBe(true);
    process.kill(-demo.child.pid!, 'SIGINT'); // the whole process group, as a terminal's Ctrl-C does
    const code = await demo.exited;
    expect(demo.output()).toContain('stopping the worker, the simulator and the Temporal dev server...');
    expect(code).not.toBe(0); // npm reports the interrupt (the demo itself exits 130)
    expect(await listening(address)).toBe(false);
  }, 180_000);
});
