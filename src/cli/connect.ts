/**
 * The CLI's Temporal client: connection settings by Temporal's own conventions (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), overridable by --address and --namespace.
 */
import { hostname, userInfo } from 'node:os';
import type { Span } from '@opentelemetry/api';
import { Client, Connection, WorkflowNotFoundError, type WorkflowClientInterceptor } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { AesGcmCodec, encryptingDataConverter } from '../hosting/codec';
import { loadCodecConfig } from '../hosting/config';
import { startTracing, type Tracing } from '../hosting/observability/tracing';
import { CliError } from './output';

export interface GlobalOptions {
  address?: string | undefined;
  namespace?: string | undefined;
  taskQueue: string;
  verbose: boolean;
  /** The command being run (`pipeline`, `run`, …): names the CLI's span when tracing is on. */
  command?: string | undefined;
}

export interface Cli {
  client: Client;
  namespace: string;
  taskQueue: string;
  close: () => Promise<void>;
}

export async function connect(options: GlobalOptions, env: Record<string, string | undefined>): Promise<Cli> {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith('TEMPORAL_') && e[1] !== undefined),
  );
  const config = loadClientConnectConfig({ overrideEnvVars, disableFile: !env.TEMPORAL_CONFIG_FILE });
  const address = options.address ?? config.connectionOptions.address ?? 'localhost:7233';
  const namespace = options.namespace ?? config.namespace ?? 'default';
  const problems: string[] = [];
  const codec = loadCodecConfig(env, problems);
  if (problems.length > 0) throw new CliError(problems.join('; '));
  let tracing: Tracing | undefined;
  try {
    tracing = await startTracing(env, 'ccs-jobs');
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const traced = tracing ? await cliTracing(tracing, options.command ?? 'command', namespace) : undefined;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.connectionOptions, address, connectTimeout: '5s' });
  } catch (err) {
    await traced?.end();
    throw new CliError(
      `cannot reach Temporal at ${address} (${(err as Error).message.split('\n')[0]}); start it or set TEMPORAL_ADDRESS / --address`,
    );
  }
  return {
    client: new Client({
      connection,
      namespace,
      identity: cliIdentity(),
      ...(traced ? { interceptors: { workflow: traced.interceptors } } : {}),
      ...(codec
        ? { dataConverter: encryptingDataConverter(new AesGcmCodec(codec.keys, codec.activeKeyId, { strict: codec.strict })) }
        : {}),
    }),
    namespace,
    taskQueue: options.taskQueue,
    close: async () => {
      try {
        await connection.close();
      } finally {
        // After the command's last call, before the process exits: the CLI's spans are sent, not lost.
        await traced?.end();
      }
    },
  };
}

/** The client calls the SDK's interceptor traces: each runs under the CLI's span. */
const CLIENT_CALLS = [
  'startWithDetails',
  'signal',
  'signalWithStart',
  'startUpdate',
  'startUpdateWithStart',
  'query',
  'terminate',
  'cancel',
  'describe',
] as const;

/**
 * The CLI's tracing: one span, `ccs-jobs <command>`, from connecting to closing, made the parent of
 * every call the client makes, and the SDK's client interceptor, which carries that context in the
 * headers of what it starts, signals or queries, so the workflow and its activities join the trace.
 */
async function cliTracing(
  tracing: Tracing,
  command: string,
  namespace: string,
): Promise<{ interceptors: WorkflowClientInterceptor[]; end: () => Promise<void> }> {
  const [api, { OpenTelemetryWorkflowClientInterceptor }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  // Only the command's name and the namespace: arguments may be file paths, job names or ids.
  const span: Span = tracing.tracer.startSpan(`ccs-jobs ${command}`, {
    attributes: { 'ccs.cli.command': command, 'temporal.namespace': namespace },
  });
  const parent = api.trace.setSpan(api.context.active(), span);
  // The command's calls run outside any context the CLI could enter: each is put under the CLI span here.
  const within = (input: never, next: (input: never) => Promise<unknown>) => api.context.with(parent, () => next(input));
  const underCliSpan = Object.fromEntries(CLIENT_CALLS.map((call) => [call, within])) as WorkflowClientInterceptor;
  return {
    interceptors: [underCliSpan, new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })],
    end: async () => {
      span.end();
      await tracing.shutdown();
    },
  };
}

/**
 * The identity Temporal records for what this CLI starts, signals and cancels, and evidence records
 * as the starter: the operating-system account (not $USER, which anyone can set) and the host.
 */
export function cliIdentity(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `ccs-jobs:${user}@${hostname()}`;
}

/** Turns "workflow not found" into a one-line CLI error naming the id; rethrows anything else. */
export function notFound(workflowId: string, namespace: string) {
  return (err: unknown): never => {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5) {
      throw new CliError(`no workflow with id ${JSON.stringify(workflowId)} in namespace ${namespace}; see ccs-jobs list --all`);
    }
    throw err;
  };
}
