/** `ccs-jobs pipeline validate|run`: scan pipelines from a YAML or JSON file. */
import { WorkflowName, pipelineWorkflowId } from '../domain/contract';
import { CliError, ExitCode } from './output';
import { loadPipelineFile } from './pipeline-file';
import { waitForPipeline } from './progress';
import { requesterOf } from './run-command';
import type { CommandSpec } from './spec';
import { printable } from './terminal-text';
import { startOrAttach } from './workflow-calls';

export const pipelineCommand: CommandSpec = {
  name: 'pipeline',
  synopsis: 'pipeline run|validate',
  summary: 'scan pipelines from a YAML or JSON file',
  verbs: ['validate', 'run'],
  usage: ['ccs-jobs pipeline validate <file>', 'ccs-jobs pipeline run <file> [--wait] [--id <workflowId>] [--requested-by TEXT] [--json]'],
  description: `A pipeline file (YAML or JSON):
  name: nightly scan
  timeout: 8h
  stages:
    - name: collect
      jobs: [0b3b6ac7-acc9-42f1-9db9-bf89d7bd6e16]
    - name: evaluate
      continueOnFailure: false
      jobs:
        - 24f58e54-5d94-45f8-97a8-ccb6d959233a
        - { jobId: a282d163-2248-4904-8135-0eaf08be8e55, timeout: 2h, pollInterval: 1m }
        - { name: "Reporting - monthly compliance" }
Stages run in order; the jobs of a stage run in parallel. A failed job stops the pipeline and
aborts its running siblings unless the stage says continueOnFailure. A job given by name is resolved
once when the pipeline starts: exactly one CCS job of that name, else the pipeline fails before any
stage, listing the candidates.`,
  flags: [
    { name: 'wait', type: 'boolean', verbs: ['run'], help: 'follow the pipeline until it ends; exit 0 when Completed, non-zero otherwise' },
    { name: 'id', type: 'string', value: 'WORKFLOW_ID', verbs: ['run'], help: 'the workflow id (default ccs-pipeline-<name as a slug>)' },
    {
      name: 'requested-by',
      type: 'string',
      value: 'TEXT',
      verbs: ['run'],
      help: 'who asks, for the evidence record, unless the file says (default $USER)',
    },
    { name: 'json', type: 'boolean', verbs: ['run'], help: 'machine-readable output' },
  ],
  examples: ['ccs-jobs pipeline validate scans/nightly.yaml', 'ccs-jobs pipeline run scans/nightly.yaml --wait'],
  async run({ args, flags, env, out, cli }) {
    const [verb, file] = args;
    if (verb !== 'run' && verb !== 'validate') throw new CliError('use ccs-jobs pipeline run <file> or ccs-jobs pipeline validate <file>');
    if (!file) throw new CliError(`name the pipeline file: ccs-jobs pipeline ${verb} <file>`);
    const definition = loadPipelineFile(file);
    const jobs = definition.stages.reduce((n, s) => n + s.jobs.length, 0);
    const shape = `${definition.stages.length} stage(s)`;
    if (verb === 'validate') {
      out.write(`${printable(file)}: valid pipeline ${printable(JSON.stringify(definition.name))} with ${shape} and ${jobs} job(s)\n`);
      return ExitCode.ok;
    }
    const requester = requesterOf(flags, env);
    if (requester && definition.requestedBy === undefined) definition.requestedBy = requester;
    const json = flags.boolean('json');
    const wait = flags.boolean('wait');
    const c = await cli();
    const started = await startOrAttach(c, WorkflowName.runCcsPipeline, flags.string('id') ?? pipelineWorkflowId(definition.name), [
      definition,
    ]);
    const { workflowId, attached } = started;
    if (!json)
      out.write(
        `${attached ? 'attached to the running' : 'started'} ${WorkflowName.runCcsPipeline} ${printable(workflowId)}: ${shape}, ${jobs} job(s)\n`,
      );
    else if (!wait) out.write(`${JSON.stringify({ workflowId, attached })}\n`);
    return wait ? waitForPipeline(started.handle, c.client, out, json, started.startTime) : ExitCode.ok;
  },
};
