/**
 * The workflow bundle for a test run, built once, written to a temporary file and handed to tests
 * as `workflowBundlePath`. Needs no Temporal server: the unit tier's only global setup.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWorkflowBundles, encodedFailuresBundlePath } from '../../src/hosting/workflow-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    temporalCliPath: string;
  }
}

/** Bundles src/workflows (both bundles) into a temporary directory; returns the plain one's path and a clean-up. */
export async function buildBundle(): Promise<{ path: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ccs-test-'));
  const bundles = await buildWorkflowBundles({ trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} });
  const path = join(dir, 'workflow-bundle.js');
  writeFileSync(path, bundles.plain);
  writeFileSync(encodedFailuresBundlePath(path), bundles.encodedFailures);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export default async function setup(project: TestProject): Promise<() => void> {
  const bundle = await buildBundle();
  project.provide('workflowBundlePath', bundle.path);
  return bundle.remove;
}
