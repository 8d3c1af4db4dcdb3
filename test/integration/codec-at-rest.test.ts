/**
 * Payload encryption end to end: inputs, results and failure details are ciphertext at rest in
 * Temporal, and the codec endpoint shows them only to callers with the token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { AesGcmCodec, encryptingDataConverter } from '../../src/hosting/codec';
import { startCodecServer } from '../../src/hosting/codec-server';
import { proxyTokenAuthorizer } from '../../src/hosting/codec-auth';
import { createWorker } from '../../src/hosting/create-worker';
import type { Simulator } from '../../src/sim/server';
import type { runCcsJob } from '../../src/workflows';
import { addJob, clientFor, failureOf, quietRuntime, startSim } from '../helpers';

const k1 = { id: 'k1', key: randomBytes(32) };
const encoder = new TextEncoder();

describe('encrypted at rest in Temporal', () => {
  let sim: Simulator;
  let worker: Worker;
  let running: Promise<void>;
  let connections: { close: () => Promise<unknown> }[] = [];
  let encrypted: Client;
  let plain: Client;
  const taskQueue = `codec-${randomUUID()}`;
  const codec = new AesGcmCodec([k1]);

  beforeAll(async () => {
    quietRuntime();
    sim = await startSim();
    const native = await NativeConnection.connect({ address: inject('temporalAddress') });
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    connections = [native, connection];
    worker = await createWorker({
      connection: native,
      taskQueue,
      servers: { default: clientFor(sim) },
      workflowBundlePath: inject('workflowBundlePath'),
      codec: { keys: [k1], activeKeyId: k1.id },
    });
    running = worker.run();
    encrypted = new Client({ connection, dataConverter: encryptingDataConverter(codec) });
    plain = new Client({ connection });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    for (const c of connections) await c.close();
    await sim?.close();
  });

  it('stores inputs, results and failure details as ciphertext; the keyed client reads them', async () => {
    const jobId = addJob(
      sim,
      [
        ['Executing', 1],
        ['Faulted', 0],
      ],
      { exception: 'secret-ish exception text' },
    );
    const handle = await encrypted.workflow.start<typeof runCcsJob>('runCcsJob', {
      taskQueue,
      workflowId: `c-${randomUUID()}`,
      args: [{ jobId, pollInterval: '1s' }],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobFaulted');
    expect(JSON.stringify(failure.details)).toContain('secret-ish exception text');
    expect(failure.message).toMatch(/faulted: secret-ish exception text$/); // decrypted from the encoded attributes by the keyed client

    const history = await plain.workflow.getHandle(handle.workflowId).fetchHistory();
    // Search attributes stay readable by design; failure messages and every payload must not be.
    const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
    expect(failed?.message).toBe('Encoded failure');
    expect(failed?.stackTrace ?? '').toBe('');
    const payloads = (history.events ?? []).flatMap((e) => [
      ...(e.workflowExecutionFailedEventAttributes?.failure?.encodedAttributes
        ? [e.workflowExecutionFailedEventAttributes.failure.encodedAttributes]
        : []),
      ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
      ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
      ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
      ...(e.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo?.details?.payloads ?? []),
    ]);
    expect(payloads.length).toBeGreaterThanOrEqual(7);
    for (const p of payloads) {
      expect(Buffer.from(p.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
      const bytes = Buffer.from(p.data ?? []).toString('latin1');
      expect(bytes).not.toContain(jobId);
      expect(bytes).not.toContain('secret-ish exception text');
    }
    const raw = JSON.stringify(history);
    expect(raw).toContain(Buffer.from('binary/encrypted').toString('base64'));
  });

  it('CCS_CODEC_STRICT: a strict worker refuses a workflow started without the keys, and says why in the workflow task failure', async () => {
    const strictQueue = `codec-strict-${randomUUID()}`;
    const strictWorker = await createWorker({
      connection: connections[0] as NativeConnection,
      taskQueue: strictQueue,
      servers: { default: clientFor(sim) },
      workflowBundlePath: inject('workflowBundlePath'),
      codec: { keys: [k1], activeKeyId: k1.id, strict: true },
    });
    const strictRunning = strictWorker.run();
    try {
      const jobId = addJob(sim, [['Completed', 0]]);
      const handle = await plain.workflow.start<typeof runCcsJob>('runCcsJob', {
        taskQueue: strictQueue,
        workflowId: `c-strict-${randomUUID()}`,
        args: [{ jobId, pollInterval: '1s' }],
      });
      const deadline = Date.now() + 30_000;
      let failure: { encodedAttributes?: Payload | null } | undefined | null;
      while (!failure && Date.now() < deadline) {
        const history = await handle.fetchHistory();
        failure = history.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure;
        if (!failure) await new Promise((r) => setTimeout(r, 200));
      }
      // The worker encodes failure messages too (history shows "Encoded failure"): read it with the key.
      const [attributes] = await codec.decode([failure!.encodedAttributes!]);
      const message = (JSON.parse(Buffer.from(attributes!.data!).toString()) as { message: string }).message;
      expect(message).toContain(
        'refused an unencrypted payload (encoding "json/plain"): CCS_CODEC_STRICT=true accepts only payloads encrypted with CCS_CODEC_KEYS',
      );
      expect(sim.state.runsOf(jobId)).toEqual([]); // refused before the workflow ran: nothing was started in CCS
      await handle.terminate('test over');
    } finally {
      strictWorker.shutdown();
      await strictRunning;
    }
  });

  it('the codec endpoint decodes for a caller with the token, refuses others, and answers CORS preflight', async () => {
    const server = await startCodecServer({
      codec,
      authorize: proxyTokenAuthorizer({ token: 'ui-users-token-123456', header: 'authorization', namespaces: [] }),
      corsOrigins: ['http://localhost:8233'],
      port: 0,
    });
    try {
      const [enc] = await codec.encode([{ metadata: { encoding: encoder.encode('json/plain') }, data: encoder.encode('"hello"') }]);
      const body = JSON.stringify({
        payloads: [
          {
            metadata: {
              encoding: Buffer.from(enc!.metadata!.encoding!).toString('base64'),
              'encryption-key-id': Buffer.from('k1').toString('base64'),
            },
            data: Buffer.from(enc!.data!).toString('base64'),
          },
        ],
      });
      const ok = await fetch(`${server.url}/decode`, {
        method: 'POST',
        body,
        headers: { authorization: 'Bearer ui-users-token-123456', 'content-type': 'application/json', 'x-namespace': 'default' },
      });
      expect(ok.status).toBe(200);
      const decoded = (await ok.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toBe('"hello"');
      const denied = await fetch(`${server.url}/decode`, { method: 'POST', body, headers: { authorization: 'Bearer wrong' } });
      expect(denied.status).toBe(401);
      const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://localhost:8233' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    } finally {
      await server.close();
    }
  });
});
