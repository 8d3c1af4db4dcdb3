/**
 * The CLI's Temporal client: connection settings by Temporal's own conventions (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), overridable by --address and --namespace.
 */
import { hostname, userInfo } from 'node:os';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { AesGcmCodec, encryptingDataConverter } from '../hosting/codec';
import { loadCodecConfig } from '../hosting/config';
import { CliError } from './output';

export interface GlobalOptions {
  address?: string | undefined;
  namespace?: string | undefined;
  taskQueue: string;
  verbose: boolean;
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
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...config.connectionOptions, address, connectTimeout: '5s' });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${address} (${(err as Error).message.split('\n')[0]}); start it or set TEMPORAL_ADDRESS / --address`,
    );
  }
  return {
    client: new Client({
      connection,
      namespace,
      identity: cliIdentity(),
      ...(codec ? { dataConverter: encryptingDataConverter(new AesGcmCodec(codec.keys, codec.activeKeyId)) } : {}),
    }),
    namespace,
    taskQueue: options.taskQueue,
    close: () => connection.close(),
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
