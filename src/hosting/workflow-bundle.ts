/**
 * The workflow bundles a worker loads. Two are built from the same code, because the failure
 * converter is compiled into a bundle: the plain one, and one whose failures carry their message and
 * stack trace as encoded attributes, which a worker with CCS_CODEC_KEYS loads so that the codec
 * encrypts them (see domain/encoded-failures.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type Logger } from '@temporalio/worker';

/** The encoded-failures converter, by path (the SDK loads converters by path, in and out of the sandbox). */
export const ENCODED_FAILURES_CONVERTER_PATH = join(__dirname, '../domain/encoded-failures');
const WORKFLOWS_PATH = join(__dirname, '../workflows');

/** Where the encoded-failures bundle sits beside the plain bundle at `path`. */
export function encodedFailuresBundlePath(path: string): string {
  return `${path.replace(/\.js$/, '')}.encoded-failures.js`;
}

/** The bundle a worker loads from `path` (WORKFLOW_BUNDLE_PATH), given whether payloads are encrypted. */
export function bundleToLoad(path: string, encrypted: boolean): string {
  if (!encrypted) return path;
  const encoded = encodedFailuresBundlePath(path);
  if (!existsSync(encoded)) {
    throw new Error(
      `WORKFLOW_BUNDLE_PATH: ${encoded} is missing; payload encryption needs the bundle that encodes failures, written beside ${path} by bundle-workflows`,
    );
  }
  return encoded;
}

/** Builds both bundles' code. */
export async function buildWorkflowBundles(logger?: Logger): Promise<{ plain: string; encodedFailures: string }> {
  const options = { workflowsPath: WORKFLOWS_PATH, ...(logger ? { logger } : {}) };
  const plain = await bundleWorkflowCode(options);
  const encodedFailures = await bundleWorkflowCode({ ...options, failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH });
  return { plain: plain.code, encodedFailures: encodedFailures.code };
}
