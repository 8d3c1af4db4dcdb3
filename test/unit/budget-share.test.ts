import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestBudget } from '../../src/ccs/request-budget';
import { POLLER_FRESH_MS, liveWorkers, shareBudgets, sharedBudgets, type Poller } from '../../src/hosting/budget-share';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const seen = (identity: string, agoMs = 1_000): Poller => ({ identity, lastAccessMs: NOW - agoMs });

describe('liveWorkers', () => {
  it('counts each identity once, this worker always, and not pollers gone longer than the freshness window', () => {
    expect(liveWorkers([], 'me', NOW)).toBe(1);
    expect(liveWorkers([seen('me'), seen('me')], 'me', NOW)).toBe(1);
    expect(liveWorkers([seen('a'), seen('a', 30_000), seen('b')], 'me', NOW)).toBe(3);
    expect(liveWorkers([seen('a'), seen('gone', POLLER_FRESH_MS + 1)], 'me', NOW)).toBe(2);
    // A poller the server gives no time for is counted: over-counting sends less, never more.
    expect(liveWorkers([{ identity: 'b', lastAccessMs: undefined }], 'me', NOW)).toBe(2);
  });
});

describe('RequestBudget.setRate', () => {
  afterEach(() => void vi.useRealTimers());

  /** How many of `callers` waiting takes are let through in one second of (fake) time. */
  async function takenInOneSecond(budget: RequestBudget, callers: number): Promise<number> {
    let taken = 0;
    for (let i = 0; i < callers; i++) void budget.take().then(() => taken++);
    await vi.advanceTimersByTimeAsync(1_000);
    return taken;
  }

  it('spaces the requests that come after it at the new rate', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const budget = new RequestBudget(20, 1);
    expect(await takenInOneSecond(budget, 100)).toBeGreaterThanOrEqual(20);
    const slow = new RequestBudget(20, 1);
    slow.setRate(5);
    expect(await takenInOneSecond(slow, 100)).toBeLessThanOrEqual(6);
  });
});

describe('shareBudgets', () => {
  type Log = (message: string, meta?: Record<string, unknown>) => void;
  const logs = () => ({ info: vi.fn<Log>(), warn: vi.fn<Log>() });

  it('divides each server budget by the live workers, and follows them as they come and go', async () => {
    const budgets = sharedBudgets({ default: { requestsPerSecond: 30 }, emea: { requestsPerSecond: 12 }, unlimited: {} }, 3);
    expect(Object.keys(budgets)).toEqual(['default', 'emea']);
    const rates = { default: vi.spyOn(budgets.default!.budget, 'setRate'), emea: vi.spyOn(budgets.emea!.budget, 'setRate') };
    let pollers = [seen('me'), seen('other')];
    const share = shareBudgets({
      budgets,
      pollers: () => Promise.resolve(pollers),
      identity: 'me',
      assumedWorkers: 3,
      log: logs(),
      now: () => NOW,
    });
    try {
      await share.refresh();
      expect(share.workers).toBe(2);
      expect(rates.default).toHaveBeenLastCalledWith(15);
      expect(rates.emea).toHaveBeenLastCalledWith(6);
      pollers = [seen('me'), seen('other'), seen('third')];
      await share.refresh();
      expect(rates.default).toHaveBeenLastCalledWith(10);
      pollers = [seen('me')];
      await share.refresh();
      expect(rates.default).toHaveBeenLastCalledWith(30);
    } finally {
      share.stop();
    }
  });

  it('divides by the assumed workers when Temporal cannot be asked, says so once, and says when it can again', async () => {
    const budgets = sharedBudgets({ default: { requestsPerSecond: 20 } }, 4);
    const rate = vi.spyOn(budgets.default!.budget, 'setRate');
    let answer: () => Promise<Poller[]> = () => Promise.reject(new Error('7 PERMISSION_DENIED: Request unauthorized'));
    const log = logs();
    const share = shareBudgets({ budgets, pollers: () => answer(), identity: 'me', assumedWorkers: 4, log, now: () => NOW });
    try {
      await share.refresh();
      await share.refresh();
      await share.refresh();
      expect(share.workers).toBe(4);
      expect(rate).toHaveBeenLastCalledWith(5);
      expect(log.warn).toHaveBeenCalledTimes(1);
      expect(log.warn.mock.calls[0]![0]).toMatch(/PERMISSION_DENIED.*divided by 4 workers \(CCS_BUDGET_ASSUMED_WORKERS\)/);
      answer = () => Promise.resolve([seen('me'), seen('other')]);
      await share.refresh();
      expect(rate).toHaveBeenLastCalledWith(10);
      expect(log.info.mock.calls.map((c) => String(c[0]))).toContain(
        'the workers on the task queue can be counted again: each CCS request budget is shared among them',
      );
      // A later failure keeps at least the count last learned, and warns once more.
      answer = () => Promise.reject(new Error('14 UNAVAILABLE'));
      await share.refresh();
      expect(share.workers).toBe(4);
      expect(log.warn).toHaveBeenCalledTimes(2);
    } finally {
      share.stop();
    }
  });

  it('divides by at least the assumed workers until the list shows this worker polling', async () => {
    const budgets = sharedBudgets({ default: { requestsPerSecond: 12 } }, 3);
    const rate = vi.spyOn(budgets.default!.budget, 'setRate');
    // At start the list predates this worker (it does not poll yet; the server caches the list 5 s).
    let pollers = [seen('other')];
    const share = shareBudgets({
      budgets,
      pollers: () => Promise.resolve(pollers),
      identity: 'me',
      assumedWorkers: 3,
      log: logs(),
      now: () => NOW,
    });
    try {
      await share.refresh();
      expect(rate).toHaveBeenLastCalledWith(4);
      pollers = [seen('other'), seen('me')];
      await share.refresh();
      expect(rate).toHaveBeenLastCalledWith(6);
    } finally {
      share.stop();
    }
  });

  it('asks nothing when no server has a budget', async () => {
    const pollers = vi.fn(() => Promise.resolve([]));
    const share = shareBudgets({ budgets: sharedBudgets({ default: {} }, 3), pollers, identity: 'me', assumedWorkers: 3, log: logs() });
    await share.refresh();
    share.stop();
    expect(pollers).not.toHaveBeenCalled();
  });
});
