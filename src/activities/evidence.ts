/**
 * The evidence activity: seals a workflow's closing record onto the chained sink. Retried until it
 * succeeds (the workflow's outcome never depends on it); a retry after a successful append finds the
 * record by its key and writes nothing more.
 */
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
    async recordEvidence(draft: EvidenceDraft): Promise<EvidenceReceipt> {
      const { pipelineDefinition, ...rest } = draft;
      const identity = await starterOf?.(draft.workflowId, draft.runId);
      const content: EvidenceContent = {
        ...rest,
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

/** `value` with every string scrubbed of credential-shaped text (keys are the project's own). */
function scrubStrings<V>(value: V): V {
  if (typeof value === 'string') return scrub(value) as V;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v as unknown)) as V;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubStrings(v as unknown)])) as V;
  return value;
}

export type EvidenceActivities = ReturnType<typeof createEvidenceActivities>;
