/**
 * `node dist/src/dev/bundle-workflows.js <file>`: writes the workflow bundle that the worker loads
 * through WORKFLOW_BUNDLE_PATH, and beside it the one a worker with payload encryption loads, so a
 * container starts without running webpack. The Dockerfile runs it.
 */
import { writeFileSync } from 'node:fs';
import { buildWorkflowBundles, encodedFailuresBundlePath } from '../hosting/workflow-bundle';

async function main(out: string | undefined): Promise<void> {
  if (!out) throw new Error('usage: bundle-workflows <output file>');
  const { plain, encodedFailures } = await buildWorkflowBundles();
  writeFileSync(out, plain);
  writeFileSync(encodedFailuresBundlePath(out), encodedFailures);
  console.log(`workflow bundles written to ${out} and ${encodedFailuresBundlePath(out)} (${Math.round(plain.length / 1024)} KiB each)`);
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
