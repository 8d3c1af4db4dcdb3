/**
 * Live CCS messages (issue 18, part 3): messages a run emits while it goes show in `status` and under
 * `ccs-jobs run --wait`'s progress line before the run ends; 10,000 of them leave the workflow's
 * state bounded.
 */
import { describe, expect, inject, it } from 'vitest';
import { statusQuery } from '../../src/domain/contract';
import { addJob, eventually, recordHistory, runCli, simAndWorker, startRun } from '../helpers';

const rig = simAndWorker();

describe('live messages', () => {
  it('messages emitted over time appear in status while the run executes; messagesSince returns only newer ones', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 8],
        ['Completed', 0],
      ],
      {
        messages: [
          { Message: 'Collecting from lnx-01', AtSeconds: 1 },
          { Message: 'Unable to connect to host lnx-07', AtSeconds: 3 },
          { Message: 'Authentication failed on host lnx-19', AtSeconds: 5 },
        ],
      },
    );
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', liveMessagesEvery: 1 });
    const early = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return (s.messageCount ?? 0) >= 2 && s.phase === 'running' ? s : undefined;
    });
    expect(early.status).toBe('Executing');
    expect(early.messages?.map((m) => [m.seq, m.text]).slice(0, 2)).toEqual([
      [1, 'Collecting from lnx-01'],
      [2, 'Unable to connect to host lnx-07'],
    ]);
    const newer = await handle.query(statusQuery, { messagesSince: 1 });
    expect(newer.messages?.every((m) => m.seq > 1)).toBe(true);
    const result = await handle.result();
    await recordHistory(handle, 'live-messages');
    expect(result.status).toBe('Completed');
    expect(result.messages.map((m) => m.text)).toEqual([
      'Collecting from lnx-01',
      'Unable to connect to host lnx-07',
      'Authentication failed on host lnx-19',
    ]);
  });

  it('ccs-jobs run --wait prints new messages under the progress line as they arrive', async () => {
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 7],
        ['Completed', 0],
      ],
      {
        messages: [
          { Message: 'First host done', AtSeconds: 1 },
          { Message: 'Second host done', AtSeconds: 4 },
        ],
      },
    );
    const r = await runCli(['run', jobId, '--wait', '--poll', '1s'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: rig.w.taskQueue,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const firstLive = lines.findIndex((l) => /^ {2}message \S+ First host done$/.test(l));
    const final = lines.findIndex((l) => l.startsWith('Completed: job'));
    expect(firstLive).toBeGreaterThan(-1);
    // Printed while the run went on: after a progress line of the running run and before the result
    // (the result's own message lines follow "Completed: job").
    expect(firstLive).toBeLessThan(final);
    expect(lines.slice(0, firstLive).some((l) => /^\[\d+s\] running · Executing/.test(l))).toBe(true);
  });

  it('a run with 10,000 messages leaves the workflow state bounded: 50 kept, the count exact', { timeout: 90_000 }, async () => {
    // All 10,000 within 5 s; the run goes on long enough to be seen with all of them while it executes.
    const jobId = addJob(
      rig.sim,
      [
        ['Executing', 25],
        ['Completed', 0],
      ],
      { messageStream: { count: 10_000, everySeconds: 0.0005, text: 'Check failed on asset' } },
    );
    const handle = await startRun(rig.w, { jobId, pollInterval: '1s', liveMessagesEvery: 2 });
    const full = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.messageCount === 10_000 && s.phase === 'running' ? s : undefined;
    }, 40_000);
    expect(full.messages).toHaveLength(50);
    expect(full.messages?.at(-1)).toMatchObject({ seq: 10_000, text: 'Check failed on asset #10000' });
    expect(JSON.stringify(full).length).toBeLessThan(16_384);
    const result = await handle.result();
    expect(result.messages).toHaveLength(100);
    expect(result.omitted?.messages).toBe(9_900);
    const history = await handle.fetchHistory();
    const bytes = JSON.stringify(history).length;
    expect(bytes).toBeLessThan(512 * 1024);
  });
});
