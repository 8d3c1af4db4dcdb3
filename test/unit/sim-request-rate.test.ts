import { describe, expect, it } from 'vitest';
import { REQUEST_RATE_SECONDS, RequestRate } from '../../src/sim/control';
import { startSimulator } from '../../src/sim/server';
import { eventually } from '../helpers';

const T0 = Date.parse('2026-12-01T10:00:00Z');

describe('the simulator request rate', () => {
  it('counts requests per whole second, quiet seconds as 0, the current second not yet', () => {
    const rate = new RequestRate();
    for (const at of [T0 + 10, T0 + 900, T0 + 2_500]) rate.add(at);
    expect(rate.perSecond(T0 + 2_600)).toEqual([
      { second: '2026-12-01T10:00:00.000Z', requests: 2 },
      { second: '2026-12-01T10:00:01.000Z', requests: 0 },
    ]);
  });

  it(`reports the latest ${REQUEST_RATE_SECONDS} s only`, () => {
    const rate = new RequestRate();
    for (let s = 0; s < REQUEST_RATE_SECONDS * 2; s++) rate.add(T0 + s * 1000);
    const kept = rate.perSecond(T0 + REQUEST_RATE_SECONDS * 2 * 1000);
    expect(kept).toHaveLength(REQUEST_RATE_SECONDS);
    expect(kept[0]!.second).toBe(new Date(T0 + REQUEST_RATE_SECONDS * 1000).toISOString());
  });

  it('is served at GET /__sim/request-rate, counting CCS requests and not control ones', async () => {
    const sim = await startSimulator({ port: 0, tls: false });
    try {
      const origin = sim.baseUrl.replace(/\/ccs\/api\/v1$/, '');
      await fetch(`${sim.baseUrl}/jobs/not-a-guid`);
      await fetch(`${origin}/__sim/stats`);
      // Read once the second of that request has ended.
      const read = async (): Promise<{ second: string; requests: number }[]> =>
        ((await (await fetch(`${origin}/__sim/request-rate`)).json()) as { perSecond: { second: string; requests: number }[] }).perSecond;
      const seconds = await eventually(async () => ((await read()).length > 0 ? read() : undefined), 5_000, 'the request second to end');
      expect(seconds.reduce((n, s) => n + s.requests, 0)).toBe(1);
      expect(sim.requestRate()[0]).toEqual(seconds[0]);
    } finally {
      await sim.close();
    }
  });
});
