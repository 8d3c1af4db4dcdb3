/** `ccs-jobs cancel`: the cancel signal to a running job or pipeline workflow. */
import { cancelSignal } from '../domain/contract';
import { CliError, ExitCode } from './output';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';
import { signalRunning } from './workflow-calls';

export const cancelCommand: CommandSpec = {
  name: 'cancel',
  synopsis: 'cancel <workflowId>',
  summary: 'abort the CCS run(s) of a job or pipeline workflow',
  usage: ['ccs-jobs cancel <workflowId> [--reason TEXT]'],
  description: 'Sends the cancel signal: the workflow aborts its CCS run(s) and waits until CCS confirms.',
  flags: [{ name: 'reason', type: 'string', value: 'TEXT', help: 'why, recorded in the result and the evidence' }],
  examples: [
    'ccs-jobs cancel ccs-job-0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16 --reason "maintenance window"',
    'ccs-jobs cancel ccs-pipeline-nightly-scan',
  ],
  async run({ args, flags, out, cli }) {
    const workflowId = args[0];
    if (!workflowId) throw new CliError('name the workflow: ccs-jobs cancel <workflowId>');
    const reason = flags.string('reason');
    await signalRunning(await cli(), workflowId, cancelSignal, [reason ? { reason } : {}], { verb: 'cancel' });
    const id = printable(workflowId);
    out.write(`cancel requested for ${id}; it aborts its CCS run(s) and waits for CCS to confirm (follow with ccs-jobs status ${id})\n`);
    return ExitCode.ok;
  },
};
