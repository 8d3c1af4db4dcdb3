/**
 * Traces from the CLI to CCS, against a real Jaeger started here: `ccs-jobs pipeline run --wait`
 * spawned with OTEL_* pointing at it, a worker with tracing on, the simulator over real sockets.
 * One pipeline run must come back from Jaeger's query API as one trace holding the CLI span, the
 * pipeline workflow, its child workflows, every activity and every CCS request, and no span may
 * carry a secret.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CcsClient } from '../../src/ccs/client';
import { ensureJaeger, startJaeger, type Jaeger } from '../../src/dev/jaeger';
import { createWorker } from '../../src/hosting/create-worker';
import { startTracing, type Tracing } from '../../src/hosting/observability/tracing';
import type { Simulator } from '../../src/sim/server';
import { SIM_USER, addJob, clientFor, eventually, quietRuntime, runCli, startSim } from '../helpers';
import { tempDir } from '../temp-dir';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  logs: { fields: { key: string; value: unknown }[] }[];
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

const workerService = `ccs-worker-${randomUUID().slice(0, 8)}`;
const cliService = `ccs-jobs-${randomUUID().slice(0, 8)}`;
const taskQueue = `tracing-${randomUUID()}`;
let jaeger: Jaeger;
let sim: Simulator;
let ccs: CcsClient;
let tracing: Tracing | undefined;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let ccsRequests = 0;

beforeAll(async () => {
  // A fresh machine builds Jaeger from its Go module here (about 8 minutes, once; cached after; .ci/run
  // builds it before the tests): the hook's bound covers that build, itself bounded in ensureJaeger.
  jaeger = await startJaeger(await ensureJaeger((line) => console.log(line)));
  sim = await startSim({ onRequest: () => void ccsRequests++ });
  quietRuntime();
  tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_SERVICE_NAME: workerService }, 'ccs-worker');
  ccs = clientFor(sim, { serverName: 'emea' });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  // With tracing the workflows are bundled at start-up with the tracing interceptors (no prebuilt bundle).
  worker = await createWorker({ connection, taskQueue, servers: { default: ccs }, evidence: tempDir('ccs-tracing-evidence-'), tracing });
  running = worker.run();
}, 1_500_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await tracing?.shutdown();
  await ccs?.close();
  await connection?.close();
  await sim?.close();
  await jaeger?.stop();
});

async function tracesOf(service: string): Promise<JaegerTrace[]> {
  const res = await fetch(`${jaeger.queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=50&lookback=1h`, {
    signal: AbortSignal.timeout(5000),
  });
  if (res.status === 404 || res.status === 400) return [];
  if (!res.ok) throw new Error(`jaeger answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

/** Every attribute a CCS request's span may have (src/ccs/transport.ts). */
const CCS_SPAN_ATTRIBUTES = [
  'ccs.server',
  'ccs.operation',
  'server.address',
  'server.port',
  'http.request.method',
  'url.template',
  'http.request.resend_count',
  'http.response.status_code',
  'error.type',
];

const count = (spans: JaegerSpan[], test: (name: string) => boolean): number => spans.filter((s) => test(s.operationName)).length;

describe('tracing from ccs-jobs to CCS', () => {
  it('one pipeline run is one trace: CLI span, pipeline, child workflows, each activity and each CCS request; no secret in it', async () => {
    const jobs = [0, 1, 2].map(() =>
      addJob(sim, [
        ['Executing', 1],
        ['Completed', 0],
      ]),
    );
    const file = join(tempDir('ccs-tracing-'), 'scan.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: `traced scan ${randomUUID().slice(0, 8)}`,
        pollInterval: '1s',
        stages: [
          { name: 'collect', jobs: [jobs[0]] },
          { name: 'evaluate', jobs: [jobs[1], jobs[2]] },
        ],
      }),
    );
    const cli = runCli(['pipeline', 'run', file, '--wait'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
      OTEL_SERVICE_NAME: cliService,
    });
    // Once the first job runs, CCS forgets its tokens (an application-server restart): the next request
    // is refused with 401 and replayed with a new token, a resend its span must say.
    await eventually(() => sim.state.runsOf(jobs[0]!).length > 0, 60_000, 'the first job to start');
    sim.revokeTokens();
    const r = await cli;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const requestsSent = ccsRequests;
    await tracing!.flush();

    // Spans arrive in batches from two processes: wait for the trace to hold every CCS request.
    const trace = await eventually(
      async () => {
        const [found] = await tracesOf(cliService);
        return found && count(found.spans, (n) => /^(GET|POST) \/ccs\//.test(n)) >= requestsSent ? found : undefined;
      },
      30_000,
      'one trace holding every CCS request',
    );
    const names = new Map<string, number>();
    for (const s of trace.spans) names.set(s.operationName, (names.get(s.operationName) ?? 0) + 1);
    console.log(
      `trace ${trace.traceID}: ${trace.spans.length} spans\n${[...names]
        .sort()
        .map(([n, c]) => `  ${String(c).padStart(3)}  ${n}`)
        .join('\n')}`,
    );

    // One trace: everything the worker made for this run is in the CLI's trace, nothing in another.
    expect((await tracesOf(cliService)).map((t) => t.traceID)).toEqual([trace.traceID]);
    expect((await tracesOf(workerService)).map((t) => t.traceID)).toEqual([trace.traceID]);
    const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
    expect([...services].sort()).toEqual([cliService, workerService].sort());

    // Every span but the CLI's has its parent in the trace: nothing dangles.
    const ids = new Set(trace.spans.map((s) => s.spanID));
    const roots = trace.spans.filter((s) => !s.references.some((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID)));
    expect(roots.map((s) => s.operationName)).toEqual(['ccs-jobs pipeline']);

    expect(names.get('StartWorkflow:runCcsPipeline')).toBe(1);
    expect(names.get('RunWorkflow:runCcsPipeline')).toBeGreaterThanOrEqual(1);
    expect(names.get('StartChildWorkflow:runCcsJob')).toBe(3);
    expect(names.get('RunWorkflow:runCcsJob')).toBeGreaterThanOrEqual(3);
    // Every activity a workflow scheduled ran under its StartActivity span.
    const started = count(trace.spans, (n) => n.startsWith('StartActivity:'));
    expect(started).toBeGreaterThanOrEqual(6);
    expect(count(trace.spans, (n) => n.startsWith('RunActivity:'))).toBeGreaterThanOrEqual(started);
    // Each CCS request the simulator answered is a span, with what identifies it and nothing else.
    const requests = trace.spans.filter((s) => /^(GET|POST) \/ccs\//.test(s.operationName));
    expect(requests.length).toBe(requestsSent);
    expect(count(requests, (n) => n === 'POST /ccs/api/v1/jobs/{id}')).toBe(3);
    const tagsOf = (span: JaegerSpan) => Object.fromEntries(span.tags.map((t) => [t.key, t.value]));
    expect(requests.filter((s) => tagsOf(s)['http.response.status_code'] === 401).length).toBeGreaterThanOrEqual(1);
    expect(requests.filter((s) => tagsOf(s)['http.request.resend_count'] === 1).length).toBeGreaterThanOrEqual(1);
    for (const span of requests) {
      const tags = tagsOf(span);
      expect(tags).toMatchObject({ 'ccs.server': 'emea', 'server.address': '127.0.0.1' });
      expect(tags['ccs.operation']).toBeTypeOf('string');
      // What a CCS span carries is a closed list: a new attribute has to be added here, knowingly.
      const own = Object.keys(tags).filter((k) => !/^(otel\.|span\.kind$|internal\.|error$)/.test(k));
      expect(own.filter((k) => !CCS_SPAN_ATTRIBUTES.includes(k))).toEqual([]);
      expect([0, 1]).toContain(tags['http.request.resend_count']);
      expect(tags['http.response.status_code']).toBeTypeOf('number');
      expect(tags['url.template']).toBe(span.operationName.split(' ')[1]);
      expect(span.operationName).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}|\?/i);
    }

    // No secret anywhere in what Jaeger holds: tags, events, process tags.
    const text = JSON.stringify(trace);
    const password = SIM_USER.password;
    const secrets = [password, Buffer.from(password).toString('base64'), ...sim.issuedTokens()];
    expect(sim.issuedTokens().length).toBeGreaterThanOrEqual(1);
    expect(secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 4)}…`)).toEqual([]);
    expect(text).not.toMatch(/authorization|bearer/i);
  }, 240_000);
});
