/**
 * `npm run worker`: hosts the workflows and activities on the configured task queue until SIGINT
 * or SIGTERM, then drains (running activities finish) and closes what it opened. Logs are JSON
 * lines; metrics and health endpoints are served when their bind addresses are configured.
 */
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString, type Worker } from '@temporalio/worker';
import { CcsClient } from './ccs/client';
import { tokenOutcomeType } from './ccs/answer-errors';
import { createWorker } from './hosting/create-worker';
import { ensureCurrentVersion, setCurrentCommand } from './hosting/deployment-version';
import { namespaceAdmin, preflightNamespace } from './hosting/namespace-preflight';
import { shareBudgets, sharedBudgets, taskQueuePollers, type BudgetShare } from './hosting/budget-share';
import type { EvidenceContent } from './domain/evidence';
import { JsonlEvidenceSink } from './evidence/jsonl-sink';
import { PostgresEvidenceSink } from './evidence/postgres-sink';
import { fileSigner } from './evidence/signing';
import { startHeadPublisher, type HeadPublisher } from './hosting/head-publisher';
import { loadConfig, passwordSource, type WorkerConfig } from './hosting/config';
import { reportStartupError } from './hosting/startup-error';
import { startHealthServer, type HealthServer } from './hosting/observability/health';
import { jsonLogger } from './hosting/observability/logger';
import { startTracing, type Tracing } from './hosting/observability/tracing';
import { createNotifier, type Notifier } from './notifications';
import { REQUEST_DURATION_BUCKETS, REQUEST_DURATION_METRIC, trackCurrentRuns, workerMetrics } from './hosting/observability/metrics';

/** Installs the process-wide SDK runtime: JSON logs (core logs forwarded) and, if asked, Prometheus. */
function installRuntime(config: WorkerConfig): void {
  Runtime.install({
    logger: jsonLogger(config.logLevel),
    telemetryOptions: {
      logging: {
        forward: {},
        filter: makeTelemetryFilterString({ core: config.logLevel === 'TRACE' ? 'DEBUG' : config.logLevel === 'DEBUG' ? 'INFO' : 'WARN' }),
      },
      ...(config.metricsBindAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: config.metricsBindAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
                histogramBucketOverrides: { [REQUEST_DURATION_METRIC]: REQUEST_DURATION_BUCKETS },
              },
            },
          }
        : {}),
    },
  });
}

export async function runWorker(env: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env);
  installRuntime(config);
  const log = Runtime.instance().logger;
  const meter = Runtime.instance().metricMeter;
  const metrics = workerMetrics(meter);
  const clients: Record<string, CcsClient> = {};
  const tokenOk: Record<string, string | undefined> = {};
  let connection: NativeConnection | undefined;
  let health: HealthServer | undefined;
  let worker: Worker | undefined;
  let currentRuns: ReturnType<typeof trackCurrentRuns> | undefined;
  let budgetShare: BudgetShare | undefined;
  let headPublisher: HeadPublisher | undefined;
  let notifier: Notifier | undefined;
  let tracing: Tracing | undefined;
  // Each budget is the whole deployment's: this worker sends its share (budget-share.ts).
  const budgets = sharedBudgets(config.ccsServers, config.budgetAssumedWorkers);
  try {
    // OTEL_*: off (and not loaded) unless an OTLP endpoint is configured (docs/operations.md, "Tracing").
    tracing = await startTracing(env, 'ccs-worker', (m) => void log.warn(m));
    for (const [name, server] of Object.entries(config.ccsServers)) {
      const countRequest = metrics.requestsTo(name);
      clients[name] = new CcsClient({
        ...server,
        password: passwordSource(server),
        serverName: name,
        budget: budgets[name]?.budget,
        // Readiness follows every grant, not only the first: a rotated password makes the worker unready.
        observer: (seen) => {
          countRequest(seen);
          if (seen.operation === 'token') tokenOk[name] = tokenOutcomeType(seen.outcome, tokenOk[name]);
        },
        warn: (message) => void log.warn(message, { ccs: name }),
      });
      tokenOk[name] = 'no token yet';
    }
    if (config.healthBindAddress) {
      health = await startHealthServer(config.healthBindAddress, {
        live: [
          {
            name: 'worker',
            check: () => (worker && ['FAILED', 'STOPPED'].includes(worker.getState()) ? `worker ${worker.getState()}` : undefined),
          },
        ],
        ready: [
          {
            name: 'temporal',
            check: () => (worker?.getState() === 'RUNNING' ? undefined : `worker ${worker?.getState() ?? 'not created'}`),
          },
          ...Object.keys(clients).map((name) => ({ name: `ccs:${name}`, check: () => tokenOk[name] })),
        ],
      });
      log.info('health endpoint listening', { bindAddress: config.healthBindAddress, port: health.port });
    }
    if (config.notifications)
      notifier = createNotifier({
        config: config.notifications,
        // Whatever CCS or an operator echoed into an event, none of the worker's secrets leaves in it.
        secrets: [
          ...Object.values(config.ccsServers).map((s) => s.password),
          ...['CCS_CODEC_KEYS', 'TEMPORAL_API_KEY', 'EVIDENCE_DATABASE_URL', 'CODEC_SERVER_TOKEN'].flatMap((n) => env[n]?.split(',') ?? []),
        ],
        links: { temporalUiUrl: config.temporalUiUrl, namespace: config.temporal.namespace, evidenceUrl: config.evidenceUrl },
      });
    connection = await NativeConnection.connect(config.temporal.connection);
    const signer = config.evidence.signingKeyFile ? fileSigner(config.evidence.signingKeyFile) : undefined;
    const evidenceSink = config.evidenceDatabaseUrl
      ? new PostgresEvidenceSink<EvidenceContent>(config.evidenceDatabaseUrl, signer)
      : new JsonlEvidenceSink<EvidenceContent>(config.evidenceDir, Date.now, signer);
    if (config.evidence.headFile)
      headPublisher = startHeadPublisher({
        source: evidenceSink,
        file: config.evidence.headFile,
        signer,
        intervalMs: config.evidence.headIntervalMs,
        log,
      });
    // Before the worker exists (so /readyz stays unready): a namespace without the workflows' search
    // attributes would take this worker, then fail every run's workflow task, retried forever.
    const registered = await preflightNamespace({
      admin: namespaceAdmin(connection),
      namespace: config.temporal.namespace,
      address: String(config.temporal.connection.address ?? 'localhost:7233'),
      register: config.registerSearchAttributes,
    });
    if (registered.length > 0) log.info('registered search attributes', { namespace: config.temporal.namespace, attributes: registered });
    worker = await createWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      servers: clients,
      events: metrics.activityEvents,
      notifications: { notifier, metrics: metrics.notifications },
      tuning: config.tuning,
      versioning: config.versioning,
      polling: config.polling,
      codec: config.codec,
      workflowBundlePath: config.workflowBundlePath,
      tracing,
      evidence: evidenceSink,
    });
    budgetShare = shareBudgets({
      budgets,
      pollers: taskQueuePollers(connection, config.temporal.namespace, config.taskQueue),
      identity: worker.options.identity,
      assumedWorkers: config.budgetAssumedWorkers,
      log,
      meter,
    });
    await budgetShare.refresh();
    if (config.metricsBindAddress) {
      currentRuns = trackCurrentRuns(
        meter,
        new Client({ connection, namespace: config.temporal.namespace }),
        30_000,
        (m) => void log.warn(m),
      );
      void currentRuns.refresh();
    }
    // Readiness needs CCS too: one token proves the server answers and accepts the credentials.
    for (const [name, client] of Object.entries(clients)) void checkCcs(name, client);
    log.info('worker started', {
      taskQueue: config.taskQueue,
      temporal: String(config.temporal.connection.address ?? 'localhost:7233'),
      namespace: config.temporal.namespace,
      ccs: Object.fromEntries(Object.entries(clients).map(([name, c]) => [name, c.baseUrl.replace(/\/\/[^/@]*@/, '//')])),
      tuning: config.tuning,
      polling: config.polling,
      payloadEncryptionKey: config.codec?.activeKeyId ?? null,
      evidence: {
        store: config.evidenceDatabaseUrl ? 'postgresql' : config.evidenceDir,
        signingKey: config.evidence.signingKeyId ?? null,
        headFile: config.evidence.headFile ?? null,
      },
      metrics: config.metricsBindAddress ?? null,
      notifications: config.notifications
        ? {
            file: config.notifications.file,
            channels: Object.keys(config.notifications.channels),
            rules: config.notifications.rules.length,
          }
        : null,
      deploymentVersion: config.versioning
        ? { deploymentName: config.versioning.deploymentName, buildId: config.versioning.buildId }
        : null,
    });
    if (config.versioning?.localBuild)
      log.warn('no CCS_BUILD_COMMIT: every build of this version shares the build id; set it (or TEMPORAL_WORKER_BUILD_ID) for a deploy', {
        buildId: config.versioning.buildId,
      });
    // The SDK stops polling on SIGINT/SIGTERM and resolves run() once in-flight tasks have finished.
    const running = worker.run();
    if (config.versioning) await settleCurrentVersion(worker, connection, config, running);
    await running;
    log.info('worker stopped');
  } finally {
    currentRuns?.stop();
    budgetShare?.stop();
    await headPublisher?.stop();
    await health?.close();
    await Promise.all(Object.values(clients).map((c) => c.close()));
    await notifier?.close();
    await connection?.close();
    // Last: the spans of the drain are sent too.
    await tracing?.shutdown();
  }

  /** The first deploy makes its version current (deployment-version.ts); a later one says how to. */
  async function settleCurrentVersion(w: Worker, conn: NativeConnection, cfg: WorkerConfig, running: Promise<void>): Promise<void> {
    const versioning = cfg.versioning!;
    try {
      const found = await ensureCurrentVersion({
        service: conn.workflowService,
        withDeadline: (deadline, fn) => conn.withDeadline(deadline, fn),
        namespace: cfg.temporal.namespace,
        versioning,
        identity: w.options.identity,
        stopped: () => ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'].includes(w.getState()),
      });
      const meta = { deploymentName: versioning.deploymentName, buildId: versioning.buildId, ...found };
      if (found.outcome === 'made-current') log.info('made this deployment version current: the deployment had none', meta);
      else if (found.outcome === 'already-current') log.info('this deployment version is current', meta);
      else
        log.warn(
          `this deployment version is not current: it serves only runs pinned to it; to route new runs here: ${setCurrentCommand(versioning, cfg.temporal.namespace)}`,
          meta,
        );
    } catch (err) {
      // The server cannot do versioning: stop polling, then say why (startup-error prints the one line).
      w.shutdown();
      await running.catch(() => undefined);
      throw err;
    }
  }

  async function checkCcs(name: string, client: CcsClient): Promise<void> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        await client.checkCredentials();
        tokenOk[name] = undefined;
        log.info('CCS accepted the credentials', { ccs: name, baseUrl: client.baseUrl });
        return;
      } catch (err) {
        // /readyz is unauthenticated: it says the error type, never the text (which may quote CCS).
        tokenOk[name] = (err as { type?: string }).type ?? (err as Error).name ?? 'error';
        log.warn('CCS not reachable yet', { ccs: name, error: (err as Error).message });
        if (['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'].includes(worker?.getState() ?? '')) return;
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }
}

if (require.main === module) {
  runWorker(process.env).catch((err: unknown) => {
    reportStartupError('ccs-jobs worker', err);
    // The SDK's native runtime can hold the event loop open after a failed start: end the process here.
    // eslint-disable-next-line n/no-process-exit -- entry point: see the line above
    process.exit(1);
  });
}
