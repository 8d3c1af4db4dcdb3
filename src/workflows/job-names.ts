/**
 * Jobs given by name, resolved once before anything starts: `resolveCcsJobNames` (what `ccs-jobs run
 * --name` asks the worker, which holds the CCS credentials) and the pipeline's `{ name: … }` entries
 * share this. Every name is looked up (one Search Job by Name each, in parallel), and every problem is
 * reported at once.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { CcsActivities } from '../activities';
import { CcsError, ErrorType } from '../domain/errors';
import { requireJobName, resolveJobName } from '../domain/job-names';
import { validateServerName } from '../domain/validation';
import { CCS_CALL } from './activity-options';

/**
 * A lookup happens before anything starts, so it need not outlast an outage: retried like any CCS
 * call for at most two minutes, then the caller hears why.
 */
const lookup = proxyActivities<CcsActivities>({ ...CCS_CALL, scheduleToCloseTimeout: '2m' });

export interface JobNameQuery {
  name: string;
  /** The configured CCS server to ask; default "default". */
  ccs?: string;
}

export interface ResolvedJobName {
  name: string;
  ccs: string;
  jobId: string;
}

export interface ResolveCcsJobNamesInput {
  names: JobNameQuery[];
}

/** At most this many names per resolution (a pipeline's jobs, or one CLI call). */
export const MAX_NAMES = 200;

/** Resolves every name, or fails `CcsInvalidInput` listing each name that did not resolve to exactly one job. */
export async function resolveNames(queries: JobNameQuery[]): Promise<ResolvedJobName[]> {
  // Indexed by query, so problems read in the order the names were given, whichever answer came first.
  const found: (string | undefined)[] = [];
  const lookups = queries.map(async (query, i): Promise<ResolvedJobName | null> => {
    try {
      const name = requireJobName(`names[${i}].name`, query.name);
      const ccs = validateServerName(`names[${i}].ccs`, query.ccs);
      const found = await lookup.findJobsByName({ name, ccs });
      return { name, ccs, jobId: resolveJobName(name, ccs, found.candidates, found.total) };
    } catch (err) {
      // A name that is not one job, or a bad field, is the caller's to fix: collected. CCS refusing
      // the lookup (credentials, permissions, an outage past the bound) fails the whole resolution.
      if (err instanceof CcsError && err.type === ErrorType.InvalidInput) found[i] = err.message;
      else if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === ErrorType.InvalidInput)
        found[i] = err.cause.message;
      else throw err;
      return null;
    }
  });
  const resolved = await Promise.all(lookups);
  const problems = found.filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: problems.length === 1 ? problems[0]! : `${problems.length} job names did not resolve: ${problems.join('; ')}`,
      details: [{ problems }],
    });
  }
  return resolved as ResolvedJobName[];
}

/**
 * `resolveCcsJobNames`: the JobIDs behind job names, asked of the worker (which holds the CCS
 * credentials) so a CLI without them can still start jobs by name. Reads only; starts nothing.
 */
export async function resolveCcsJobNames(input: ResolveCcsJobNamesInput): Promise<{ jobs: ResolvedJobName[] }> {
  if (
    typeof input !== 'object' ||
    input === null ||
    !Array.isArray(input.names) ||
    input.names.length === 0 ||
    input.names.length > MAX_NAMES
  ) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      nonRetryable: true,
      message: `names must be a list of 1 to ${MAX_NAMES} {"name": "<JobName>", "ccs"?: "<server>"}`,
    });
  }
  return { jobs: await resolveNames(input.names) };
}
