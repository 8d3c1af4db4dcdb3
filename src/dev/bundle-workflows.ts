/**
 * `node dist/src/dev/bundle-workflows.js <file>`: writes the workflow bundle that the worker loads
 * through WORKFLOW_BUNDLE_PATH, so a container starts without running webpack. The Dockerfile runs it.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(out: string | undefined): Promise<void> {
  if (!out) throw new Error('usage: bundle-workflows <output file>');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  writeFileSync(out, code);
  console.log(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)`);
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
