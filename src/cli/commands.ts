/** Every `ccs-jobs` command, in the order the overview lists them. */
import { cancelCommand } from './cancel';
import { ccsCommand } from './ccs-server';
import { evidenceCommand } from './evidence';
import { maintenanceCommand } from './maintenance';
import { ExitCode } from './output';
import { pauseCommand, resumeCommand } from './pause';
import { pipelineCommand } from './pipeline-command';
import { reconcileCommand } from './reconcile';
import { reportCommand } from './report';
import { runCommand } from './run-command';
import { scheduleCommand } from './schedules';
import type { CommandSpec } from './spec';
import { listCommand, statusCommand } from './status-command';

export const workerCommand: CommandSpec = {
  name: 'worker',
  synopsis: 'worker',
  summary: 'run a worker (same as npm run worker)',
  usage: ['ccs-jobs worker'],
  description: `Runs a worker configured from the environment (see .env.example): CCS_BASE_URL, CCS_USERNAME,
CCS_PASSWORD or CCS_PASSWORD_FILE, CCS_CA_FILE, CCS_TLS_INSECURE, TEMPORAL_* and TEMPORAL_TASK_QUEUE.
SIGINT/SIGTERM stop polling and let running activities finish; a stopping worker never aborts a CCS run.`,
  flags: [],
  examples: [
    "CCS_BASE_URL=https://ccs-app01:12431/ccs/api/v1 CCS_USERNAME='CORP\\\\svc-ccs' CCS_PASSWORD_FILE=/run/secrets/ccs \\\n  CCS_CA_FILE=/etc/ccs/ca.pem TEMPORAL_ADDRESS=temporal:7233 ccs-jobs worker",
  ],
  async run({ env }) {
    // Loaded on demand: the worker pulls in the SDK's native runtime, which other commands do not need.
    await (await import('../worker')).runWorker(env);
    return ExitCode.ok;
  },
};

export const COMMANDS: readonly CommandSpec[] = Object.freeze([
  runCommand,
  statusCommand,
  cancelCommand,
  pauseCommand,
  resumeCommand,
  evidenceCommand,
  reportCommand,
  reconcileCommand,
  maintenanceCommand,
  listCommand,
  pipelineCommand,
  scheduleCommand,
  ccsCommand,
  workerCommand,
]);
