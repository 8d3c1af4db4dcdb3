/**
 * `executeJob` attempts outside Temporal, for the tests of a retried execute: the activity in a mock
 * context, the client and the simulator over real sockets. A test hands one attempt's last heartbeat
 * to the next, as the Temporal server does. Register `closeExecuteRigs` in `afterEach`.
 */
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, type ExecuteJobInput } from '../src/activities';
import type { CcsClient } from '../src/ccs/client';
import type { Simulator } from '../src/sim/server';
import { clientFor, startSim } from './helpers';

const open: { close: () => Promise<void> }[] = [];

/** A simulator and a client to it, closed by `closeExecuteRigs`. */
export async function executeRig(): Promise<{ sim: Simulator; client: CcsClient }> {
  const sim = await startSim();
  const client = clientFor(sim);
  open.push(client, sim);
  return { sim, client };
}

export async function closeExecuteRigs(): Promise<void> {
  for (const o of open.splice(0).reverse()) await o.close();
}

/** One attempt of executeJob; resolves to its result or its error, with the heartbeats it sent. */
export async function executeAttempt(
  client: CcsClient,
  input: ExecuteJobInput,
  info: Partial<Info>,
): Promise<{ outcome: unknown; beats: unknown[] }> {
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000, ...info }, { logger: new DefaultLogger('ERROR') });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const outcome = await env
    .run((i: ExecuteJobInput) => createActivities({ client }).executeJob(i), input)
    .then(
      (r) => r,
      (e: unknown) => e,
    );
  return { outcome, beats };
}
