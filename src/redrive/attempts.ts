/**
 * The attempts of one scan as Temporal keeps them (`<root>`, `<root>/redrive-1`, ...), read over a
 * `@temporalio/client` Client: shared by `ccs-jobs pipeline redrive` (its pre-checks) and the worker's
 * activity `readRedriveSource` (the check that counts, made again whoever started the redrive).
 * Node-side: workflows never import it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { childWorkflowId, type RunCcsJobResult } from '../domain/contract';
import { ErrorType } from '../domain/errors';
import { resolveJobName, type JobCandidate } from '../domain/job-names';
import {
  namedJobs,
  pipelineProblems,
  withResolvedNames,
  type PipelineDefinition,
  type PipelineJobReport,
  type PipelineReport,
  type PipelineStageReport,
} from '../domain/pipeline';
import {
  MAX_REDRIVES,
  attemptOf,
  isRedriveInput,
  redriveWorkflowId,
  scanRootId,
  type ReadRedriveSourceInput,
  type RedriveSource,
} from '../domain/redrive';

export interface ScanAttempt {
  workflowId: string;
  runId: string;
  /** 0 for the scan's first attempt, n for `/redrive-<n>`. */
  attempt: number;
  /** The describe status name: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
  status: string;
  /** The attempt's report once it ended (result, failure details, or rebuilt from its children); null while running. */
  report: PipelineReport | null;
  /** The attempt's start input, decoded: a definition (the first attempt) or a PipelineRedriveInput. */
  input: unknown;
}

function refused(line: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(line, ErrorType.RedriveRefused);
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as { code?: number })?.code === 5;
}

/** The report a pipeline's failure carries as its details (a failed pipeline throws with details [report]), if any. */
export function reportOfFailure(err: unknown): PipelineReport | undefined {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : undefined;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  const report = cause instanceof ApplicationFailure ? (cause.details?.[0] as PipelineReport | undefined) : undefined;
  return report?.stages ? report : undefined;
}

/** An execution's start input (history event 1), decoded with the client's data converter (its codec included). */
async function startInputOf(client: Client, workflowId: string, runId: string): Promise<unknown> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payloads = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  return payloads?.length ? decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, payloads) : undefined;
}

/**
 * The job names an execution resolved, read back from its history: each `findJobsByName` lookup's
 * input and answer, resolved the way the workflow resolved them. For a first attempt that left no report.
 */
async function namesResolvedIn(client: Client, workflowId: string, runId: string): Promise<{ name: string; ccs: string; jobId: string }[]> {
  const converter = client.options.loadedDataConverter;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const asked = new Map<string, { name: string; ccs: string }>();
  const resolved: { name: string; ccs: string; jobId: string }[] = [];
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'findJobsByName' && e.eventId)
      asked.set(String(e.eventId), await decodeFromPayloadsAtIndex(converter, 0, scheduled.input?.payloads));
    const completed = e.activityTaskCompletedEventAttributes;
    const query = completed ? asked.get(String(completed.scheduledEventId)) : undefined;
    if (!completed || !query) continue;
    const found = await decodeFromPayloadsAtIndex<{ candidates: JobCandidate[]; total?: number }>(converter, 0, completed.result?.payloads);
    try {
      resolved.push({ ...query, jobId: resolveJobName(query.name, query.ccs, found.candidates, found.total) });
    } catch {
      // Not exactly one job: the first attempt failed on it before any stage, and so does this entry here.
    }
  }
  return resolved;
}

/**
 * An ended attempt's report: its result, else its failure's details[0], else rebuilt from its
 * children (a terminated, timed-out or natively cancelled pipeline returns nothing). `earlier` is the
 * previous attempt's report: a job this attempt carried has no child of its own and stays carried.
 */
async function endedReport(
  client: Client,
  attempt: { workflowId: string; runId: string },
  definition: () => Promise<PipelineDefinition | null>,
  earlier: () => Promise<PipelineReport | null>,
): Promise<PipelineReport | null> {
  try {
    const result = (await client.workflow.getHandle(attempt.workflowId, attempt.runId, { followRuns: false }).result()) as unknown;
    if ((result as PipelineReport | null)?.stages) return result as PipelineReport;
  } catch (err) {
    const report = reportOfFailure(err);
    if (report) return report;
  }
  const def = await definition();
  return def ? rebuiltReport(client, attempt.workflowId, def, await earlier()) : null;
}

/** A report rebuilt from the children `childWorkflowId(attemptId, i, jobId)`: what each one's own close says. */
async function rebuiltReport(
  client: Client,
  attemptId: string,
  definition: PipelineDefinition,
  earlier: PipelineReport | null,
): Promise<PipelineReport> {
  const stages: PipelineStageReport[] = [];
  for (const [i, stage] of definition.stages.entries()) {
    const jobs: PipelineJobReport[] = [];
    for (const [j, job] of stage.jobs.entries()) {
      const spec = typeof job === 'string' ? { jobId: job } : job;
      const jobId = (spec.jobId ?? '').toLowerCase();
      const base = { jobId, ...(spec.name ? { name: spec.name } : {}), workflowId: childWorkflowId(attemptId, i, jobId) };
      jobs.push(await childEntry(client, base, earlier?.stages[i]?.jobs[j]));
    }
    const states = jobs.map((j) => j.state);
    const state = states.every((s) => s === 'completed')
      ? 'completed'
      : states.includes('failed')
        ? 'failed'
        : states.every((s) => s === 'pending')
          ? 'pending'
          : 'cancelled';
    stages.push({ name: stage.name, state, jobs });
  }
  const all = stages.flatMap((s) => s.jobs);
  return {
    name: definition.name,
    status: all.some((j) => j.state === 'failed') ? 'Failed' : 'Cancelled',
    startedAt: '',
    stages,
  };
}

async function childEntry(
  client: Client,
  base: { jobId: string; name?: string; workflowId: string },
  earlier: PipelineJobReport | undefined,
): Promise<PipelineJobReport> {
  const handle = client.workflow.getHandle(base.workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // Never started by this attempt: carried from the one before, or a job whose stage never began.
    if (earlier?.state === 'completed') return earlier;
    return { ...base, state: 'pending' };
  }
  if (status === 'RUNNING')
    return { ...base, state: 'cancelled', error: { type: 'Cancelled', message: 'the job was still running when the pipeline ended' } };
  try {
    const result = (await handle.result()) as RunCcsJobResult;
    const entry: PipelineJobReport = {
      ...base,
      state: result.status === 'Completed' ? 'completed' : result.cancelled ? 'cancelled' : 'failed',
      status: result.status,
      jobRunId: result.jobRunId,
      startTime: result.startTime,
      endTime: result.endTime,
    };
    if (result.exception) entry.exception = result.exception;
    if (result.messages?.length) entry.messages = result.messages;
    return entry;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : err;
    const type =
      cause instanceof ApplicationFailure
        ? (cause.type ?? 'Error')
        : status === 'CANCELED' || status === 'CANCELLED'
          ? 'Cancelled'
          : status;
    const message = (cause as Error | undefined)?.message ?? `the job workflow closed ${status}`;
    return { ...base, state: type === 'Cancelled' ? 'cancelled' : 'failed', error: { type, message } };
  }
}

/**
 * The scan's definition as its first attempt ran it, named entries given the JobIDs the first attempt
 * resolved (from its report's entries, in the same order; else from the ids of the children it started).
 * Refused when it no longer validates, or when a name was never resolved.
 */
async function scanDefinition(client: Client, root: { workflowId: string; runId: string; input: unknown; report: PipelineReport | null }) {
  const given = root.input as PipelineDefinition;
  const problems = pipelineProblems(given);
  if (problems.length > 0)
    throw refused(
      `the definition of scan ${root.workflowId} no longer validates (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`,
    );
  // The report's entries name each job in definition order; the lookups in the history say the rest.
  const fromReport = given.stages.flatMap((stage, i) =>
    stage.jobs.flatMap((job, j) => {
      const jobId = root.report?.stages[i]?.jobs[j]?.jobId;
      return typeof job === 'object' && job.jobId === undefined && job.name !== undefined && jobId
        ? [{ name: job.name, ccs: job.ccs ?? given.ccs ?? 'default', jobId }]
        : [];
    }),
  );
  let { definition } = withResolvedNames(given, fromReport);
  if (namedJobs(definition).length > 0)
    definition = withResolvedNames(definition, await namesResolvedIn(client, root.workflowId, root.runId)).definition;
  const [unresolved] = namedJobs(definition);
  if (unresolved)
    throw refused(
      `job ${JSON.stringify(unresolved.name)} was never resolved to a JobID by scan ${root.workflowId}: run the pipeline again instead`,
    );
  return definition;
}

/** Describes one attempt; null when no such workflow. */
async function describeAttempt(client: Client, workflowId: string, runId?: string) {
  try {
    const d = await client.workflow.getHandle(workflowId, runId || undefined).describe();
    return { workflowId, runId: d.runId, attempt: attemptOf(workflowId), status: d.status.name };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * Every attempt of the scan `anyAttemptId` belongs to, first to last (`<root>`, then `<root>/redrive-1`
 * ... until one is not found, at most MAX_REDRIVES redrives), each with its latest run, status, start
 * input and (once ended) report. Empty when the scan's first attempt does not exist. `reports: false`
 * leaves every report null: a look at the statuses only (a rebuilt report describes every child).
 */
export async function scanAttempts(client: Client, anyAttemptId: string, options: { reports?: boolean } = {}): Promise<ScanAttempt[]> {
  const root = scanRootId(anyAttemptId);
  const attempts: ScanAttempt[] = [];
  let definition: PipelineDefinition | null | undefined;
  const definitionOnce = async (): Promise<PipelineDefinition | null> => {
    const first = attempts[0];
    if (definition === undefined) definition = first ? await scanDefinition(client, first).catch(() => null) : null;
    return definition;
  };
  for (let n = 0; n <= MAX_REDRIVES; n++) {
    const d = await describeAttempt(client, n === 0 ? root : redriveWorkflowId(root, n));
    if (!d) break;
    const input = await startInputOf(client, d.workflowId, d.runId);
    const attempt: ScanAttempt = { ...d, input, report: null };
    attempts.push(attempt);
    const earlier = attempts[n - 1]?.report ?? null;
    if (d.status !== 'RUNNING' && options.reports !== false)
      attempt.report = await endedReport(client, d, definitionOnce, () => Promise.resolve(earlier));
  }
  return attempts;
}

/**
 * What a redrive continues from: the scan's definition and the ended attempt's report. Thrown
 * (`CcsRedriveRefused`, one line) when the attempt is still running, when a later attempt of the scan
 * exists, when the redrive's own id is not the scan's next attempt, or when the definition no longer validates.
 */
export async function readRedriveSource(client: Client, input: ReadRedriveSourceInput): Promise<RedriveSource> {
  const ofId = input.redriveOf.workflowId;
  const root = scanRootId(ofId);
  const attempt = attemptOf(ofId);
  const expected = redriveWorkflowId(root, attempt + 1);
  if (input.workflowId !== expected) throw refused(`a redrive of ${ofId} must run as ${expected}, not ${input.workflowId}`);
  if (attempt + 1 > MAX_REDRIVES) throw refused(`scan ${root} was redriven ${attempt} times already; at most ${MAX_REDRIVES}`);
  const of = await describeAttempt(client, ofId, input.redriveOf.runId);
  if (!of) throw refused(`no pipeline ${ofId}${input.redriveOf.runId ? ` (run ${input.redriveOf.runId})` : ''} to redrive`);
  if (of.status === 'RUNNING') throw refused(`pipeline ${ofId} is still running: cancel it or wait for it to end before redriving it`);
  const attempts = await scanAttempts(client, root, { reports: false });
  const later = attempts.filter((a) => a.attempt > attempt && a.workflowId !== input.workflowId);
  const latest = later[later.length - 1];
  if (latest) {
    throw refused(
      latest.status === 'RUNNING'
        ? `a later attempt of scan ${root} is running (${latest.workflowId}): wait for it to end and redrive it instead`
        : `a later attempt of scan ${root} exists: redrive the latest one, ${latest.workflowId}`,
    );
  }
  const first = attempts[0];
  if (!first) throw refused(`the first attempt of scan ${root} is no longer kept by Temporal: run the pipeline again instead`);
  if (isRedriveInput(first.input)) throw refused(`${root} is itself a redrive, not the first attempt of a scan`);
  const definition = await scanDefinition(client, first);
  // Only the reports needed: the attempt redriven's, and the earlier ones only while it has to be rebuilt.
  const reportOf = async (k: number): Promise<PipelineReport | null> => {
    const at = k === attempt ? of : attempts[k];
    if (!at || at.status === 'RUNNING') return null;
    return endedReport(
      client,
      at,
      () => Promise.resolve(definition),
      () => (k > 0 ? reportOf(k - 1) : Promise.resolve(null)),
    );
  };
  const report = await reportOf(attempt);
  if (!report) throw refused(`pipeline ${ofId} ended ${of.status} without a report to redrive from`);
  return { of: { workflowId: ofId, runId: of.runId }, rootWorkflowId: root, attempt, definition, report, closedAs: of.status };
}
