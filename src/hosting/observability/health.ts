/**
 * The worker's health endpoint: `/livez` answers 200 while the process can serve at all, `/readyz`
 * 200 only once the worker polls Temporal and CCS has granted a token (503 otherwise, with why).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthCheck {
  name: string;
  /** undefined when healthy, else why not (one line, nothing secret). */
  check: () => Promise<string | undefined> | string | undefined;
}

export interface HealthServer {
  port: number;
  close: () => Promise<void>;
}

async function evaluate(checks: HealthCheck[]): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return [c.name, (await c.check()) ?? 'ok'] as const;
      } catch (err) {
        return [c.name, (err as Error).message] as const;
      }
    }),
  );
  return { ok: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
}

export async function startHealthServer(bindAddress: string, probes: { live: HealthCheck[]; ready: HealthCheck[] }): Promise<HealthServer> {
  const split = bindAddress.lastIndexOf(':');
  const host = bindAddress.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(bindAddress.slice(split + 1));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const checks = path === '/livez' ? probes.live : path === '/readyz' ? probes.ready : undefined;
    if (!checks || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"use GET /livez or GET /readyz"}');
      return;
    }
    void evaluate(checks).then((result) => {
      res.writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
