/** The worker process of the timer-loop baseline: same configuration variables and tuning as ours. */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { CcsClient } from '../../src/ccs/client';
import { loadConfig } from '../../src/hosting/config';
import { timerLoopActivities } from './timer-loop-activities';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const client = new CcsClient(config.ccsServers.default!);
  const connection = await NativeConnection.connect(config.temporal.connection);
  const worker = await Worker.create({
    connection,
    taskQueue: config.taskQueue,
    workflowsPath: require.resolve('./timer-loop-workflow'),
    activities: timerLoopActivities(client),
    ...config.tuning,
  });
  console.log('timer-loop worker started');
  await worker.run();
  await client.close();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
