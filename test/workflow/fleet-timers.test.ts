/**
 * `ccsMaintenanceWindow` and `reconcileCcsRuns` on the time-skipping test server: the window's
 * sweep every minute and its end at `until`, its refusal when never configured, and the reconcile's
 * look-back measured from workflow time. The fleet activities are scripted.
 */
import { describe, expect, it } from 'vitest';
import { endMaintenanceSignal, maintenanceSignal, maintenanceStatusQuery } from '../../src/domain/contract';
import { ErrorType } from '../../src/domain/errors';
import type { SignalRunsInput } from '../../src/activities/fleet';
import type { ccsMaintenanceWindow, reconcileCcsRuns } from '../../src/workflows';
import { failureOf } from '../helpers';
import { HOUR, MINUTE, activityNow, eventsOf, startOf, timeSkippingEnv, withWorker, type Call, type Scripted } from './rig';

const rig = timeSkippingEnv();
const SLACK = 1_000;

/** Sweeps answer 2 runs paused, and the closing sweep 7 resumed. */
function fleet() {
  const calls: Call[] = [];
  const activities: Scripted = {
    signalRunsOnServer: (input: SignalRunsInput) => {
      calls.push({ name: input.action, at: activityNow(), input });
      return Promise.resolve(input.action === 'pause' ? 2 : 7);
    },
    recentJobIds: (input) => {
      calls.push({ name: 'recentJobIds', at: activityNow(), input });
      return Promise.resolve([]);
    },
  };
  return { activities, calls, times: (name: string) => calls.filter((c) => c.name === name).map((c) => c.at) };
}

function openWindow(taskQueue: string, signal: { reason?: string; until?: string }) {
  return rig.env.client.workflow.signalWithStart<typeof ccsMaintenanceWindow, [typeof signal]>('ccsMaintenanceWindow', {
    taskQueue,
    workflowId: `ccs-maintenance-t${Date.now()}`,
    args: [{ ccs: 'default' }],
    signal: maintenanceSignal,
    signalArgs: [signal],
  });
}

describe('ccsMaintenanceWindow', () => {
  it('sweeps its server every minute while open and resumes the runs when until passes (45 min)', async () => {
    const f = fleet();
    await withWorker(rig, f.activities, async (taskQueue) => {
      const until = (await rig.env.currentTimeMs()) + 45 * MINUTE;
      const handle = await openWindow(taskQueue, { reason: 'patching', until: new Date(until).toISOString() });
      const result = await handle.result();
      const sweeps = f.times('pause');
      const [resumed] = f.times('resume');
      expect(f.times('resume')).toHaveLength(1);
      // At 0, 1, ..., 44 min, and once more as until comes (the last wait is what was left of the window).
      expect(sweeps.length).toBeGreaterThanOrEqual(45);
      expect(sweeps.length).toBeLessThanOrEqual(46);
      for (const [i, t] of sweeps.slice(1, 45).entries()) {
        expect(t - sweeps[i]!).toBeGreaterThanOrEqual(MINUTE);
        expect(t - sweeps[i]!).toBeLessThan(MINUTE + SLACK);
      }
      expect(resumed! - until).toBeGreaterThanOrEqual(0);
      expect(resumed! - until).toBeLessThan(SLACK);
      expect(result).toMatchObject({
        state: 'ended',
        paused: 2 * sweeps.length,
        resumed: 7,
        endedBy: `until ${new Date(until).toISOString()} passed`,
      });
    });
  });

  it('ends when told to (after 30 min): one resume at once, no sweep after', async () => {
    const f = fleet();
    await withWorker(rig, f.activities, async (taskQueue) => {
      const handle = await openWindow(taskQueue, { reason: 'patching' });
      await rig.env.sleep(30 * MINUTE);
      expect((await handle.query(maintenanceStatusQuery)).state).toBe('open');
      const endAt = await rig.env.currentTimeMs();
      await handle.signal(endMaintenanceSignal, { reason: 'done early' });
      const result = await handle.result();
      expect(result).toMatchObject({ state: 'ended', endedBy: 'done early', resumed: 7 });
      const [resumed] = f.times('resume');
      expect(resumed! - endAt).toBeLessThan(SLACK);
      expect(f.times('pause').filter((t) => t > endAt)).toEqual([]);
      expect(f.times('pause').length).toBeGreaterThanOrEqual(30);
    });
  });

  it('refuses to stay open when never configured: CcsInvalidInput after one minute', async () => {
    const f = fleet();
    await withWorker(rig, f.activities, async (taskQueue) => {
      const handle = await rig.env.client.workflow.start<typeof ccsMaintenanceWindow>('ccsMaintenanceWindow', {
        taskQueue,
        workflowId: `ccs-maintenance-bare${Date.now()}`,
        args: [{ ccs: 'default' }],
      });
      expect((await failureOf(handle.result())).type).toBe(ErrorType.InvalidInput);
      const events = await eventsOf(handle);
      const closed = events.at(-1)!;
      expect(closed.type).toBe('WORKFLOW_EXECUTION_FAILED');
      expect(closed.at - startOf(events)).toBeGreaterThanOrEqual(MINUTE);
      expect(closed.at - startOf(events)).toBeLessThan(MINUTE + 2 * SLACK);
      expect(f.calls).toEqual([]);
    });
  });
});

describe('reconcileCcsRuns', () => {
  it('"recent: 6h" looks back six hours from workflow time, wherever the test server clock stands', async () => {
    const f = fleet();
    await withWorker(rig, f.activities, async (taskQueue) => {
      await rig.env.sleep(3 * 24 * HOUR);
      const handle = await rig.env.client.workflow.start<typeof reconcileCcsRuns>('reconcileCcsRuns', {
        taskQueue,
        workflowId: `reconcile-${Date.now()}`,
        args: [{ ccs: 'default', recent: '6h' }],
      });
      const result = await handle.result();
      expect(result).toMatchObject({ jobsChecked: 0, findings: [] });
      const events = await eventsOf(handle);
      const taskStarted = events.find((e) => e.type === 'WORKFLOW_TASK_STARTED')!.at;
      const since = Date.parse((f.calls[0]!.input as { since: string }).since);
      expect(Math.abs(since - (taskStarted - 6 * HOUR))).toBeLessThan(SLACK);
    });
  });
});
