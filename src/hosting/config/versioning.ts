/**
 * Worker Versioning settings: the worker deployment this worker belongs to and its build id, so a
 * deploy runs old and new builds side by side and each pinned execution finishes on the build it
 * started on (docs/versioning.md, "Deployments"; docs/operations.md, "Versioned deploys").
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseBoolean, type Env } from './values';

/** The worker deployment name unless TEMPORAL_DEPLOYMENT_NAME says otherwise. */
export const DEFAULT_DEPLOYMENT_NAME = 'ccs-job-orchestrator';

/**
 * The package's version: the nearest package.json above this file named ccs-job-orchestrator (from
 * src/, from the image's dist/src/, and from the local cluster's compiled tree inside the repository).
 */
export const PACKAGE_VERSION = ((): string => {
  for (let dir = __dirname, depth = 0; depth < 8; dir = dirname(dir), depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ccs-job-orchestrator' && pkg.version) return pkg.version;
    } catch {
      // none at this depth
    }
  }
  return 'unknown';
})();

/** Where this worker's deployment version is; undefined in the config when versioning is off. */
export interface WorkerVersioningConfig {
  deploymentName: string;
  buildId: string;
  /** True when no commit was given (CCS_BUILD_COMMIT unset): two such builds share a build id. */
  localBuild: boolean;
}

// The server refuses '.' and ':' in a deployment name and '__' at the start of either; each is cut in
// half of the workflow id limit (255 in compose's dynamic config) less a prefix, so 100 is safe.
const NAME = /^(?!__)[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const BUILD_ID = /^(?!__)[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const COMMIT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/;

/**
 * TEMPORAL_WORKER_VERSIONING (default true; false for a server without Worker Deployments),
 * TEMPORAL_DEPLOYMENT_NAME (default ccs-job-orchestrator) and TEMPORAL_WORKER_BUILD_ID (default
 * `<package version>+<CCS_BUILD_COMMIT>`, the image's build argument; `+dev` without one).
 */
export function loadVersioning(env: Env, problems: string[], version = PACKAGE_VERSION): WorkerVersioningConfig | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const on =
    get('TEMPORAL_WORKER_VERSIONING') === undefined
      ? true
      : parseBoolean('TEMPORAL_WORKER_VERSIONING', env.TEMPORAL_WORKER_VERSIONING, problems);
  const deploymentName = get('TEMPORAL_DEPLOYMENT_NAME') ?? DEFAULT_DEPLOYMENT_NAME;
  if (!NAME.test(deploymentName)) {
    problems.push(
      `TEMPORAL_DEPLOYMENT_NAME must be 1 to 100 letters, digits, '-' or '_' (no '.' or ':'; Temporal refuses them), not starting with '__'; got ${JSON.stringify(deploymentName)}`,
    );
  }
  let commit = get('CCS_BUILD_COMMIT');
  if (commit !== undefined && !COMMIT.test(commit)) {
    problems.push(`CCS_BUILD_COMMIT must be a commit id such as 1a2b3c4 (letters, digits, '.', '-', '_'); got ${JSON.stringify(commit)}`);
    commit = 'dev'; // not reported a second time as a bad build id
  }
  const buildId = get('TEMPORAL_WORKER_BUILD_ID') ?? `${version}+${commit ?? 'dev'}`;
  if (!BUILD_ID.test(buildId)) {
    problems.push(
      `TEMPORAL_WORKER_BUILD_ID must be 1 to 100 letters, digits, '.', '+', '-' or '_', not starting with '__', e.g. 1.0.0+1a2b3c4; got ${JSON.stringify(buildId)}`,
    );
  }
  if (!on) return undefined;
  return Object.freeze({ deploymentName, buildId, localBuild: get('TEMPORAL_WORKER_BUILD_ID') === undefined && commit === undefined });
}
