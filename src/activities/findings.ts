/**
 * A run's findings: the job's assets (groups resolved) and standards, then the raw results of every
 * asset × standard of the run, each kept verbatim (apart from the worker's secrets) as a
 * content-addressed blob, with their counts when readable. Bounded in pairs, bytes and assets. A
 * CCS user without "View evaluation results" is no failure: the outcome says why the findings are
 * missing. Progress is heartbeated, so a retried attempt fetches only the pairs not yet kept.
 */
import { Context } from '@temporalio/activity';
import { CcsError, ErrorType } from '../domain/errors';
import { FINDINGS_LIMITS, type CollectFindingsInput, type FindingsOutcome, type FindingsPair } from '../domain/activities';
import type { BlobStore } from '../evidence/blob-store';
import type { ServerOf } from './servers';
import { toFailure } from './to-failure';

export function createFindingsActivities(deps: { serverOf: ServerOf; blobs: BlobStore }) {
  return {
    async collectFindings(input: CollectFindingsInput): Promise<FindingsOutcome> {
      const client = deps.serverOf(input);
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const kept = new Map<string, FindingsPair>();
      for (const p of (ctx.info.heartbeatDetails as { pairs?: FindingsPair[] } | undefined)?.pairs ?? [])
        kept.set(`${p.assetId}/${p.standardId}`, p);
      try {
        const scope = await client.getJobScope(input.jobId, signal);
        if (!scope)
          return {
            pairs: [],
            total: 0,
            missing: { type: 'NoJobDetails', reason: 'the job has no JobDetails: not a collection or evaluation job' },
          };
        const assets = new Set<string>();
        for (const a of scope.assets) {
          if (!a.group) assets.add(a.id);
          else for (const member of await client.getAssetGroupAssets(a.id, signal)) assets.add(member.id);
          if (assets.size > FINDINGS_LIMITS.assets) break;
        }
        const pairs = [...assets]
          .slice(0, FINDINGS_LIMITS.assets)
          .flatMap((assetId) => scope.standards.map((standardId) => ({ assetId, standardId })));
        const maxPairs = Math.min(input.maxPairs ?? FINDINGS_LIMITS.pairs, FINDINGS_LIMITS.pairs);
        let bytes = [...kept.values()].reduce((n, p) => n + p.bytes, 0);
        for (const { assetId, standardId } of pairs.slice(0, maxPairs)) {
          if (kept.has(`${assetId}/${standardId}`)) continue;
          const answer = await client.getEvaluationResults({ assetId, standardId, jobRunId: input.jobRunId }, signal);
          const body = Buffer.from(answer.text, 'utf8');
          if (bytes + body.length > FINDINGS_LIMITS.bytes)
            return outcome(kept, pairs.length, {
              type: 'FindingsTooLarge',
              reason: `the results kept reached ${FINDINGS_LIMITS.bytes} bytes; later pairs were not fetched`,
            });
          const ref = await deps.blobs.put(body);
          bytes += ref.bytes;
          kept.set(`${assetId}/${standardId}`, {
            assetId,
            standardId,
            ...ref,
            contentType: answer.contentType.slice(0, 100),
            summary: answer.summary,
          });
          ctx.heartbeat({ pairs: [...kept.values()] });
        }
        return outcome(
          kept,
          pairs.length,
          pairs.length > maxPairs
            ? {
                type: 'FindingsTooMany',
                reason: `the job covers ${pairs.length} asset × standard pairs; the first ${maxPairs} were fetched`,
              }
            : undefined,
        );
      } catch (err) {
        // A user that may follow runs but not read their results: the run's record says so.
        if (err instanceof CcsError && err.type === ErrorType.Forbidden)
          return outcome(kept, kept.size, { type: err.type, reason: err.message.slice(0, 500) });
        throw toFailure(err);
      }
    },
  };
}

function outcome(kept: Map<string, FindingsPair>, total: number, missing?: FindingsOutcome['missing']): FindingsOutcome {
  return { pairs: [...kept.values()], total, ...(missing ? { missing } : {}) };
}
