/**
 * The invariant, through real workflows: once CCS has a run, only its end (or our own abort) closes
 * the workflow. Rotated credentials, 403s, unreadable answers make it flagged for attention and
 * retried; a day-long Retry-After cannot hold a cancel or a deadline while the job is being started.
 */
import { describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { cancelSignal, statusQuery } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import {
  SIM_USER,
  activityInFlight,
  addJob,
  eventually,
  failureOf,
  recordHistory,
  searchAttributeHistory,
  startRun,
  startSim,
  startWorker,
} from '../helpers';

const FAST = { pollInterval: '1s', maxPollInterval: '2s' };

/** The ccs-jobs CLI in this process; its standard output. */
async function ccsJobs(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await main(
    args,
    { TEMPORAL_ADDRESS: inject('temporalAddress') },
    { write: (t) => void (out += t), isTTY: false },
    (t) => void (err += t),
  );
  if (code !== 0) throw new Error(`ccs-jobs ${args.join(' ')} exited ${code}: ${err}`);
  return out;
}

async function rig(ccsOptions: Parameters<typeof startWorker>[1] = {}) {
  const sim = await startSim();
  const w = await startWorker(sim, ccsOptions);
  return { sim, w, stop: async () => (await w.stop(), await sim.close()) };
}

describe('a followed run needing attention', () => {
  it('rotated password: grants refused, the run is flagged and still followed; the password file is rewritten and it ends with its true status', async () => {
    let passwordFile = SIM_USER.password;
    const { sim, w, stop } = await rig({ password: () => passwordFile, refusalBackoffMs: 2_000 });
    try {
      const jobId = addJob(sim, [
        ['Executing', 6],
        ['Completed', 0],
      ]);
      const handle = await startRun(w, { jobId, ...FAST });
      await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
      // The service account's password is changed in AD: every grant is refused, the current token dropped.
      sim.setUser(SIM_USER.username, { password: 'rotated-Passw0rd', role: 'operator' });
      sim.revokeTokens();
      const flagged = await eventually(async () => (await handle.query(statusQuery)).attention, 20_000, 'the run to be flagged');
      expect(flagged.type).toBe(ErrorType.AuthenticationFailed);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // The run ends in CCS meanwhile (nobody can see it), and the 2 s and 4 s back-off windows pass:
      // a third refused grant. Polls every 1-2 s meanwhile are held back, not sent.
      const [ccsRun] = sim.state.runsOf(jobId);
      await eventually(
        () => sim.state.view(ccsRun!).endedAt !== null && (sim.stats().token?.['400'] ?? 0) >= 3 && w.ccs.tokenStats.grantsHeldBack > 0,
        30_000,
        'the run to end in CCS and a grant after each back-off window',
      );
      // One password grant per back-off window (2 s, then 4 s, then 8 s), not one per poll, and the
      // refresh token CCS refused once is not sent again: a grant per poll would be past 4 by the run's end.
      const refused = sim.stats().token?.['400'] ?? 0;
      expect(refused).toBeLessThanOrEqual(4);
      expect(w.ccs.tokenStats.grantsHeldBack).toBeGreaterThan(0);
      passwordFile = 'rotated-Passw0rd'; // the operator rewrites the password file
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(sim.state.runsOf(jobId)).toHaveLength(1);
      expect(await searchAttributeHistory(handle, 'CcsAttention')).toEqual([ErrorType.AuthenticationFailed, null]); // set, then cleared
      const messages = JSON.stringify(await handle.fetchHistory());
      expect(messages).not.toContain('rotated-Passw0rd');
    } finally {
      await stop();
    }
  }, 90_000);

  it('403 on jobruns for a while: flagged CcsForbidden, cleared when it passes, then Completed', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [
        ['Executing', 5],
        ['Completed', 0],
      ]);
      const handle = await startRun(w, { jobId, ...FAST });
      await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
      sim.setFaults({ errorRate: 1, errorStatus: [403], endpoints: ['jobruns'], activeForSeconds: 5 });
      const flagged = await eventually(async () => (await handle.query(statusQuery)).attention, 20_000, 'the run to be flagged');
      expect(flagged).toMatchObject({ type: ErrorType.Forbidden });
      const listed = await w.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND CcsAttention IS NOT NULL`);
      expect(listed.count).toBe(1);
      // What an operator sees: ccs-jobs list --attention and status.
      const attentionList = await eventually(
        async () => {
          const out = await ccsJobs(['list', '--attention', '--job', jobId]);
          return out.includes(handle.workflowId) ? out : undefined;
        },
        20_000,
        'list --attention to show the run',
      );
      expect(attentionList).toMatch(
        new RegExp(`${handle.workflowId}\\s+${jobId}\\s+[0-9a-f-]{36}\\s+Executing\\s+CcsForbidden\\s+RUNNING`),
      );
      expect(await ccsJobs(['status', handle.workflowId])).toMatch(
        /needs attention since \S+: CcsForbidden: GET \/Jobs\/.*forbidden \(403\)/,
      );
      expect((await handle.result()).status).toBe('Completed');
      expect((await handle.query(statusQuery)).attention).toBeUndefined();
      await recordHistory(handle, 'attention-forbidden-then-completed');
    } finally {
      await stop();
    }
  }, 60_000);

  it('a cancel while the run needs attention still aborts it, and waits for CCS to confirm', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [['Executing', 3600]]);
      const handle = await startRun(w, { jobId, ...FAST });
      await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
      sim.setFaults({ errorRate: 1, errorStatus: [404], endpoints: ['jobruns'], activeForSeconds: 6 });
      await eventually(async () => (await handle.query(statusQuery)).attention, 20_000, 'the run to be flagged');
      await handle.signal(cancelSignal, { reason: 'maintenance' });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'Aborted', cancelled: { by: 'signal', reason: 'maintenance' } });
      expect(sim.state.runsOf(jobId)[0]?.abortRequests).toBe(1);
      await recordHistory(handle, 'attention-then-cancelled');
    } finally {
      await stop();
    }
  }, 60_000);

  it('a 3 MB activity status list: the run completes and the result is cut, saying what was dropped', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [
        ['Executing', 2],
        ['Completed', 0],
      ]);
      sim.setFaults({ activityStatusBytes: 3 * 1024 * 1024, endpoints: ['jobruns', 'execute'] });
      const handle = await startRun(w, { jobId, ...FAST });
      const result = await handle.result();
      expect(result.status).toBe('Completed');
      expect(result.activities).toHaveLength(20);
      expect(result.omitted?.activities).toBeGreaterThan(3000);
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(256 * 1024);
    } finally {
      await stop();
    }
  }, 60_000);
});

describe('while the job is being started', () => {
  it('a 429 with Retry-After of a day on execute: a cancel ends the workflow at once, and no run is started', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]);
      sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 86_400, endpoints: ['execute'] });
      const handle = await startRun(w, { jobId, ...FAST });
      await eventually(() => (sim.stats().execute?.['429'] ?? 0) >= 1, 20_000, 'the execute to be rate limited');
      expect((await handle.query(statusQuery)).phase).toBe('starting');
      const cancelledAt = Date.now();
      await handle.signal(cancelSignal, { reason: 'called off' });
      const failure = await failureOf(handle.result());
      expect(Date.now() - cancelledAt).toBeLessThan(10_000);
      expect(failure.type).toBe(ErrorType.JobAborted);
      expect(failure.message).toContain('no run was started');
      expect(sim.state.runsOf(jobId)).toHaveLength(0);
      await recordHistory(handle, 'cancel-while-execute-rate-limited');
    } finally {
      await stop();
    }
  }, 60_000);

  it('the same with a deadline: CcsJobTimedOut when the timeout passes, whatever Retry-After said', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]);
      sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 86_400, endpoints: ['execute'] });
      const started = Date.now();
      const handle = await startRun(w, { jobId, ...FAST, timeout: '4s' });
      const failure = await failureOf(handle.result());
      expect(failure.type).toBe(ErrorType.JobTimedOut);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(sim.state.runsOf(jobId)).toHaveLength(0);
    } finally {
      await stop();
    }
  }, 60_000);

  it('a cancel while an execute is in flight waits for its answer and aborts the run it started', async () => {
    const { sim, w, stop } = await rig();
    try {
      const jobId = addJob(sim, [
        ['Executing', 60],
        ['Completed', 0],
      ]);
      sim.setFaults({ latencyMs: 3_000, endpoints: ['execute'] });
      const handle = await startRun(w, { jobId, ...FAST });
      await eventually(
        async () => (await handle.query(statusQuery)).phase === 'starting' && (await activityInFlight(handle, 'executeJob')),
        20_000,
        'the execute to be in flight',
      );
      await handle.signal(cancelSignal, { reason: 'called off' });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'Aborted', cancelled: { by: 'signal' } });
      expect(sim.state.runsOf(jobId)).toHaveLength(1);
      expect(sim.state.runsOf(jobId)[0]?.abortRequests).toBe(1);
      await recordHistory(handle, 'cancel-while-execute-in-flight');
    } finally {
      await stop();
    }
  }, 60_000);
});

describe('a CCS slower to answer than a call activity’s heartbeat timeout (10 s)', () => {
  it('12 s per answer: the first look and the abort each succeed on their first attempt, and the run ends Aborted', async () => {
    const { sim, w, stop } = await rig({ requestTimeoutMs: 20_000, headersTimeoutMs: 20_000 });
    try {
      const jobId = addJob(sim, [['Executing', 3600]]);
      sim.setFaults({ latencyMs: 12_000, endpoints: ['jobruns'] });
      const handle = await startRun(w, { jobId, ...FAST });
      // The look before the execute waits 12 s for its answer; then the execute starts the run.
      await eventually(() => sim.state.runsOf(jobId).length === 1, 40_000, 'the run to be started');
      sim.setFaults({ latencyMs: 12_000, endpoints: ['abort'] });
      await eventually(async () => (await handle.query(statusQuery)).phase === 'running', 20_000, 'the run to be followed');
      await handle.signal(cancelSignal, { reason: 'slow CCS' });
      expect(await handle.result()).toMatchObject({ status: 'Aborted', cancelled: { by: 'signal', reason: 'slow CCS' } });
      expect(sim.state.runsOf(jobId)[0]?.abortRequests).toBe(1);
      // Every attempt of the two calls, as history records it: one each, neither timed out.
      const events = (await handle.fetchHistory()).events ?? [];
      const typeOf = new Map(events.map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name]));
      const attempts = events
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => [
          typeOf.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)),
          e.activityTaskStartedEventAttributes!.attempt,
        ]);
      expect(attempts.filter(([type]) => type === 'listJobRuns' || type === 'abortJobRun')).toEqual([
        ['listJobRuns', 1],
        ['abortJobRun', 1],
      ]);
      expect(events.filter((e) => e.activityTaskTimedOutEventAttributes)).toEqual([]);
    } finally {
      await stop();
    }
  }, 90_000);
});
