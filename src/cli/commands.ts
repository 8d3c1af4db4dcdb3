/** Every `ccs-jobs` command, in the order the overview lists them. */
import { cancelCommand } from './cancel';
import { ccsCommand } from './ccs-server';
import { evidenceCommand } from './evidence';
import { maintenanceCommand } from './maintenance';
import { CliError, ExitCode } from './output';
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

export const notifyCommand: CommandSpec = {
  name: 'notify',
  synopsis: 'notify test --channel NAME',
  summary: 'send a test event to one notification channel',
  verbs: ['test'],
  usage: ['ccs-jobs notify test --channel <name> [--json]'],
  description: `Sends one event of type "test" to the named channel of NOTIFICATIONS_FILE, directly from this
process (no worker, no Temporal; the rules are not consulted), and reports whether the receiver took it.
Exit 0 when it did, 1 when it refused or could not be reached, or the file or channel is wrong.`,
  flags: [
    { name: 'channel', type: 'string', value: 'NAME', verbs: ['test'], help: 'the channel of NOTIFICATIONS_FILE to send to (required)' },
    { name: 'json', type: 'boolean', verbs: ['test'], help: 'machine-readable output' },
  ],
  examples: ['NOTIFICATIONS_FILE=/etc/ccs/notifications.yaml ccs-jobs notify test --channel ops'],
  async run({ args, flags, env, out }) {
    if (args[0] !== 'test') throw new CliError('use ccs-jobs notify test --channel <name> (see ccs-jobs notify --help)');
    const channel = flags.string('channel');
    if (!channel) throw new CliError('--channel is required: the name of a channel in NOTIFICATIONS_FILE, e.g. --channel ops');
    // Loaded on demand: the channels pull in nodemailer and the HTTP client, which other commands do not need.
    return (await import('./notify')).notifyTest(channel, flags.boolean('json'), out, env);
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
  notifyCommand,
  ccsCommand,
  workerCommand,
]);
