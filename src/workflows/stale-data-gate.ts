/**
 * The stale-data gate (`requireFresh`): a stage runs only when the collection it depends on completed
 * recently enough, judged by the runs' own end times, not by CCS's list order.
 */
import { stageJobs, type PipelineDefinition } from '../domain/pipeline';
import { lastCompletedRun } from '../domain/job-run';
import { formatDuration, parseDuration } from '../domain/validation';
import { ccsCall } from './activity-options';

/** Runs read per collection job by the stale-data gate, looking for the Completed one that ended last. */
const FRESHNESS_RUNS = 20;

/**
 * The stale-data gate of stage `index`: null when every collection it names has a Completed run that
 * ended within the window; otherwise why not, naming the job, its last good run and that run's age.
 */
export async function staleCollection(definition: PipelineDefinition, index: number): Promise<string | null> {
  const stage = definition.stages[index]!;
  const fresh = stage.requireFresh!;
  const withinMs = parseDuration('within', fresh.within);
  const checks = fresh.job
    ? [{ jobId: fresh.job.toLowerCase(), ccs: fresh.ccs ?? definition.ccs ?? 'default' }]
    : stageJobs(
        definition,
        definition.stages.find((s) => s.name === fresh.fromStage)!,
      ).map((j) => ({ jobId: j.jobId, ccs: fresh.ccs ?? j.ccs ?? 'default' }));
  for (const { jobId, ccs } of checks) {
    const runs = await ccsCall.listJobRuns({ jobId, count: FRESHNESS_RUNS, ccs });
    const good = lastCompletedRun(runs);
    const where = `stage ${JSON.stringify(stage.name)} requires collection job ${jobId} to have completed within ${formatDuration(withinMs)}`;
    if (!good) return `${where}, but it has no Completed run among its last ${FRESHNESS_RUNS}; its jobs did not run`;
    const ageMs = Date.now() - Date.parse(good.endTime!);
    if (ageMs > withinMs)
      return `${where}, but its last good run ${good.jobRunId} ended ${good.endTime} (${formatDuration(ageMs)} ago); its jobs did not run`;
  }
  return null;
}
