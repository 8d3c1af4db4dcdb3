/**
 * Scenario jobs (from `--scenario` files and `POST /__sim/jobs`), checked before the simulator keeps them.
 * Besides its steps, a job may name what it targets and how its evaluation comes out (state.ts):
 * `"assets": [{"Id", "Type"?, "Name"?, "members"?: [{"Id", "Name"?, "Type"?}]}]` (an entry whose
 * Type contains AssetGroup, or with members, is a group), `"standards": [GUID, …]` and
 * `"results": {"checks": 10, "passRatio": 0.8, "notApplicable": 0, "errors": 0, "byStandard": {GUID: {…}}}`.
 */
import { randomUUID } from 'node:crypto';
import { CHECK_RESULTS, type SimJob, type SimRunPlan } from './state';
import { GUID } from './wire';

/** Checks a scenario job; throws a one-line error naming the field. */
export function validateJob(input: unknown, where = 'job'): SimJob {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${where} must be an object`);
  const job = input as Partial<SimJob>;
  if (job.JobID !== undefined && !GUID.test(String(job.JobID)))
    throw new Error(`${where}.JobID must be a GUID; got ${JSON.stringify(job.JobID)}`);
  const checkSteps = (steps: unknown, at: string): void => {
    if (!Array.isArray(steps) || steps.length === 0) throw new Error(`${at} must be a non-empty list of [status, seconds]`);
    steps.forEach((step, i) => {
      if (
        !Array.isArray(step) ||
        step.length !== 2 ||
        !['string', 'number'].includes(typeof step[0]) ||
        typeof step[1] !== 'number' ||
        step[1] < 0
      ) {
        throw new Error(`${at}[${i}] must be [status, seconds ≥ 0]; got ${JSON.stringify(step)}`);
      }
    });
  };
  checkSteps(job.steps, `${where}.steps`);
  const stream = job.messageStream;
  if (
    stream !== undefined &&
    (typeof stream !== 'object' ||
      !Number.isInteger(stream.count) ||
      stream.count < 0 ||
      stream.count > 1_000_000 ||
      !(stream.everySeconds > 0) ||
      typeof stream.text !== 'string')
  ) {
    throw new Error(
      `${where}.messageStream must be {"count": 0–1000000, "everySeconds": > 0, "text": "..."}; got ${JSON.stringify(stream)}`,
    );
  }
  checkFindings(job, where);
  job.runs?.forEach((plan, i) => {
    if (plan.steps !== undefined) checkSteps(plan.steps, `${where}.runs[${i}].steps`);
    checkFindings(plan, `${where}.runs[${i}]`);
  });
  return { JobName: `Simulated job`, ...job, JobID: job.JobID ?? randomUUID() } as SimJob;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks a plan's `assets`, `standards` and `results` (what POST /Results and GET /Reports serve). */
function checkFindings(plan: Partial<SimRunPlan>, where: string): void {
  const checkAsset = (asset: unknown, at: string, member: boolean): void => {
    if (!isObject(asset) || !GUID.test(String(asset.Id)))
      throw new Error(
        `${at} must be {"Id": GUID, "Name"?: "...", "Type"?: "..."${member ? '' : ', "members"?: [...]'}}; got ${JSON.stringify(asset)}`,
      );
    for (const key of ['Name', 'Type'] as const)
      if (asset[key] !== undefined && typeof asset[key] !== 'string') throw new Error(`${at}.${key} must be a string`);
    if (asset.members === undefined) return;
    if (member || !Array.isArray(asset.members)) throw new Error(`${at}.members must be a list of assets (groups do not nest)`);
    asset.members.forEach((m, i) => checkAsset(m, `${at}.members[${i}]`, true));
  };
  if (plan.assets !== undefined) {
    if (!Array.isArray(plan.assets)) throw new Error(`${where}.assets must be a list of {"Id": GUID, "Type"?: "...", "members"?: [...]}`);
    plan.assets.forEach((a, i) => checkAsset(a, `${where}.assets[${i}]`, false));
  }
  if (
    plan.standards !== undefined &&
    (!Array.isArray(plan.standards) || plan.standards.some((s) => typeof s !== 'string' || !GUID.test(s)))
  )
    throw new Error(`${where}.standards must be a list of GUIDs; got ${JSON.stringify(plan.standards)}`);
  const results: unknown = plan.results;
  if (results === undefined) return;
  if (!isObject(results)) throw new Error(`${where}.results must be an object`);
  const checkSpec = (spec: Record<string, unknown>, at: string): void => {
    const { checks, passRatio, notApplicable, errors } = spec;
    if (Array.isArray(checks)) {
      checks.forEach((c, i) => {
        if (
          !isObject(c) ||
          !CHECK_RESULTS.includes(c.Result as never) ||
          (c.CheckId !== undefined && (typeof c.CheckId !== 'string' || !GUID.test(c.CheckId)))
        )
          throw new Error(
            `${at}.checks[${i}] must be {"CheckId"?: GUID, "Name"?: "...", "Result": ${CHECK_RESULTS.join('|')}, "Severity"?: "..."}`,
          );
      });
    } else if (checks !== undefined && (!Number.isInteger(checks) || (checks as number) < 0 || (checks as number) > 10_000)) {
      throw new Error(`${at}.checks must be a number of checks from 0 to 10000, or a list of checks; got ${JSON.stringify(checks)}`);
    }
    if (passRatio !== undefined && (typeof passRatio !== 'number' || passRatio < 0 || passRatio > 1))
      throw new Error(`${at}.passRatio must be a number from 0 to 1; got ${JSON.stringify(passRatio)}`);
    for (const [key, v] of [
      ['notApplicable', notApplicable],
      ['errors', errors],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0)) throw new Error(`${at}.${key} must be a whole number ≥ 0`);
    }
  };
  checkSpec(results, `${where}.results`);
  const byStandard = results.byStandard;
  if (byStandard === undefined) return;
  if (!isObject(byStandard)) throw new Error(`${where}.results.byStandard must be an object keyed by standard GUID`);
  for (const [id, spec] of Object.entries(byStandard)) {
    if (!GUID.test(id) || !isObject(spec))
      throw new Error(`${where}.results.byStandard must map standard GUIDs to {"checks", "passRatio", ...}`);
    checkSpec(spec, `${where}.results.byStandard[${id}]`);
  }
}
