/**
 * The one way this project builds a Temporal worker for the orchestrator, used by `npm run worker`,
 * the demo stack, the tests, the chaos suite and the benchmark, so none of them runs a worker
 * configured differently from production without saying so here.
 */
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import {
  createActivities,
  type ActivityEvents,
  type CcsActivities,
  type NotificationActivityDeps,
  type NotificationActivityFunctions,
  type PollingSettings,
} from '../activities';
import { createEvidenceActivities, temporalStarterLookup, type EvidenceSink } from '../activities/evidence';
import { createFleetActivities, type FleetActivities } from '../activities/fleet';
import { createRedriveActivities } from '../activities/redrive';
import { JsonlEvidenceSink } from '../evidence/jsonl-sink';
import type { EvidenceContent } from '../domain/evidence';
import type { CcsClient } from '../ccs/client';
import { AesGcmCodec } from './codec';
import { ENCODED_FAILURES_CONVERTER_PATH, bundleToLoad } from './workflow-bundle';
import type { CodecConfig } from './config/codec-keys';
import type { WorkerTuning } from './config';
import type { Tracing } from './observability/tracing';
import { PACKAGE_VERSION, type WorkerVersioningConfig } from './config/versioning';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace?: string | undefined;
  taskQueue: string;
  /** CCS clients by the server name runs give in `ccs`; `default` serves runs that name none. */
  servers: Readonly<Record<string, CcsClient>>;
  /** Workflow-tier tests only: scripted activities instead of the real ones over `servers`. */
  activities?:
    | (Partial<CcsActivities & FleetActivities> & Partial<Record<keyof NotificationActivityFunctions, (input: never) => Promise<unknown>>>)
    | undefined;
  /** Told what the activities saw, for metrics. */
  events?: ActivityEvents | undefined;
  /** How waits poll (CCS_WATCH_THRESHOLD, CCS_POLL_JITTER). */
  polling?: Partial<PollingSettings> | undefined;
  /** Where closing records go (EVIDENCE_DIR): a sink, or a JSON Lines directory; default ./evidence. */
  evidence?: EvidenceSink | string | undefined;
  /** Payload encryption (CCS_CODEC_KEYS). */
  codec?: CodecConfig | undefined;
  /** The notifier built from NOTIFICATIONS_FILE and its metrics; unset: notifications off (announcing queues nothing). */
  notifications?: Omit<NotificationActivityDeps, 'evidence' | 'workerVersion'> | undefined;
  tuning?: Partial<WorkerTuning> | undefined;
  /**
   * Worker Versioning: poll as this deployment version, every workflow PINNED to the build it started
   * on (the worker's default behaviour; no workflow names its own, since a workflow that does is refused
   * by an unversioned worker). Undefined: an unversioned
   * worker (tests, and servers without Worker Deployments).
   */
  versioning?: WorkerVersioningConfig | undefined;
  /** A prebuilt workflow bundle (production, tests); without it the workflows are bundled at start-up. */
  workflowBundlePath?: string | undefined;
  /**
   * Tests only: a bug in workflow code (TypeError, ...) fails the workflow instead of retrying its task
   * until the code is fixed. Production keeps the retry: a workflow that follows a CCS run must
   * never close because of a bug, or the run would be left unwatched.
   */
  failWorkflowOnBug?: boolean | undefined;
  /**
   * Tracing started by `startTracing` (OTEL_*): workflows, activities and CCS requests become spans in
   * the trace their starter carried. Unset: no interceptor is installed and the SDK's tracing code is not loaded.
   */
  tracing?: Tracing | undefined;
}

/** The SDK's workflow tracing interceptors, by module path: the bundler compiles them into the workflow code. */
const WORKFLOW_TRACING_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** The worker options that trace: activity interceptors, the workflow span sink, and the workflow interceptor module. */
async function tracingOptions(tracing: Tracing): Promise<Pick<WorkerOptions, 'interceptors' | 'sinks'>> {
  // Loaded only with tracing on: without it no tracing code runs in the worker.
  const otel = await import('@temporalio/interceptors-opentelemetry');
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
          outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      workflowModules: [WORKFLOW_TRACING_INTERCEPTORS],
    },
    // Workflow spans are made in the sandbox and handed out through this sink (not on replay).
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  // The fleet activities signal this namespace's own workflows (maintenance windows) over the worker's
  // connection, with the worker's payload encryption so what they send is encrypted like the rest.
  const fleetClient = new Client({
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.codec
      ? {
          dataConverter: {
            payloadCodecs: [new AesGcmCodec(options.codec.keys, options.codec.activeKeyId, { strict: options.codec.strict })],
          },
        }
      : {}),
  });
  const evidence =
    typeof options.evidence === 'object'
      ? options.evidence
      : new JsonlEvidenceSink<EvidenceContent>(options.evidence ?? join(process.cwd(), 'evidence'));
  const workerOptions: WorkerOptions = {
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    taskQueue: options.taskQueue,
    activities: {
      ...createFleetActivities({ client: fleetClient }),
      // Redrives read the scan's earlier attempts and start the next one over the same client (its codec decodes them).
      ...createRedriveActivities({ client: fleetClient }),
      ...createEvidenceActivities({ sink: evidence, workerVersion: PACKAGE_VERSION, starterOf: temporalStarterLookup(fleetClient) }),
      ...(options.activities ??
        createActivities({
          servers: options.servers,
          events: options.events,
          polling: options.polling,
          // Given-up deliveries are written to the same evidence chain as the runs they concern.
          notifications: { ...options.notifications, evidence, workerVersion: PACKAGE_VERSION },
        })),
    },
    ...options.tuning,
    ...(options.versioning
      ? {
          workerDeploymentOptions: {
            version: { deploymentName: options.versioning.deploymentName, buildId: options.versioning.buildId },
            useWorkerVersioning: true,
            // Every workflow type is pinned: replaying a history on another build's code is what pinning
            // exists to avoid (docs/versioning.md, "Deployments"). Set here, not per workflow with
            // setWorkflowOptions: an unversioned worker refuses every task of a workflow that names one.
            defaultVersioningBehavior: 'PINNED',
          },
        }
      : {}),
    // Heartbeats reach the server at most once per 80 % of the activity's heartbeat timeout; the SDK
    // caps that at 60 s unless told otherwise, which would make a held wait with a long timeout (a
    // run's heartbeatTimeout, chosen to spend fewer server requests) heartbeat every minute anyway.
    maxHeartbeatThrottleInterval: '10m',
    // With encryption, failure messages and stack traces are encrypted too: they are CCS's words.
    ...(options.codec
      ? {
          dataConverter: {
            payloadCodecs: [new AesGcmCodec(options.codec.keys, options.codec.activeKeyId, { strict: options.codec.strict })],
            failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH,
          },
        }
      : {}),
    ...(options.tracing ? await tracingOptions(options.tracing) : {}),
    // A prebuilt bundle holds no tracing interceptors (they are compiled in): with tracing on the
    // workflows are bundled at start-up, with them, instead (a few seconds, once per worker start).
    ...(options.workflowBundlePath && !options.tracing
      ? { workflowBundle: { codePath: bundleToLoad(options.workflowBundlePath, options.codec !== undefined) } }
      : { workflowsPath: require.resolve('../workflows') }),
    ...(options.failWorkflowOnBug ? { workflowFailureErrorTypes: { '*': ['Error', 'TypeError', 'ReferenceError', 'CcsError'] } } : {}),
  };
  return Worker.create(workerOptions);
}
