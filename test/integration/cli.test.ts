/**
 * `ccs-jobs` spawned as a user would run it (a real process, the real dev server, the simulator),
 * with a worker on this file's own task queue.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { EvidenceContent } from '../../src/domain/evidence';
import { JsonlEvidenceSink } from '../../src/evidence/jsonl-sink';
import { addJob, eventually, runCli, simAndWorker, type CliRun } from '../helpers';
import { tempDir } from '../temp-dir';

const rig = simAndWorker();
const dir = tempDir('ccs-cli-');

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: rig.w.taskQueue, ...env });
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('ccs-jobs run --wait', () => {
  it('Completed: live progress as plain lines, the result, exit 0', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Pending', 1],
        ['Executing', 2],
        ['Completed', 0],
      ],
      { summary: 'Collected 12 of 12 assets' },
    );
    const r = await cli(['run', jobId, '--wait', '--poll', '1s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`started runCcsJob ccs-job-${jobId}`);
    expect(r.stdout).toMatch(/^\[\d+s\] running · (Pending|Executing) · polls \d+ · run [0-9a-f-]{36}$/m);
    expect(r.stdout).toContain(`Completed: job ${jobId} run ${rig.sim.state.runsOf(jobId)[0]?.JobRunID}`);
    expect(r.stdout).toContain('summary: Collected 12 of 12 assets');
    // The evidence names the account that ran the CLI (Temporal's record of the start call).
    const record = await eventually(async () => {
      for await (const e of new JsonlEvidenceSink<EvidenceContent>(rig.w.evidence).records())
        if (e?.workflowId === `ccs-job-${jobId}`) return e;
      return undefined;
    });
    expect(record.startedBy).toEqual({ identity: `ccs-jobs:${userInfo().username}@${hostname()}` });
  });

  it('Faulted: the CCS exception and messages, exit 2', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'Collection failed on 2 assets', messages: [{ Message: 'lnx-07 unreachable' }] },
    );
    const r = await cli(['run', jobId, '--wait', '--poll', '1s']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('CcsJobFaulted: ');
    expect(r.stdout).toContain('exception: Collection failed on 2 assets');
    expect(r.stdout).toMatch(/message .*lnx-07 unreachable/);
  });

  it('escape sequences and line breaks from CCS print as text: the title-setting OSC in a message, a forged line in the exception', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      {
        exception: 'scan stopped\nCompleted: job forged',
        customStatusText: '\u001b[2Jwiped',
        messages: [{ Message: '\u001b]0;pwned\u0007' }],
      },
    );
    const r = await cli(['run', jobId, '--wait', '--poll', '1s']);
    expect(r.code).toBe(2);
    // eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toMatch(/message .*\\u001b\]0;pwned\\u0007$/m);
    expect(r.stdout).toContain('exception: scan stopped\\u000aCompleted: job forged');
    expect(r.stdout).not.toMatch(/^Completed: job forged/m);
    // JSON output stays JSON, with the text as CCS sent it (JSON escapes it by itself).
    const status = await cli(['status', `ccs-job-${jobId}`, '--json']);
    expect(status.stdout).not.toContain('\u001b');
    expect(JSON.parse(status.stdout)).toMatchObject({ customStatusText: '\u001b[2Jwiped' });
  });

  it('a failure in an activity prints the root Ccs* type and message, not "Activity task failed"', async () => {
    const unknownJob = randomUUID(); // CCS answers 400: the job does not exist
    const r = await cli(['run', unknownJob, '--wait', '--poll', '1s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^CcsBadRequest: GET /Jobs/${unknownJob}/jobruns was rejected \\(400\\)`, 'm'));
    expect(r.stdout).not.toContain('Activity task failed');
  });

  it('aborted in CCS: exit 3; past --timeout: exit 4', async () => {
    const aborted = addJob(rig.sim, [['Executing', 600]]);
    const waiting = cli(['run', aborted, '--wait', '--poll', '1s']);
    const run = await eventually(() => rig.sim.state.runsOf(aborted)[0], 20_000, 'the run');
    await rig.w.ccs.abortJobRun(run.JobRunID);
    const r = await waiting;
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('CcsJobAborted: ');

    const slow = addJob(rig.sim, [['Executing', 600]]);
    const t = await cli(['run', slow, '--wait', '--poll', '1s', '--timeout', '2s', '--json']);
    expect(t.code).toBe(4);
    expect(JSON.parse(t.stdout)).toMatchObject({ error: { type: 'CcsJobTimedOut' }, details: { status: 'Aborted' } });
  });

  it('a second run of the same job attaches to the workflow instead of starting another CCS run', async () => {
    const jobId = addJob(rig.sim, [['Executing', 600]]);
    const first = await cli(['run', jobId, '--json']);
    expect(first.code).toBe(0);
    const started = JSON.parse(first.stdout) as { workflowId: string; runId: string; attached: boolean };
    expect(started).toMatchObject({ workflowId: `ccs-job-${jobId}`, attached: false });
    const second = await cli(['run', jobId]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`attached to the running runCcsJob ccs-job-${jobId} (run ${started.runId})`);
    await eventually(() => rig.sim.state.runsOf(jobId).length === 1, 10_000, 'the run');

    const status = await cli(['status', `ccs-job-${jobId}`, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ workflowId: `ccs-job-${jobId}`, workflow: 'RUNNING', jobId });
    const listed = await eventually(
      async () => {
        const l = await cli(['list', '--status', 'executing', '--job', jobId]);
        return l.stdout.includes(`ccs-job-${jobId}`) ? l : undefined;
      },
      20_000,
      'the list to show the workflow',
    );
    expect(listed.stdout).toMatch(/^WORKFLOW ID\s+JOB ID\s+JOB RUN ID\s+CCS STATUS\s+ATTENTION\s+WORKFLOW\s+AGE$/m);
    expect(listed.stdout).toMatch(new RegExp(`ccs-job-${jobId}\\s+${jobId}\\s+[0-9a-f-]{36}\\s+Executing\\s+-\\s+RUNNING`));

    const cancel = await cli(['cancel', `ccs-job-${jobId}`, '--reason', 'maintenance window']);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain('cancel requested');
    const result = (await rig.w.client.workflow.getHandle(`ccs-job-${jobId}`).result()) as {
      status: string;
      cancelled: { reason: string };
    };
    expect(result).toMatchObject({ status: 'Aborted', cancelled: { reason: 'maintenance window' } });
    expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
    expect(rig.sim.state.runsOf(jobId)[0]?.abortRequests).toBe(1);
    const after = await cli(['status', `ccs-job-${jobId}`]);
    expect(after.stdout).toMatch(/workflow COMPLETED\n.*finished · Aborted/);
  });
});

describe('ccs-jobs errors', () => {
  it.each([
    [['status', 'no-such-workflow'], /^ccs-jobs: no workflow with id "no-such-workflow" in namespace default; see ccs-jobs list --all\n$/],
    [['run', 'not-a-guid'], /^ccs-jobs: JobID must be a GUID like .* got "not-a-guid"\n$/],
    [['run', '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16', '--poll', 'sometimes'], /^ccs-jobs: --poll must be a duration such as "30s"/],
    [['run', '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16', '--timeout=-1h'], /^ccs-jobs: --timeout must be a duration/],
    [['pipeline', 'run', '/nonexistent/scan.yaml'], /^ccs-jobs: cannot read pipeline file \/nonexistent\/scan.yaml \(ENOENT\)\n$/],
    [
      ['schedule', 'create', 'x', '--cron', '61 * * * *', '--job', '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16'],
      /^ccs-jobs: --cron minute field "61" is not valid/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * *', '--job', '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16'],
      /^ccs-jobs: --cron must have 5 fields/,
    ],
    [
      ['schedule', 'create', 'x', '--cron', '0 2 * * *', '--job', '0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16', '--timezone', 'Mars/Olympus'],
      /^ccs-jobs: --timezone "Mars\/Olympus" is not an IANA time zone/,
    ],
    [['list', '--status', "x' OR 1=1"], /^ccs-jobs: --status must be a CCS status/],
    [['frobnicate'], /^ccs-jobs: unknown command "frobnicate"/],
    [['run', '--retries', '3'], /^ccs-jobs: Unknown option '--retries'/],
    [
      ['cancel', 'X', '--cron', '* * * * *'],
      /^ccs-jobs: cancel does not take --cron; its options: --reason \(see ccs-jobs cancel --help\)\n$/,
    ],
    [['schedule', 'trigger', 'nightly', '--note', 'now'], /^ccs-jobs: schedule trigger does not take --note/],
  ])('%j fails with one clear line and exit 1', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the address when Temporal is unreachable; stack traces only with --verbose', async () => {
    const r = await cli(['status', 'x'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ccs-jobs: cannot reach Temporal at 127\.0\.0\.1:1 \(.*\); start it or set TEMPORAL_ADDRESS \/ --address\n$/);
    const v = await cli(['status', 'x', '--verbose', '--address', '127.0.0.1:1']);
    expect(v.stderr).toMatch(/\n\s+at /);
  });

  it('--help on every command, with examples', async () => {
    for (const command of [
      'run',
      'status',
      'cancel',
      'pause',
      'resume',
      'maintenance',
      'reconcile',
      'evidence',
      'report',
      'list',
      'pipeline',
      'schedule',
      'ccs',
      'worker',
    ]) {
      const r = await cli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toContain(`ccs-jobs ${command}`);
      expect(r.stdout, command).toMatch(/Examples?:\n/);
    }
    const top = await cli(['--help']);
    expect(top.stdout).toContain(
      'Exit codes: 0 completed, 1 error, 2 faulted/failed, 3 aborted/cancelled, 4 timed out, 5 runs without an owner (reconcile).',
    );
  });
});

describe('ccs-jobs pipeline', () => {
  it('validate reports every problem with its path, then accepts a fixed file', async () => {
    const bad = file(
      'bad.yaml',
      'name: scan\nstages:\n  - name: collect\n    jobs: [not-a-guid]\n  - name: evaluate\n    jobs: []\n    retry: 3\n',
    );
    const r = await cli(['pipeline', 'validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ccs-jobs: pipeline file ${bad} has 3 problems:\n  stages[0].jobs[0]: must be a job GUID like 24f58e54-5d94-45f8-97a8-ccb6d959233a; got "not-a-guid"\n  stages[1].retry: unknown key; allowed: name, jobs, continueOnFailure, requireFresh\n  stages[1].jobs: required, a non-empty list of job GUIDs\n`,
    );
    const broken = file('broken.json', '{"name": "scan", "stages": [');
    expect((await cli(['pipeline', 'validate', broken])).stderr).toMatch(/^ccs-jobs: pipeline file .*broken\.json is not valid JSON: /);
    const good = file('good.yaml', `name: scan\nstages:\n  - name: collect\n    jobs: [${addJob(rig.sim, [['Completed', 0]])}]\n`);
    expect((await cli(['pipeline', 'validate', good])).stdout).toBe(`${good}: valid pipeline "scan" with 1 stage(s) and 1 job(s)\n`);
  });

  it('run --wait follows the stages and prints the report; a failed job makes exit 2', async () => {
    const collect = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const evaluate = addJob(
      rig.sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'no checks for 2 asset types' },
    );
    const path = file(
      'scan.json',
      JSON.stringify({
        name: 'cli scan',
        pollInterval: '1s',
        stages: [
          { name: 'collect', jobs: [collect] },
          { name: 'evaluate', jobs: [evaluate] },
        ],
      }),
    );
    const r = await cli(['pipeline', 'run', path, '--wait']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('started runCcsPipeline ccs-pipeline-cli-scan: 2 stage(s), 2 job(s)');
    expect(r.stdout).toMatch(/^\[\d+s\] stage 1\/2 collect: /m);
    expect(r.stdout).toContain('CcsPipelineFailed: pipeline cli scan failed');
    expect(r.stdout).toMatch(new RegExp(`${evaluate}\\s+failed · Faulted · run [0-9a-f-]{36}`));
    expect(r.stdout).toContain('no checks for 2 asset types');
  });
});

describe('ccs-jobs schedule', () => {
  it('create, list, describe, trigger, pause, unpause, delete', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const name = `cli-sched-${Date.now()}`;
    const created = await cli([
      'schedule',
      'create',
      name,
      '--cron',
      '0 2 * * *',
      '--timezone',
      'Europe/Paris',
      '--job',
      jobId,
      '--poll',
      '1s',
    ]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe(`created schedule ${name}: runCcsJob ${jobId} at "0 2 * * *" Europe/Paris, overlap skip\n`);
    const again = await cli(['schedule', 'create', name, '--cron', '0 2 * * *', '--job', jobId]);
    expect(again.stderr).toBe(`ccs-jobs: a schedule named "${name}" already exists; delete it first or pick another name\n`);

    const listed = await eventually(
      async () => {
        const l = await cli(['schedule', 'list']);
        return l.stdout.includes(name) ? l : undefined;
      },
      20_000,
      'the schedule in the list',
    );
    expect(listed.stdout).toMatch(new RegExp(`${name}\\s+job ${jobId}\\s+0 2 \\* \\* \\*\\s+active\\s+\\d{4}-`));
    const described = JSON.parse((await cli(['schedule', 'describe', name, '--json'])).stdout) as Record<string, unknown>;
    expect(described).toMatchObject({ cron: '0 2 * * *', timezone: 'Europe/Paris', paused: false, overlap: 'SKIP' });

    expect((await cli(['schedule', 'trigger', name])).stdout).toBe(`triggered schedule ${name} now\n`);
    await eventually(() => rig.sim.state.runsOf(jobId).length === 1, 20_000, 'the triggered run');

    expect((await cli(['schedule', 'pause', name, '--note', 'change freeze'])).stdout).toBe(`paused schedule ${name}\n`);
    const paused = JSON.parse((await cli(['schedule', 'describe', name, '--json'])).stdout) as Record<string, unknown>;
    expect(paused).toMatchObject({ paused: true, note: 'change freeze' });
    expect((await cli(['schedule', 'unpause', name])).stdout).toBe(`unpaused schedule ${name}\n`);
    expect((await cli(['schedule', 'delete', name])).stdout).toBe(`deleted schedule ${name}\n`);
    const gone = await cli(['schedule', 'describe', name]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`ccs-jobs: no schedule named "${name}"; see ccs-jobs schedule list\n`);
  });

  it('create --pipeline: a trigger starts the pipeline from the file, which runs its jobs', async () => {
    const collect = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const evaluate = addJob(rig.sim, [
      ['Executing', 1],
      ['Completed', 0],
    ]);
    const path = file(
      'scheduled.yaml',
      `name: scheduled scan\npollInterval: 1s\nstages:\n  - name: collect\n    jobs: [${collect}]\n  - name: evaluate\n    jobs: [${evaluate}]\n`,
    );
    const name = `cli-sched-pipeline-${Date.now()}`;
    const created = await cli(['schedule', 'create', name, '--cron', '0 3 * * *', '--pipeline', path]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe(`created schedule ${name}: runCcsPipeline pipeline ${path} at "0 3 * * *" UTC, overlap skip\n`);
    try {
      expect((await cli(['schedule', 'trigger', name])).stdout).toBe(`triggered schedule ${name} now\n`);
      const schedule = rig.w.client.schedule.getHandle(name);
      const started = await eventually(
        async () => (await schedule.describe()).info.recentActions[0]?.action.workflow,
        20_000,
        'the triggered start',
      );
      const pipeline = rig.w.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
      expect((await pipeline.describe()).type).toBe('runCcsPipeline');
      expect(await pipeline.result()).toMatchObject({
        name: 'scheduled scan',
        status: 'Completed',
        stages: [
          { name: 'collect', state: 'completed' },
          { name: 'evaluate', state: 'completed' },
        ],
      });
      expect(rig.sim.state.runsOf(collect)).toHaveLength(1);
      expect(rig.sim.state.runsOf(evaluate)).toHaveLength(1);
    } finally {
      await cli(['schedule', 'delete', name]);
    }
  });

  it('a second trigger while the scheduled run goes is skipped (overlap skip): one workflow, one CCS run', async () => {
    const jobId = addJob(rig.sim, [
      ['Executing', 30],
      ['Completed', 0],
    ]);
    const name = `cli-sched-overlap-${Date.now()}`;
    expect((await cli(['schedule', 'create', name, '--cron', '0 4 * * *', '--job', jobId, '--poll', '1s'])).code).toBe(0);
    const schedule = rig.w.client.schedule.getHandle(name);
    try {
      expect((await cli(['schedule', 'trigger', name])).code).toBe(0);
      await eventually(() => rig.sim.state.runsOf(jobId).length === 1, 20_000, 'the first triggered run executing in CCS');
      expect((await cli(['schedule', 'trigger', name])).stdout).toBe(`triggered schedule ${name} now\n`);
      const described = await eventually(
        async () => {
          const d = await schedule.describe();
          return d.info.numActionsSkippedOverlap > 0 || d.info.recentActions.length > 1 ? d : undefined;
        },
        20_000,
        'the second trigger to be skipped or taken',
      );
      expect(described.info.numActionsSkippedOverlap).toBe(1);
      expect(described.info.recentActions).toHaveLength(1);
      expect(rig.sim.state.runsOf(jobId)).toHaveLength(1);
      expect(rig.sim.state.runsOf(jobId)[0]?.executeRequests).toBe(1);
    } finally {
      const started = (await schedule.describe().catch(() => undefined))?.info.recentActions ?? [];
      await cli(['schedule', 'delete', name]);
      for (const a of started)
        await rig.w.client.workflow
          .getHandle(a.action.workflow.workflowId)
          .terminate('test over')
          .catch(() => undefined);
    }
  });
});
