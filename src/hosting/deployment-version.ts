/**
 * A versioned worker's first deploy. Until a worker deployment has a current version, Temporal sends
 * new workflows to unversioned workers, so with only versioned ones they would wait forever: when the
 * deployment has never had one (a fresh server, the demo, a first production deploy), the worker
 * makes its own version current once it polls. Every later rollout is the operator's decision
 * (`temporal worker deployment set-current-version`, docs/operations.md "Versioned deploys"): a
 * worker never takes over from another current version, nor from unversioned workers chosen on purpose.
 */
import type { NativeConnection } from '@temporalio/worker';
import type { WorkerVersioningConfig } from './config/versioning';

/** What {@link ensureCurrentVersion} found or did. */
export type CurrentVersionOutcome =
  | { outcome: 'made-current' }
  | { outcome: 'already-current' }
  | { outcome: 'other-current'; current: string }
  | { outcome: 'unversioned-chosen' }
  | { outcome: 'not-allowed'; reason: string };

/** Thrown when the server cannot do Worker Versioning at all; its message is the one line to print. */
export class WorkerVersioningUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerVersioningUnavailableError';
  }
}

/** The deployment RPCs this needs, as NativeConnection's workflowService offers them. */
export type DeploymentService = Pick<
  NativeConnection['workflowService'],
  'describeWorkerDeployment' | 'describeWorkerDeploymentVersion' | 'setWorkerDeploymentCurrentVersion'
>;

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNIMPLEMENTED = 12;
const CALL_TIMEOUT_MS = 10_000;

export interface EnsureCurrentOptions {
  service: DeploymentService;
  namespace: string;
  versioning: WorkerVersioningConfig;
  identity: string;
  /** How long the version may take to appear (the worker's first poll registers it); default 60 s. */
  timeoutMs?: number;
  /** Stops waiting (the worker is shutting down). */
  stopped?: () => boolean;
  withDeadline?: <R>(deadline: number, fn: () => Promise<R>) => Promise<R>;
}

/**
 * Makes this worker's version current if its deployment has never had a current version; otherwise
 * says which is. Bounded by `timeoutMs`; safe to repeat (the conflict token makes racing workers of
 * one build agree). Throws {@link WorkerVersioningUnavailableError} when the server has no Worker
 * Deployments (unimplemented, or disabled on the namespace).
 */
export async function ensureCurrentVersion(options: EnsureCurrentOptions): Promise<CurrentVersionOutcome> {
  const { service, namespace, versioning, identity } = options;
  const within = options.withDeadline ?? (<R>(_deadline: number, fn: () => Promise<R>) => fn());
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError = 'the deployment did not appear';
  // DescribeWorkerDeployment answers even where versions are disabled; DescribeWorkerDeploymentVersion says so.
  try {
    await within(Date.now() + CALL_TIMEOUT_MS, () =>
      service.describeWorkerDeploymentVersion({
        namespace,
        deploymentVersion: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
      }),
    );
  } catch (err) {
    unavailable(err);
  }
  for (let delay = 200; Date.now() < deadline && !options.stopped?.(); delay = Math.min(delay * 2, 2_000)) {
    try {
      const described = await within(Date.now() + CALL_TIMEOUT_MS, () =>
        service.describeWorkerDeployment({ namespace, deploymentName: versioning.deploymentName }),
      );
      const routing = described.workerDeploymentInfo?.routingConfig;
      const current = routing?.currentDeploymentVersion;
      if (current?.buildId) {
        return current.buildId === versioning.buildId && current.deploymentName === versioning.deploymentName
          ? { outcome: 'already-current' }
          : { outcome: 'other-current', current: current.buildId };
      }
      // Unversioned is current either by default (never set: no change time) or because someone chose it.
      if (routing?.currentVersionChangedTime) return { outcome: 'unversioned-chosen' };
      const ours = (described.workerDeploymentInfo?.versionSummaries ?? []).some(
        (v) => v.deploymentVersion?.buildId === versioning.buildId,
      );
      if (ours) {
        await within(Date.now() + CALL_TIMEOUT_MS, () =>
          service.setWorkerDeploymentCurrentVersion({
            namespace,
            deploymentName: versioning.deploymentName,
            buildId: versioning.buildId,
            identity,
            conflictToken: described.conflictToken,
          }),
        );
        return { outcome: 'made-current' };
      }
    } catch (err) {
      unavailable(err);
      const code = (err as { code?: number }).code;
      const message = (err as Error).message ?? String(err);
      if (code === GRPC_PERMISSION_DENIED) return { outcome: 'not-allowed', reason: message.split('\n')[0]!.slice(0, 200) };
      // NotFound: the worker has not polled yet; FailedPrecondition: a racing worker won, or no pollers seen yet.
      if (code !== GRPC_NOT_FOUND && code !== GRPC_FAILED_PRECONDITION) lastError = message.split('\n')[0]!.slice(0, 200);
    }
    await new Promise((resolve) => setTimeout(resolve, delay).unref());
  }
  return { outcome: 'not-allowed', reason: `gave up after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s: ${lastError}` };
}

/** Throws {@link WorkerVersioningUnavailableError} for an answer that says the server has no Worker Deployments here. */
function unavailable(err: unknown): void {
  const code = (err as { code?: number }).code;
  const message = (err as Error).message ?? String(err);
  if (code === GRPC_UNIMPLEMENTED || (code === GRPC_PERMISSION_DENIED && /disabled/i.test(message))) {
    throw new WorkerVersioningUnavailableError(
      `Temporal cannot run versioned workers here (${message.split('\n')[0]!.slice(0, 160)}): set TEMPORAL_WORKER_VERSIONING=false, or enable Worker Deployments (server 1.28+, dynamic config system.enableDeploymentVersions)`,
    );
  }
}

/** The command that makes this version current, for logs and docs. */
export function setCurrentCommand(versioning: WorkerVersioningConfig, namespace: string): string {
  return `temporal worker deployment set-current-version --namespace ${namespace} --deployment-name ${versioning.deploymentName} --build-id ${versioning.buildId} --yes`;
}
