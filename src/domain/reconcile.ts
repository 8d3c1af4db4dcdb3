/**
 * Reconcile: no CCS run without an owner. `temporal workflow terminate` runs no workflow code, so a
 * terminated `runCcsJob` leaves its CCS run going, and runs started from the CCS console or a script
 * are invisible to the orchestrator. A reconcile reads the latest runs of a set of jobs and finds every
 * run still going that no running workflow follows (by `CcsJobRunId`). Pure: workflows import it.
 */
import { hasEnded, newestFirst, newestFirstBy, type JobRun } from './job-run';
import { formatDuration, invalidInput, isGuid, parseDuration, preview, validateServerName } from './validation';

export type ReconcilePolicy = 'report' | 'adopt' | 'abort';
export const RECONCILE_POLICIES: readonly ReconcilePolicy[] = ['report', 'adopt', 'abort'];

export interface ReconcileInput {
  /** The configured CCS server (default "default"). */
  ccs?: string;
  /** Which jobs: exactly one of these. */
  jobs?: string[];
  /** A Search Jobs `Attributes` value, e.g. "JobName StartsWith Nightly" (paged). */
  search?: string;
  /** Every job a `runCcsJob` on this server started within this long, e.g. "7d". */
  recent?: string;
  /** What to do with each orphan (default report). */
  policy?: ReconcilePolicy;
  /** Most CCS requests this reconcile may make (default 500): search pages, one jobruns read per job, aborts. */
  maxRequests?: number;
  /** Runs read per job (default 5, at most 50). */
  runsPerJob?: number;
}

export interface ValidReconcileInput {
  ccs: string;
  select: { jobs: string[] } | { search: string } | { recentMs: number };
  policy: ReconcilePolicy;
  maxRequests: number;
  runsPerJob: number;
}

/** A run still going that no running workflow follows, and what was done about it. */
export interface ReconcileFinding {
  jobId: string;
  jobRunId: string;
  status: string;
  startTime: string | null;
  /** `terminated`: a workflow followed it and was closed without ending it; `untracked`: no workflow ever did (console, script). */
  kind: 'terminated' | 'untracked';
  /** The closed workflow that followed it, when there was one. */
  workflowId?: string;
  workflowStatus?: string;
  action: 'reported' | 'adopted' | 'already-adopted' | 'aborted' | 'abort-unconfirmed';
  /** The workflow now following it (adopt). */
  adoptedBy?: string;
}

export interface ReconcileResult {
  ccs: string;
  policy: ReconcilePolicy;
  jobsChecked: number;
  runsInProgress: number;
  /** Runs in progress left alone because a running workflow follows them. */
  tracked: number;
  findings: ReconcileFinding[];
  requests: number;
  /** True when the request budget ran out before every job was checked; `unchecked` lists those jobs. */
  budgetExhausted: boolean;
  unchecked: string[];
  /** Jobs CCS does not know (deleted since they ran): nothing to reconcile there. */
  missing: string[];
}

export const DEFAULT_MAX_REQUESTS = 500;
const MAX_JOBS = 1_000;
const MAX_RECENT_MS = 366 * 86_400_000;

/** Checks a reconcile input; throws `CcsInvalidInput` naming the field and the fix. */
export function validateReconcileInput(raw: unknown): ValidReconcileInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidInput(`reconcile input must be an object like {"jobs": ["<JobID>"], "policy": "report"}; got ${preview(raw)}`);
  const input = raw as Record<string, unknown>;
  const allowed = ['ccs', 'jobs', 'search', 'recent', 'policy', 'maxRequests', 'runsPerJob'];
  const unknown = Object.keys(input).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw invalidInput(`unknown field ${preview(unknown[0])} in reconcile input; allowed: ${allowed.join(', ')}`);
  const ccs = validateServerName('ccs', input.ccs);
  const given = ['jobs', 'search', 'recent'].filter((k) => input[k] !== undefined);
  if (given.length !== 1)
    throw invalidInput(
      `reconcile needs exactly one of jobs (a list of JobIDs), search (Search Jobs attributes) or recent (e.g. "7d"); got ${given.length === 0 ? 'none' : given.join(' and ')}`,
    );
  let select: ValidReconcileInput['select'];
  if (input.jobs !== undefined) {
    if (!Array.isArray(input.jobs) || input.jobs.length === 0 || input.jobs.length > MAX_JOBS)
      throw invalidInput(`jobs must be a list of 1 to ${MAX_JOBS} JobIDs`);
    const bad: unknown = (input.jobs as unknown[]).find((j) => !isGuid(j));
    if (bad !== undefined)
      throw invalidInput(`jobs holds ${preview(bad)}, which is not a JobID (a GUID like 24f58e54-5d94-45f8-97a8-ccb6d959233a)`);
    select = { jobs: [...new Set((input.jobs as string[]).map((j) => j.toLowerCase()))] };
  } else if (input.search !== undefined) {
    if (typeof input.search !== 'string' || input.search.trim() === '' || input.search.length > 1024)
      throw invalidInput('search must be Search Jobs attributes of 1 to 1024 characters, e.g. "JobName StartsWith Nightly"');
    select = { search: input.search };
  } else {
    const recentMs = parseDuration('recent', input.recent);
    if (recentMs < 60_000 || recentMs > MAX_RECENT_MS) throw invalidInput(`recent must be from 1m to 366d; got ${preview(input.recent)}`);
    select = { recentMs };
  }
  const policy = input.policy ?? 'report';
  if (!RECONCILE_POLICIES.includes(policy as ReconcilePolicy))
    throw invalidInput(`policy must be report, adopt or abort; got ${preview(input.policy)}`);
  const maxRequests = input.maxRequests ?? DEFAULT_MAX_REQUESTS;
  if (typeof maxRequests !== 'number' || !Number.isInteger(maxRequests) || maxRequests < 1 || maxRequests > 100_000)
    throw invalidInput(`maxRequests must be a whole number from 1 to 100000; got ${preview(input.maxRequests)}`);
  const runsPerJob = input.runsPerJob ?? 5;
  if (typeof runsPerJob !== 'number' || !Number.isInteger(runsPerJob) || runsPerJob < 1 || runsPerJob > 50)
    throw invalidInput(`runsPerJob must be a whole number from 1 to 50; got ${preview(input.runsPerJob)}`);
  return { ccs, select, policy: policy as ReconcilePolicy, maxRequests, runsPerJob };
}

/** How a selection reads in logs and the CLI. */
export function describeSelection(select: ValidReconcileInput['select']): string {
  if ('jobs' in select) return `${select.jobs.length} job(s)`;
  if ('search' in select) return `jobs matching ${JSON.stringify(select.search)}`;
  return `jobs run in the last ${formatDuration(select.recentMs)}`;
}

/**
 * The runs of one job a reconcile looks at: its latest `runsPerJob` by start time (whatever order CCS
 * listed them in, and however many it answered), those still going, newest first.
 */
export function runsToReconcile(runs: readonly JobRun[], runsPerJob: number): JobRun[] {
  return newestFirst(runs)
    .slice(0, runsPerJob)
    .filter((run) => !hasEnded(run));
}

/** A closed workflow that followed a run, as the fleet activities describe it. */
export interface ClosedTracker {
  workflowId: string;
  status: string;
  /** ISO time it closed; absent in results recorded before it was read. */
  closeTime?: string | null;
}

/**
 * The closed workflow that left a run behind: the one that closed last (a continued-as-new
 * predecessor closed before its continuation), whatever order Temporal's visibility listed them in.
 */
export function lastToClose<T extends ClosedTracker>(closed: readonly T[]): T | undefined {
  return newestFirstBy(
    closed,
    (wf) => wf.closeTime,
    (wf) => wf.workflowId,
  )[0];
}
