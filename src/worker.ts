/**
 * `npm run worker`: hosts the workflows and activities on the configured task queue until SIGINT
 * or SIGTERM, then drains (running activities finish) and closes what it opened.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { CcsClient } from './ccs/client';
import { AesGcmCodec, encryptingDataConverter } from './codec';
import { ConfigError, loadConfig } from './config';

export async function runWorker(env: Record<string, string | undefined>): Promise<void> {
  const config = loadConfig(env);
  const client = new CcsClient(config.ccs);
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(config.temporal.connection);
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.taskQueue,
      activities: createActivities({ client }),
      ...(config.codec ? { dataConverter: encryptingDataConverter(new AesGcmCodec(config.codec.keys, config.codec.activeKeyId)) } : {}),
      ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : { workflowsPath: require.resolve('./workflows') }),
    });
    console.log(`worker polling task queue ${config.taskQueue} on ${String(config.temporal.connection.address ?? 'localhost:7233')} (namespace ${config.temporal.namespace}) for CCS ${client.baseUrl}${config.codec ? `, payloads encrypted with key ${config.codec.activeKeyId}` : ''}`);
    // The SDK stops polling on SIGINT/SIGTERM and resolves run() once in-flight tasks have finished.
    await worker.run();
  } finally {
    await client.close();
    await connection?.close();
  }
}

if (require.main === module) {
  runWorker(process.env).catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exitCode = 1;
  });
}
