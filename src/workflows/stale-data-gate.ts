/**
 * The stale-data gate (`requireFresh`): a stage runs only when the collection it depends on completed
 * recently enough, judged by the runs' own end times, not by CCS's list order.
 */
import { stageJobs, type PipelineDefinition } from '../domain/pipeline';
import type { FreshnessCheck } from '../domain/redrive';
import { lastCompletedRun } from '../domain/job-run';
import { formatDuration, parseDuration } from '../domain/validation';
import { ccsCall } from './activity-options';

/** Runs read per collection job by the stale-data gate, looking for the Completed one that ended last. */
const FRESHNESS_RUNS = 20;

/** What the gate found: why the stage may not run (null: it may), and each check it made, for the stage's report. */
export interface GateResult {
  stale: string | null;
  checks: FreshnessCheck[];
}

/**
 * The stale-data gate of stage `index`: `stale` is null when every collection it names has a Completed
 * run that ended within the window; otherwise why not, naming the job, its last good run and that
 * run's age. It stops at the first stale collection, reading no more (each check is one activity).
 */
export async function staleCollection(definition: PipelineDefinition, index: number): Promise<GateResult> {
  const stage = definition.stages[index]!;
  const fresh = stage.requireFresh!;
  const withinMs = parseDuration('within', fresh.within);
  const within = formatDuration(withinMs);
  const targets = fresh.job
    ? [{ jobId: fresh.job.toLowerCase(), ccs: fresh.ccs ?? definition.ccs ?? 'default' }]
    : stageJobs(
        definition,
        definition.stages.find((s) => s.name === fresh.fromStage)!,
      ).map((j) => ({ jobId: j.jobId, ccs: fresh.ccs ?? j.ccs ?? 'default' }));
  const checks: FreshnessCheck[] = [];
  for (const { jobId, ccs } of targets) {
    const runs = await ccsCall.listJobRuns({ jobId, count: FRESHNESS_RUNS, ccs });
    const good = lastCompletedRun(runs);
    const checkedAt = new Date().toISOString();
    const ageMs = good ? Date.now() - Date.parse(good.endTime!) : Infinity;
    checks.push({
      jobId,
      ccs,
      within,
      jobRunId: good?.jobRunId ?? null,
      endTime: good?.endTime ?? null,
      checkedAt,
      fresh: ageMs <= withinMs,
    });
    const where = `stage ${JSON.stringify(stage.name)} requires collection job ${jobId} to have completed within ${within}`;
    if (!good) return { stale: `${where}, but it has no Completed run among its last ${FRESHNESS_RUNS}; its jobs did not run`, checks };
    if (ageMs > withinMs)
      return {
        stale: `${where}, but its last good run ${good.jobRunId} ended ${good.endTime} (${formatDuration(ageMs)} ago); its jobs did not run`,
        checks,
      };
  }
  return { stale: null, checks };
}
