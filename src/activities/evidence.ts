/**
 * The evidence activity: seals a workflow's closing record onto the chained sink. Retried until it
 * succeeds (the workflow's outcome never depends on it); a retry after a successful append finds the
 * record by its key and writes nothing more.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { scrub } from '../ccs/scrub';
import type { EvidenceContent, EvidenceDraft } from '../domain/evidence';
import { canonicalJson, sha256, type Chained } from '../evidence/chain';

/** Where records go: the JSON Lines directory (default) or PostgreSQL. */
export interface EvidenceSink {
  append(content: EvidenceContent): Promise<EvidenceContent & Chained & { duplicate: boolean }>;
}

export interface EvidenceReceipt {
  seq: number;
  hash: string;
  duplicate: boolean;
}

/** How long the starter's identity is looked for before the record is written without it. */
const STARTER_LOOKUP_MS = 5_000;

/**
 * The Temporal identity that started a workflow (`<pid>@<host>` for an SDK client such as ccs-jobs,
 * the CLI's or a service's own): read from the first event of its first run, which workflow code
 * cannot see. Undefined when Temporal no longer has that run (retention) or does not answer in time;
 * a record is never held back for it.
 */
export function temporalStarterLookup(client: Client): (workflowId: string, runId: string) => Promise<string | undefined> {
  const firstEvent = async (workflowId: string, runId: string) => {
    const page = await client.withDeadline(Date.now() + STARTER_LOOKUP_MS, () =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId },
        maximumPageSize: 1,
      }),
    );
    return page.history?.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
  };
  return async (workflowId, runId) => {
    try {
      let started = await firstEvent(workflowId, runId);
      // A continuation was started by the run before it: the starter is the first run's.
      const first = started?.firstExecutionRunId;
      if (started?.continuedExecutionRunId && first && first !== runId) started = await firstEvent(workflowId, first);
      return started?.identity || undefined;
    } catch {
      return undefined;
    }
  };
}

export function createEvidenceActivities({
  sink,
  workerVersion,
  starterOf,
}: {
  sink: EvidenceSink;
  workerVersion: string;
  starterOf?: ((workflowId: string, runId: string) => Promise<string | undefined>) | undefined;
}) {
  return {
    /**
     * Seals the closing record of the workflow run that scheduled this activity. The run is the one
     * Temporal names in the activity's context, whatever the draft says (a draft naming another run
     * is logged at WARN), so no workflow can write, or take the key of, another run's record. Safe to
     * retry: a second call finds the record by its key.
     */
    async recordEvidence(draft: EvidenceDraft): Promise<EvidenceReceipt> {
      const { pipelineDefinition, ...rest } = draft;
      const { key, workflowId, runId } = runOf(draft);
      const identity = await starterOf?.(workflowId, runId);
      const content: EvidenceContent = {
        ...rest,
        key,
        workflowId,
        runId,
        startedBy: { ...rest.startedBy, ...(identity ? { identity: identity.slice(0, 256) } : {}) },
        recordedAt: new Date().toISOString(),
        workerVersion,
        pipelineDigest: pipelineDefinition ? sha256(canonicalJson(pipelineDefinition)) : null,
      };
      // Texts from CCS were scrubbed as they were read; operators' texts (cancel and pause reasons,
      // requester names) were not: a record keeps no credential-shaped value, whoever typed it.
      const sealed = await sink.append(scrubStrings(content));
      return { seq: sealed.seq, hash: sealed.hash, duplicate: sealed.duplicate };
    },
  };
}

/** The workflow run the record is about: the activity context's, the draft's only when there is none. */
function runOf(draft: EvidenceDraft): { key: string; workflowId: string; runId: string } {
  const ctx = Context.current();
  const run = ctx.info.workflowExecution;
  if (!run) {
    ctx.log.warn('evidence activity not scheduled by a workflow: the record names the run the draft names, unverified', {
      draftWorkflowId: draft.workflowId,
      draftRunId: draft.runId,
    });
    return { key: draft.key, workflowId: draft.workflowId, runId: draft.runId };
  }
  if (draft.workflowId !== run.workflowId || draft.runId !== run.runId || draft.key !== `${run.workflowId}/${run.runId}`)
    ctx.log.warn(
      `evidence draft names workflow ${draft.workflowId} run ${draft.runId} (key ${draft.key}), but the activity runs for workflow ${run.workflowId} run ${run.runId}: the record names the latter`,
      { draftWorkflowId: draft.workflowId, draftRunId: draft.runId, draftKey: draft.key, workflowId: run.workflowId, runId: run.runId },
    );
  // One record per workflow run: the key is the run's, so a draft cannot take another run's key.
  return { key: `${run.workflowId}/${run.runId}`, workflowId: run.workflowId, runId: run.runId };
}

/** `value` with every string scrubbed of credential-shaped text (keys are the project's own). */
function scrubStrings<V>(value: V): V {
  if (typeof value === 'string') return scrub(value) as V;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v as unknown)) as V;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubStrings(v as unknown)])) as V;
  return value;
}

export type EvidenceActivities = ReturnType<typeof createEvidenceActivities>;
