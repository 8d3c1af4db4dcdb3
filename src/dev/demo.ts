/**
 * `npm run demo`: the main job on the embedded default. Starts a local Temporal dev server, the CCS
 * simulator and a worker; runs a small scan pipeline (a data collection, then two evaluations in
 * parallel, one of which faults) with live progress; prints the report; stops everything.
 * Ctrl-C at any point stops everything cleanly.
 */
import { WorkflowName } from '../domain/contract';
import { waitForPipeline } from '../cli/progress';
import { startStack, type Stack } from './stack';
import type { PipelineDefinition } from '../domain/pipeline';
import { DEFAULT_JOBS } from '../sim/default-scenario';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceContent } from '../domain/evidence';
import type { Chained } from '../evidence/chain';
import { renderPipelineReport } from '../evidence/html-report';
import { JsonlEvidenceSink } from '../evidence/jsonl-sink';

const [collection, cisEvaluation, pciEvaluation] = DEFAULT_JOBS;

export const DEMO_PIPELINE: PipelineDefinition = {
  name: 'demo compliance scan',
  pollInterval: '1s',
  timeout: '10m',
  stages: [
    { name: 'collect', jobs: [collection!.JobID] },
    { name: 'evaluate', jobs: [cisEvaluation!.JobID, pciEvaluation!.JobID], continueOnFailure: true },
  ],
};

/** The pipeline's evidence record (written by the workflow as it closed), and its report as an HTML page. */
async function writeEvidence(stack: Stack, workflowId: string, say: (line: string) => void): Promise<void> {
  const sink = new JsonlEvidenceSink<EvidenceContent>(stack.evidenceDir);
  let record: (EvidenceContent & Chained) | undefined;
  for await (const r of sink.records()) if (r?.workflowId === workflowId && r.kind === 'pipeline') record = r;
  if (!record?.pipeline) {
    say(`no evidence record for ${workflowId} in ${stack.evidenceDir}`);
    return;
  }
  const reports = join(stack.evidenceDir, 'reports');
  mkdirSync(reports, { recursive: true });
  const html = join(reports, `${workflowId}.html`);
  writeFileSync(
    html,
    renderPipelineReport({
      workflowId,
      report: record.pipeline,
      generatedAt: new Date().toISOString(),
      source: `evidence record ${record.seq}`,
    }),
  );
  say(
    `evidence: record ${record.seq} (sha256 ${record.hash.slice(0, 16)}…) in ${stack.evidenceDir}; check it with: npx ccs-jobs evidence verify --dir ${stack.evidenceDir}`,
  );
  say(`report: ${html}`);
}

async function demo(): Promise<number> {
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  let stack: Stack | undefined;
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping the worker, the simulator and the Temporal dev server...');
    await stack?.stop();
  };
  const interrupted = new Promise<number>((resolve) => {
    process.once('SIGINT', () => void stopAll().then(() => resolve(130)));
    process.once('SIGTERM', () => void stopAll().then(() => resolve(143)));
  });
  const main = async (): Promise<number> => {
    stack = await startStack(say);
    if (stopping) return 130;
    say(
      `\nrunning pipeline "${DEMO_PIPELINE.name}": ${DEMO_PIPELINE.stages.map((s) => `${s.name} (${s.jobs.length} job${s.jobs.length > 1 ? 's' : ''})`).join(' → ')}`,
    );
    const handle = await stack.client.workflow.start(WorkflowName.runCcsPipeline, {
      taskQueue: stack.taskQueue,
      workflowId: `demo-scan-${Date.now()}`,
      args: [DEMO_PIPELINE],
    });
    say(`  workflow ${handle.workflowId}: ${stack.temporal.uiUrl}/namespaces/default/workflows/${handle.workflowId}\n`);
    const code = await waitForPipeline(
      handle,
      stack.client,
      { write: (t) => process.stdout.write(t), isTTY: Boolean(process.stdout.isTTY) },
      false,
    );
    say(
      `\nthe evaluation that faulted is reported with its CCS exception and messages; exit code of "ccs-jobs pipeline run --wait" would be ${code}.`,
    );
    await writeEvidence(stack, handle.workflowId, say);
    say(`Temporal UI (until the demo stops): ${stack.temporal.uiUrl}`);
    return 0;
  };
  try {
    return await Promise.race([main(), interrupted]);
  } finally {
    await stopAll();
  }
}

if (require.main === module) {
  demo().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`demo failed: ${(err as Error).message}`);
      process.exitCode = 1;
    },
  );
}
