/**
 * One table of malformed inputs across every door into the orchestrator: workflow inputs, CLI
 * arguments, pipeline files, configuration, and what CCS answers. Each must give a clear one-line
 * error (or a typed client error), never a crash, and send nothing to CCS that it should not.
 * (Workflow inputs are also run through real workflows in run-ccs-job-input.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcsClient } from '../../src/ccs/client';
import { main } from '../../src/cli/main';
import { loadPipelineFile } from '../../src/cli/pipeline-file';
import { ConfigError, loadConfig } from '../../src/hosting/config';
import { validateRunCcsJobInput } from '../../src/domain/job-workflow';
import { tempDir } from '../temp-dir';

const JOB = '24f58e54-5d94-45f8-97a8-ccb6d959233a';
const RUN = '4f7415b1-303d-42cd-8b61-485485a1cb9c';
const dir = tempDir('bad-input-');

/** A fake CCS whose answers each row chooses; counts what reached it. */
let reply: { status: number; type?: string; body: string } = { status: 200, body: '[]' };
let reached = 0;
let ccs: http.Server;
let baseUrl = '';
beforeAll(async () => {
  ccs = http.createServer((req, res) => {
    reached++;
    req.resume();
    if (req.url?.endsWith('/oauth/tokens')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ access_token: 'tok', refresh_token: 'ref', expires_in: 3600 }));
    }
    res.writeHead(reply.status, { 'content-type': reply.type ?? 'application/json' });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => ccs.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(ccs.address() as AddressInfo).port}/ccs/api/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => ccs.close(resolve));
});

async function messageOf(fn: () => unknown): Promise<string> {
  try {
    const value = await fn();
    if (typeof value === 'string') return value; // the CLI's exit code and stderr
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join(' | ');
    const e = err as { type?: string; message: string };
    return e.type ? `${e.type}: ${e.message}` : e.message;
  }
  return '(no error)';
}

async function cli(...argv: string[]): Promise<string> {
  let err = '';
  const code = await main(argv, { TEMPORAL_ADDRESS: '127.0.0.1:1' }, { write: () => undefined, isTTY: false }, (t) => (err += t));
  return `${code} ${err.trim()}`;
}

function ccsAnswers(status: number, body: string, type?: string): (call: (c: CcsClient) => Promise<unknown>) => () => Promise<unknown> {
  return (call) => async () => {
    reply = { status, body, ...(type ? { type } : {}) };
    const client = new CcsClient({ baseUrl, username: 'u', password: 'p', allowPlaintext: true, warn: () => undefined });
    try {
      return await call(client);
    } finally {
      await client.close();
    }
  };
}

const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const BASE_ENV = { CCS_BASE_URL: 'https://ccs:12431/ccs/api/v1', CCS_USERNAME: 'u', CCS_PASSWORD: 'p' };
const execute = (c: CcsClient): Promise<unknown> => c.executeJob(JOB);
const runs = (c: CcsClient): Promise<unknown> => c.getJobRuns(JOB);

// [area, what, action, expected message]
const TABLE: [string, string, () => unknown, RegExp][] = [
  ['workflow input', 'jobId with braces', () => validateRunCcsJobInput({ jobId: `{${JOB}}` }), /^CcsInvalidInput: jobId must be a GUID/],
  [
    'workflow input',
    'jobId of 1 MB',
    () => validateRunCcsJobInput({ jobId: 'a'.repeat(1 << 20) }),
    /^CcsInvalidInput: input holds a text of 1048576 characters \(at most 4096\)$/,
  ],
  ['workflow input', 'jobId as an array', () => validateRunCcsJobInput({ jobId: [JOB] }), /^CcsInvalidInput: jobId must be a GUID/],
  [
    'workflow input',
    'pollInterval "30 seconds"',
    () => validateRunCcsJobInput({ jobId: JOB, pollInterval: '30 seconds' }),
    /^CcsInvalidInput: pollInterval must be a duration/,
  ],
  [
    'workflow input',
    'timeout Infinity',
    () => validateRunCcsJobInput({ jobId: JOB, timeout: Infinity }),
    /^CcsInvalidInput: timeout must be a duration/,
  ],
  [
    'workflow input',
    'ifRunning true',
    () => validateRunCcsJobInput({ jobId: JOB, ifRunning: true }),
    /^CcsInvalidInput: ifRunning must be "fail" or "attach"/,
  ],
  [
    'workflow input',
    'an extra field',
    () => validateRunCcsJobInput({ jobId: JOB, priority: 'high' }),
    /^CcsInvalidInput: unknown field "priority"/,
  ],
  ['workflow input', 'a number instead of an object', () => validateRunCcsJobInput(42), /^CcsInvalidInput: input must be an object/],
  [
    'workflow input',
    'a ccs server name with a space',
    () => validateRunCcsJobInput({ jobId: JOB, ccs: 'emea west' }),
    /^CcsInvalidInput: ccs must name a configured CCS server .*got "emea west"$/,
  ],
  [
    'CLI',
    'run with --ccs naming no server',
    () => cli('run', JOB, '--ccs', '../etc'),
    /^1 ccs-jobs: --ccs must name a configured CCS server/,
  ],
  [
    'CLI',
    'run without a JobID',
    () => cli('run'),
    /^1 ccs-jobs: name the CCS job: ccs-jobs run <JobID> or ccs-jobs run --name "<JobName>"$/,
  ],
  ['CLI', 'run with a bad --max-poll', () => cli('run', JOB, '--max-poll', 'forever'), /^1 ccs-jobs: --max-poll must be a duration/],
  [
    'CLI',
    'run with --if-running maybe',
    () => cli('run', JOB, '--if-running', 'maybe'),
    /^1 ccs-jobs: --if-running must be "fail" or "attach"/,
  ],
  ['CLI', 'list with a bad --job', () => cli('list', '--job', 'nope'), /^1 ccs-jobs: --job must be a GUID/],
  ['CLI', 'schedule without --cron', () => cli('schedule', 'create', 'n', '--job', JOB), /^1 ccs-jobs: --cron is required/],
  [
    'CLI',
    'schedule with both --job and --pipeline',
    () => cli('schedule', 'create', 'n', '--cron', '0 2 * * *', '--job', JOB, '--pipeline', 'x.yaml'),
    /^1 ccs-jobs: give exactly one of --job <JobID> and --pipeline <file>$/,
  ],
  [
    'CLI',
    'schedule with a bad --overlap',
    () => cli('schedule', 'create', 'n', '--cron', '0 2 * * *', '--job', JOB, '--overlap', 'queue'),
    /^1 ccs-jobs: --overlap must be skip, buffer-one or allow/,
  ],
  [
    'CLI',
    'schedule name with spaces',
    () => cli('schedule', 'create', 'nightly scan', '--cron', '0 2 * * *', '--job', JOB),
    /^1 ccs-jobs: schedule name must be/,
  ],
  ['CLI', 'a flag without its value', () => cli('run', JOB, '--poll'), /^1 ccs-jobs: Option '--poll <value>' argument missing/],
  [
    'pipeline file',
    'not YAML',
    () => loadPipelineFile(file('bad.yaml', 'name: [unclosed\n')),
    /^pipeline file .*bad\.yaml is not valid YAML: /,
  ],
  [
    'pipeline file',
    'a YAML list instead of a pipeline',
    () => loadPipelineFile(file('list.yaml', '- a\n- b\n')),
    /^pipeline file .* has 1 problem:\n {2}\(top\): a pipeline must be an object/,
  ],
  [
    'pipeline file',
    'stages as a string',
    () => loadPipelineFile(file('s.yaml', 'name: x\nstages: collect\n')),
    /stages: required, a non-empty list of stages/,
  ],
  [
    'pipeline file',
    'a stage without jobs',
    () => loadPipelineFile(file('e.json', JSON.stringify({ name: 'x', stages: [{ name: 'a' }] }))),
    /stages\[0\]\.jobs: required/,
  ],
  [
    'pipeline file',
    'a job timeout below a second',
    () => loadPipelineFile(file('t.json', JSON.stringify({ name: 'x', stages: [{ name: 'a', jobs: [{ jobId: JOB, timeout: '10ms' }] }] }))),
    /stages\[0\]\.jobs\[0\]\.timeout: must be at least 1000 ms/,
  ],
  [
    'pipeline file',
    'a job ccs that is not a server name',
    () => loadPipelineFile(file('c.json', JSON.stringify({ name: 'x', ccs: 7, stages: [{ name: 'a', jobs: [{ jobId: JOB, ccs: '' }] }] }))),
    /ccs: must name a configured CCS server.*got 7\n.*stages\[0\]\.jobs\[0\]\.ccs: must name/,
  ],
  ['pipeline file', 'an empty file', () => loadPipelineFile(file('empty.yaml', '')), /\(top\): a pipeline must be an object.*got null/],
  [
    'configuration',
    'nothing set',
    () => loadConfig({}),
    /^CCS_BASE_URL is required.* \| CCS_USERNAME is required.* \| CCS_PASSWORD or CCS_PASSWORD_FILE is required$/,
  ],
  [
    'configuration',
    'a base URL without scheme',
    () => loadConfig({ ...BASE_ENV, CCS_BASE_URL: 'ccs:12431' }),
    /CCS_BASE_URL must start with https:\/\/|CCS_BASE_URL is not a URL/,
  ],
  [
    'configuration',
    'a CA file that is not PEM',
    () => loadConfig({ ...BASE_ENV, CCS_CA_FILE: file('ca.txt', 'hello') }),
    /CCS_CA_FILE .* holds no PEM certificate/,
  ],
  [
    'configuration',
    'a servers file with an inline password',
    () =>
      loadConfig({
        CCS_SERVERS_FILE: file(
          'servers.yaml',
          'servers:\n  emea:\n    baseUrl: https://e.example/ccs/api/v1\n    username: svc\n    password: hunter2\n',
        ),
      }),
    /^CCS_SERVERS_FILE servers\.emea\.password: passwords are not accepted in the file; use passwordFile .* or passwordEnv/,
  ],
  [
    'configuration',
    'a worker limit of zero',
    () => loadConfig({ ...BASE_ENV, WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }),
    /^WORKER_MAX_CONCURRENT_ACTIVITIES must be a positive whole number; got "0"$/,
  ],
  [
    'configuration',
    'a codec key of the wrong size',
    () => loadConfig({ ...BASE_ENV, CCS_CODEC_KEYS: `k:${Buffer.alloc(8).toString('base64')}` }),
    /^CCS_CODEC_KEYS key k must decode to 32 bytes; got 8$/,
  ],
  [
    'configuration',
    'a codec key id that is not configured',
    () => loadConfig({ ...BASE_ENV, CCS_CODEC_KEYS: `k:${Buffer.alloc(32).toString('base64')}`, CCS_CODEC_KEY_ID: 'other' }),
    /^CCS_CODEC_KEY_ID other is not among CCS_CODEC_KEYS$/,
  ],
  [
    'CCS response',
    'an HTML error page with 200',
    ccsAnswers(200, '<html><body>Service temporarily unavailable</body></html>', 'text/html')(execute),
    /^CcsProtocolError: .* unreadable text\/html body .*Service temporarily unavailable/,
  ],
  ['CCS response', 'truncated JSON', ccsAnswers(200, '{"JobStatusInfo": {"JobRunID": "4f74')(execute), /^CcsProtocolError: /],
  [
    'CCS response',
    'XML instead of JSON',
    ccsAnswers(200, '<JobStatusInfo><JobRunID>x</JobRunID></JobStatusInfo>', 'application/xml')(execute),
    /^CcsProtocolError: .*application\/xml/,
  ],
  [
    'CCS response',
    'JSON with a wrong content type',
    ccsAnswers(200, JSON.stringify({ JobRunID: RUN, JobID: JOB, Status: 2 }), 'text/plain')(execute),
    /^\(no error\)$/,
  ],
  [
    'CCS response',
    'an execute answer without JobRunID',
    ccsAnswers(200, JSON.stringify({ JobID: JOB, Status: 2 }))(execute),
    /^CcsProtocolError: .*JobRunID missing/,
  ],
  [
    'CCS response',
    'an unknown status value',
    ccsAnswers(200, JSON.stringify([{ JobRunID: RUN, JobID: JOB, Status: 42 }]))(runs),
    /^\(no error\)$/,
  ],
  [
    'CCS response',
    'Status missing',
    ccsAnswers(200, JSON.stringify([{ JobRunID: RUN, JobID: JOB }]))(runs),
    /^CcsProtocolError: .*Status was undefined/,
  ],
  [
    'CCS response',
    'an object where a list belongs',
    ccsAnswers(200, JSON.stringify({ Message: 'ok' }))(runs),
    /^CcsProtocolError: .*list of job runs/,
  ],
  ['CCS response', 'an empty 200 body', ccsAnswers(200, '')(execute), /^CcsProtocolError: .*\(0 bytes\)/],
  [
    'CCS response',
    'a 500 with an HTML page',
    ccsAnswers(500, '<html><h1>Runtime Error</h1></html>', 'text/html')(execute),
    /^CcsServerError: .*\(500\): Runtime Error$/,
  ],
  [
    'CCS response',
    'a 400 with a .NET message',
    ccsAnswers(400, JSON.stringify({ Message: 'The request is invalid.' }))(execute),
    /^CcsBadRequest: .*The request is invalid\.$/,
  ],
  ['CCS response', 'a 418 nobody documented', ccsAnswers(418, 'teapot', 'text/plain')(runs), /^CcsBadRequest: .*\(418\): teapot$/],
];

describe('bad input, every door', () => {
  it('the table covers at least 30 cases in all five areas', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(30);
    expect(new Set(TABLE.map(([area]) => area))).toEqual(
      new Set(['workflow input', 'CLI', 'pipeline file', 'configuration', 'CCS response']),
    );
  });

  it.each(TABLE)('%s: %s', async (area, _what, action, expected) => {
    const before = reached;
    const message = await messageOf(action);
    expect(message).toMatch(expected);
    if (area !== 'pipeline file' && area !== 'configuration') expect(message.split('\n')).toHaveLength(1);
    if (area !== 'CCS response') expect(reached).toBe(before); // nothing sent to CCS
  });
});
