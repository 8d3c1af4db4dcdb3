/**
 * Payload encryption: inputs, results and failure details are ciphertext at rest in Temporal, keys
 * rotate by id, and the codec endpoint shows them only to callers with the token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createActivities } from '../src/activities';
import { AesGcmCodec, encryptingDataConverter, parseCodecKeys } from '../src/codec';
import { startCodecServer } from '../src/codec-server';
import type { Simulator } from '../src/sim/server';
import type { runCcsJob } from '../src/workflows';
import { addJob, clientFor, failureOf, quietRuntime, startSim } from './helpers';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const encoder = new TextEncoder();

describe('AesGcmCodec', () => {
  it('round-trips, and decrypts payloads of an older key after rotation', async () => {
    const payload = { metadata: { encoding: encoder.encode('json/plain') }, data: encoder.encode('{"jobId":"x"}') };
    const [old] = await new AesGcmCodec([k1]).encode([payload]);
    expect(Buffer.from(old!.data!).toString()).not.toContain('jobId');
    const rotated = new AesGcmCodec([k2, k1]);
    const [fresh] = await rotated.encode([payload]);
    expect(Buffer.from(fresh!.metadata!['encryption-key-id']!).toString()).toBe('k2');
    for (const p of await rotated.decode([old!, fresh!])) expect(Buffer.from(p.data!).toString()).toBe('{"jobId":"x"}');
    await expect(new AesGcmCodec([k2]).decode([old!])).rejects.toThrow('payload was encrypted with key "k1", which is not configured');
    const tampered = { ...fresh!, data: Buffer.from(fresh!.data!).fill(1, 20, 21) };
    await expect(rotated.decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  it('reports bad keys without echoing key material', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');
    const { problems } = parseCodecKeys(`short:${secret},noid`);
    expect(problems).toEqual(['CCS_CODEC_KEYS key short must decode to 32 bytes; got 16', 'CCS_CODEC_KEYS entry 2 must be <id>:<base64 of 32 bytes>']);
    expect(problems.join()).not.toContain(secret);
  });
});

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
    worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: createActivities({ client: clientFor(sim) }),
      dataConverter: encryptingDataConverter(codec),
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
    const jobId = addJob(sim, [['Executing', 1], ['Faulted', 0]], { exception: 'secret-ish exception text' });
    const handle = await encrypted.workflow.start<typeof runCcsJob>('runCcsJob', { taskQueue, workflowId: `c-${randomUUID()}`, args: [{ jobId, pollInterval: '1s' }] });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('CcsJobFaulted');
    expect(JSON.stringify(failure.details)).toContain('secret-ish exception text');

    const history = await plain.workflow.getHandle(handle.workflowId).fetchHistory();
    // Search attributes and failure messages stay readable by design; every payload must not be.
    const payloads = (history.events ?? []).flatMap((e) => [
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

  it('the codec endpoint decodes for a caller with the token, refuses others, and answers CORS preflight', async () => {
    const server = await startCodecServer({ codec, token: 'ui-users-token-123456', corsOrigin: 'http://localhost:8233', port: 0 });
    try {
      const [enc] = await codec.encode([{ metadata: { encoding: encoder.encode('json/plain') }, data: encoder.encode('"hello"') }]);
      const body = JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from(enc!.metadata!.encoding!).toString('base64'), 'encryption-key-id': Buffer.from('k1').toString('base64') }, data: Buffer.from(enc!.data!).toString('base64') }] });
      const ok = await fetch(`${server.url}/decode`, { method: 'POST', body, headers: { authorization: 'Bearer ui-users-token-123456', 'content-type': 'application/json', 'x-namespace': 'default' } });
      expect(ok.status).toBe(200);
      const decoded = (await ok.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toBe('"hello"');
      const denied = await fetch(`${server.url}/decode`, { method: 'POST', body, headers: { authorization: 'Bearer wrong' } });
      expect(denied.status).toBe(401);
      const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS' });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    } finally {
      await server.close();
    }
  });
});
