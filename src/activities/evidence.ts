/**
 * The evidence activity: seals a workflow's closing record onto the chained sink. Retried until it
 * succeeds (the workflow's outcome never depends on it); a retry after a successful append finds the
 * record by its key and writes nothing more.
 */
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

export function createEvidenceActivities({ sink, workerVersion }: { sink: EvidenceSink; workerVersion: string }) {
  return {
    async recordEvidence(draft: EvidenceDraft): Promise<EvidenceReceipt> {
      const { pipelineDefinition, ...rest } = draft;
      const content: EvidenceContent = {
        ...rest,
        recordedAt: new Date().toISOString(),
        workerVersion,
        pipelineDigest: pipelineDefinition ? sha256(canonicalJson(pipelineDefinition)) : null,
      };
      const sealed = await sink.append(content);
      return { seq: sealed.seq, hash: sealed.hash, duplicate: sealed.duplicate };
    },
  };
}

export type EvidenceActivities = ReturnType<typeof createEvidenceActivities>;
