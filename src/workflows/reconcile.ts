/**
 * `reconcileCcsRuns`: finds CCS runs still going that no running workflow follows, on one CCS server,
 * for a set of jobs (explicit, a Search Jobs query, or the jobs run lately), and reports, adopts or
 * aborts each. Bounded: one `jobruns` read per job, paged searches, a request budget for the whole
 * reconcile. Only reads unless the policy says otherwise.
 */
import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import {
  describeSelection,
  lastToClose,
  runsToReconcile,
  validateReconcileInput,
  type ReconcileFinding,
  type ReconcileInput,
  type ReconcileResult,
} from '../domain/reconcile';
import { ErrorType } from '../domain/errors';
import { activitySummary } from '../domain/ui-summary';
import { ccsCall, fleetCall } from './activity-options';

/** Jobs per Search Jobs page, and the most pages read. */
const SEARCH_PAGE = 50;
const MAX_SEARCH_PAGES = 20;
/** How long an abort is confirmed for (the reconcile reports it unconfirmed after that). */
const ABORT_CONFIRM_MS = 60_000;

export async function reconcileCcsRuns(raw: ReconcileInput): Promise<ReconcileResult> {
  let input;
  try {
    input = validateReconcileInput(raw);
  } catch (err) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, nonRetryable: true, message: (err as Error).message });
  }
  const { ccs, select, policy, maxRequests, runsPerJob } = input;
  const result: ReconcileResult = {
    ccs,
    policy,
    jobsChecked: 0,
    runsInProgress: 0,
    tracked: 0,
    findings: [],
    requests: 0,
    budgetExhausted: false,
    unchecked: [],
    missing: [],
  };
  const spend = (n: number): boolean => {
    if (result.requests + n > maxRequests) return false;
    result.requests += n;
    return true;
  };

  let jobs: string[];
  if ('jobs' in select) jobs = select.jobs;
  else if ('recentMs' in select) jobs = await fleetCall.recentJobIds({ ccs, since: new Date(Date.now() - select.recentMs).toISOString() });
  else {
    const found = new Set<string>();
    let largest = 0;
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      if (!spend(1)) {
        result.budgetExhausted = true;
        break;
      }
      const ids = await ccsCall.searchJobIds({ ccs, search: select.search, page, pageSize: SEARCH_PAGE });
      const fresh = ids.filter((id) => !found.has(id));
      fresh.forEach((id) => found.add(id));
      // CCS may serve fewer per page than asked (its maximum is undocumented): the last page is the
      // first one shorter than the longest seen, or empty. A page of nothing new means CCS ignores
      // paging; stop rather than loop.
      largest = Math.max(largest, ids.length);
      if (ids.length === 0 || ids.length < largest || fresh.length === 0) break;
    }
    jobs = [...found];
  }
  log.info('reconcile started', { ccs, policy, selection: describeSelection(select), jobs: jobs.length });

  for (const [i, jobId] of jobs.entries()) {
    if (!spend(1)) {
      result.budgetExhausted = true;
      result.unchecked = jobs.slice(i);
      break;
    }
    let runs;
    try {
      runs = await ccsCall.listJobRuns.executeWithOptions({ summary: activitySummary.listRuns(jobId, ccs) }, [
        { jobId, count: runsPerJob, ccs },
      ]);
    } catch (err) {
      // A job deleted in CCS since it last ran (or never on this server) has no runs to own: noted, not fatal.
      const type = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
      if (type !== ErrorType.NotFound && type !== ErrorType.BadRequest) throw err;
      result.missing.push(jobId);
      continue;
    }
    result.jobsChecked++;
    for (const run of runsToReconcile(runs, runsPerJob)) {
      result.runsInProgress++;
      const trackers = await fleetCall.trackersOfRun({ jobId, jobRunId: run.jobRunId });
      if (trackers.running.length > 0) {
        result.tracked++;
        continue;
      }
      const owner = lastToClose(trackers.closed);
      const finding: ReconcileFinding = {
        jobId,
        jobRunId: run.jobRunId,
        status: run.status,
        startTime: run.startTime,
        kind: owner ? 'terminated' : 'untracked',
        ...(owner ? { workflowId: owner.workflowId, workflowStatus: owner.status } : {}),
        action: 'reported',
      };
      if (policy === 'adopt') {
        const adoption = await fleetCall.adoptRun({ ccs, jobId, jobRunId: run.jobRunId });
        finding.action = adoption.started ? 'adopted' : 'already-adopted';
        finding.adoptedBy = adoption.workflowId;
      } else if (policy === 'abort') {
        // An abort and its confirmation reads: counted against the budget as they are made.
        if (!spend(2)) {
          result.budgetExhausted = true;
        } else {
          const aborted = await ccsCall.abortOrphanRun.executeWithOptions({ summary: activitySummary.abort(run.jobRunId, ccs) }, [
            { ccs, jobId, jobRunId: run.jobRunId, confirmWithinMs: ABORT_CONFIRM_MS },
          ]);
          result.requests += Math.max(0, aborted.requests - 2);
          finding.action = aborted.confirmed ? 'aborted' : 'abort-unconfirmed';
          finding.status = aborted.status;
        }
      }
      log.warn('CCS run without an owner', { ...finding });
      result.findings.push(finding);
    }
  }
  log.info('reconcile done', {
    ccs,
    jobsChecked: result.jobsChecked,
    findings: result.findings.length,
    requests: result.requests,
    budgetExhausted: result.budgetExhausted,
  });
  return result;
}
