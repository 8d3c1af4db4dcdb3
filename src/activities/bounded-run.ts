/**
 * Runs as activities return them: cut to RUN_LIMITS, saying what was cut, so a CCS answer with a
 * megabyte of activity entries or messages can never make an activity result exceed Temporal's
 * payload limit (which would fail the activity, and with it the workflow following the run).
 */
import { RUN_LIMITS, type JobRun, type OmittedFromRun } from '../domain/job-run';

function cutText(value: string | null, limit: number, field: string, truncated: string[]): string | null {
  if (value === null || value.length <= limit) return value;
  truncated.push(field);
  return `${value.slice(0, limit)}… (${value.length - limit} more characters)`;
}

/** The run with long lists and texts cut to RUN_LIMITS; `omitted` says what was cut (absent when nothing). */
export function boundedRun(run: JobRun): JobRun {
  const truncated: string[] = [];
  const omitted: OmittedFromRun = {};
  const activities = run.activities.slice(0, RUN_LIMITS.activities).map((entry, i) => {
    const text = JSON.stringify(entry) ?? 'null';
    if (text.length <= RUN_LIMITS.activityBytes) return entry;
    truncated.push(`activities[${i}]`);
    return { truncated: true, preview: text.slice(0, RUN_LIMITS.activityBytes / 2), bytes: text.length };
  });
  if (run.activities.length > RUN_LIMITS.activities) omitted.activities = run.activities.length - RUN_LIMITS.activities;
  const bounded: JobRun = {
    ...run,
    activities,
    exception: cutText(run.exception, RUN_LIMITS.exceptionChars, 'exception', truncated),
    summary: cutText(run.summary, RUN_LIMITS.summaryChars, 'summary', truncated),
    customStatusText: cutText(run.customStatusText, RUN_LIMITS.customStatusChars, 'customStatusText', truncated),
  };
  if (run.messages) {
    bounded.messages = run.messages
      .slice(0, RUN_LIMITS.messages)
      .map((m, i) => ({ ...m, text: cutText(m.text, RUN_LIMITS.messageChars, `messages[${i}].text`, truncated) ?? '' }));
    if (run.messages.length > RUN_LIMITS.messages) omitted.messages = run.messages.length - RUN_LIMITS.messages;
  }
  if (truncated.length > 0) omitted.truncated = truncated.slice(0, 50);
  if (Object.keys(omitted).length > 0) bounded.omitted = omitted;
  else delete bounded.omitted;
  return bounded;
}

/** A run as the pre-execute snapshot needs it: identity and status, nothing large. */
export function runSummary(run: JobRun): JobRun {
  return {
    ...boundedRun({ ...run, activities: [], messages: undefined }),
    activities: [],
    ...(run.activities.length ? { omitted: { activities: run.activities.length } } : {}),
  };
}
