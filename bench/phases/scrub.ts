/**
 * `npm run bench -- --scrub`: how long reading one large CCS answer blocks the event loop (every
 * string of it is scrubbed of secrets synchronously), on a client that has been through 200 token
 * rotations. In process, no server: seconds, so it is not part of `--quick` or the full run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { jsonBody } from '../../src/ccs/answer-errors';
import { SecretSet } from '../../src/ccs/scrub';
import { round } from '../util';

export interface ScrubResult {
  shape: 'many strings' | 'one long text';
  answerMiB: number;
  rotations: number;
  /** Secrets searched for after the rotations (passwords and tokens). */
  secretsKept: number;
  /** Time to parse and scrub the answer: the event loop is blocked this long. */
  readMs: number;
  /** The largest event-loop delay seen meanwhile (perf_hooks), the same block as a timer sees it. */
  eventLoopDelayMaxMs: number;
}

const HOUR_MS = 3_600_000;

/** A client's secrets after `rotations` hourly token grants: what a worker up for days holds. */
function rotatedSecrets(rotations: number): SecretSet {
  let now = Date.now();
  const secrets = new SecretSet({ now: () => now });
  secrets.addPassword('Correct-Horse+Battery/Staple=9');
  secrets.addPassword(Buffer.from('Correct-Horse+Battery/Staple=9').toString('base64'));
  let previous: string[] = [];
  for (let i = 0; i < rotations; i++) {
    const issued = [randomBytes(24).toString('base64url'), randomBytes(16).toString('hex')];
    secrets.add(issued[0], now + HOUR_MS);
    secrets.add(issued[1], now + 1.5 * HOUR_MS);
    for (const old of previous) secrets.retire(old);
    previous = issued;
    now += HOUR_MS;
  }
  return secrets;
}

/** A job runs answer of about `bytes`: runs with a hundred messages each, or one run with one long exception. */
function answer(bytes: number, shape: ScrubResult['shape']): string {
  const jobId = randomUUID();
  const run = (exception: string, messages: number): Record<string, unknown> => ({
    JobRunID: randomUUID(),
    JobID: jobId,
    Status: 'Completed',
    JobStartTime: '2026-01-01T00:00:00',
    JobEndTime: '2026-01-01T01:00:00',
    Exception: exception,
    Messages: Array.from({ length: messages }, (_, i) => ({
      Time: '2026-01-01T00:30:00',
      Message: `collected asset host-${i}.corp.example: 42 checks, 3 failed`,
    })),
  });
  if (shape === 'one long text')
    return JSON.stringify([run('at Symantec.CSM.Collector.Run() '.repeat(Math.ceil(bytes / 32)).slice(0, bytes), 0)]);
  const one = JSON.stringify(run('', 100)).length;
  return JSON.stringify(Array.from({ length: Math.ceil(bytes / one) }, () => run('', 100)));
}

/** Reads each answer once on a client after `rotations` rotations; sizes in MiB. */
export async function scrubCost(sizesMiB: number[] = [1, 8], rotations = 200): Promise<ScrubResult[]> {
  const secrets = rotatedSecrets(rotations);
  const results: ScrubResult[] = [];
  const read = (text: string): unknown =>
    jsonBody({ status: 200, headers: { 'content-type': 'application/json' }, text }, 'GET /Jobs/…/jobruns', secrets);
  // Compiled code, not the first call's warm-up, is what a worker up for a while runs.
  for (let i = 0; i < 5; i++) read(answer(2 ** 18, 'many strings'));
  for (const shape of ['many strings', 'one long text'] as const) {
    for (const mib of sizesMiB) {
      const text = answer(mib * 2 ** 20, shape);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      // Let the monitor's timer run once before the loop is blocked, and once after.
      await new Promise((r) => setTimeout(r, 30));
      const started = performance.now();
      read(text);
      const readMs = performance.now() - started;
      await new Promise((r) => setTimeout(r, 30));
      delay.disable();
      results.push({
        shape,
        answerMiB: round(text.length / 2 ** 20, 2),
        rotations,
        secretsKept: secrets.size,
        readMs: round(readMs, 1),
        eventLoopDelayMaxMs: round(delay.max / 1e6, 1),
      });
    }
  }
  return results;
}

/** The results as the Markdown table docs/performance.md quotes. */
export function scrubTable(results: ScrubResult[]): string {
  const rows = results.map(
    (r) => `| ${r.shape} | ${r.answerMiB} | ${r.rotations} | ${r.secretsKept} | ${r.readMs} | ${r.eventLoopDelayMaxMs} |`,
  );
  return [
    '| answer | MiB | token rotations | secrets kept | parse + scrub, ms | event-loop delay max, ms |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
