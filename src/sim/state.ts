/**
 * The simulator's model of CCS: jobs, their runs, and how a run moves through its steps over wall
 * clock time. Status is derived from the clock on every read, so a run keeps progressing while the
 * simulator is stopped and restarted from its state file, as a real CCS run would.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** A step of a run: a status (documented name, integer code, or any other value) held for some seconds. */
export type SimStep = [status: string | number, seconds: number];

export interface SimMessage {
  Time?: string;
  Message: string;
  /** Seconds after the run's start at which the message appears (default 0: from the start). */
  AtSeconds?: number;
}

/** An asset of the simulated asset system. */
export interface SimAsset {
  /** GUID. */
  Id: string;
  /** Default `Asset <first 8 digits of Id>`. */
  Name?: string;
  /** The CCS asset type; default `symc-csm-AssetSystem-Asset-Unix-Machine`. */
  Type?: string;
}

/**
 * What a job targets: an asset, or an asset group (its Type contains `AssetGroup`, or it lists
 * `members`; default Type `symc-csm-AssetSystem-AssetGroup`). A group's members are what
 * `GET /AssetGroup/{Id}/Assets` answers and what a run of the job evaluates; a group named by
 * several jobs needs its members listed once (the first job that lists them is read).
 */
export interface SimJobAsset extends SimAsset {
  members?: SimAsset[];
}

export const CHECK_RESULTS = ['Pass', 'Fail', 'NotApplicable', 'Error'] as const;
export type SimCheckResult = (typeof CHECK_RESULTS)[number];

/** One check of a standard as POST /Results reports it for an asset. */
export interface SimCheck {
  /** GUID; default derived from the standard and the check's position. */
  CheckId?: string;
  Name?: string;
  Result: SimCheckResult;
  Severity?: string;
}

/** How the checks of one standard come out on one asset. */
export interface SimResultsSpec {
  /**
   * The checks of the standard: a number of generated checks (default 10), or the checks themselves
   * (then the same on every asset and run, and the counts below are not used).
   */
  checks?: number | SimCheck[];
  /** Share of generated checks that pass, rounded to a count (default 0.8). */
  passRatio?: number;
  /** Of the generated checks that do not pass, this many are NotApplicable (default 0)… */
  notApplicable?: number;
  /** …and then this many Error (default 0); the rest Fail. */
  errors?: number;
}

/**
 * A run's evaluation results: for each asset × standard the counts are exact; which checks pass is
 * drawn deterministically from (JobRunID, asset, standard), so two runs (or two assets) differ in
 * which checks fail but never in how many.
 */
export interface SimResultsPlan extends SimResultsSpec {
  /** Per standard GUID: what differs from the above for that standard. */
  byStandard?: Record<string, SimResultsSpec>;
}

/** How one run behaves; a job gives the default and may vary it run by run. */
export interface SimRunPlan {
  steps: SimStep[];
  exception?: string | null;
  customStatusText?: string | null;
  summary?: string | null;
  messages?: SimMessage[];
  /** Messages that keep coming while the run goes: `count` of them, one every `everySeconds`, "<text> #<n>". */
  messageStream?: { count: number; everySeconds: number; text: string };
  /** Seconds between an abort request and the run reporting Aborted. */
  abortDelaySeconds?: number;
  /** Accept abort requests but never stop (models a CCS that cannot confirm an abort). */
  ignoreAbort?: boolean;
  /**
   * The last step ends the run (its end time is set) whatever its status: a run that ends Idle,
   * Custom or with an undocumented code (the reference, §9).
   */
  endsInLastStep?: boolean;
  /**
   * The assets and asset groups the job targets (Search Job by ID's `JobDetails.AssetsResolutionInfo`).
   * A run keeps what its job had when it started (or, from an older state file, reads the job's).
   */
  assets?: SimJobAsset[];
  /** The standards (GUIDs) the job evaluates (`JobDetails.Standards`). */
  standards?: string[];
  /** How the run's evaluation results come out (POST /Results, GET /Reports); default 10 checks, 80 % passing. */
  results?: SimResultsPlan;
}

/** Whether a job's asset entry is an asset group (its Type names one, or it lists members). */
export function isAssetGroup(asset: { Type?: string | undefined; members?: unknown }): boolean {
  return asset.members !== undefined || /assetgroup/i.test(asset.Type ?? '');
}

export interface SimJob extends SimRunPlan {
  JobID: string;
  JobName: string;
  JobType?: string;
  /** Answer 400 to execute while a run of the job is not finished. Default true. */
  rejectExecuteWhileRunning?: boolean;
  /** Plans for the 1st, 2nd, … execute; later ones use the last entry. */
  runs?: SimRunPlan[];
}

export interface SimRun {
  JobRunID: string;
  JobID: string;
  plan: SimRunPlan;
  startedAt: number;
  abortRequestedAt: number | null;
  executeRequests: number;
  abortRequests: number;
}

/** The status of a run at a moment, and when it ended (null while it runs). */
export interface RunView {
  status: string | number;
  endedAt: number | null;
}

const TERMINAL = new Set(['completed', 'faulted', 'aborted', '4', '5', '7']);

export function isTerminal(status: string | number): boolean {
  return TERMINAL.has(String(status).toLowerCase());
}

function planOf(job: SimJob, index: number): SimRunPlan {
  const variant = job.runs?.length ? job.runs[Math.min(index, job.runs.length - 1)] : undefined;
  return { ...job, ...variant, steps: variant?.steps ?? job.steps };
}

export class SimState {
  jobs = new Map<string, SimJob>();
  runs = new Map<string, SimRun>();
  /** Runs per job, newest first. */
  private byJob = new Map<string, SimRun[]>();
  private lastStart = 0;

  constructor(
    private readonly initialJobs: SimJob[],
    private readonly stateFile?: string,
    private readonly now: () => number = Date.now,
  ) {
    if (stateFile && existsSync(stateFile)) this.load(stateFile);
    else this.reset();
  }

  /** Back to the scenario's jobs with no runs. */
  reset(): void {
    this.jobs = new Map(this.initialJobs.map((j) => [j.JobID.toLowerCase(), { ...j, JobID: j.JobID.toLowerCase() }]));
    this.runs = new Map();
    this.index();
    this.save();
  }

  addJob(job: SimJob): SimJob {
    const stored = { ...job, JobID: (job.JobID || randomUUID()).toLowerCase() };
    this.jobs.set(stored.JobID, stored);
    this.save();
    return stored;
  }

  /** Runs of a job, newest first. */
  runsOf(jobId: string): SimRun[] {
    return this.byJob.get(jobId) ?? [];
  }

  startRun(job: SimJob): SimRun {
    const run: SimRun = {
      JobRunID: randomUUID(),
      JobID: job.JobID,
      plan: planOf(job, this.runsOf(job.JobID).length),
      // Strictly increasing, so "newest first" is well defined even for runs started in the same millisecond.
      startedAt: Math.max(this.now(), this.lastStart + 1),
      abortRequestedAt: null,
      executeRequests: 1,
      abortRequests: 0,
    };
    this.lastStart = run.startedAt;
    this.runs.set(run.JobRunID, run);
    this.byJob.set(run.JobID, [run, ...this.runsOf(run.JobID)]);
    this.save();
    return run;
  }

  /**
   * A run that started in the past (a job's history, as a CCS in service for a while has it): it
   * walks `steps` from `startedAt`, so with a terminal last step it has ended by now.
   */
  addPastRun(jobId: string, startedAt: number, steps: SimStep[], plan: Omit<SimRunPlan, 'steps'> = {}): SimRun {
    const job = this.jobs.get(jobId.toLowerCase());
    if (!job) throw new Error(`no job ${jobId} in the simulator`);
    const run: SimRun = {
      JobRunID: randomUUID(),
      JobID: job.JobID,
      // What the job targets now, unless the plan says otherwise: the run's findings come from it.
      plan: {
        ...(job.assets ? { assets: job.assets } : {}),
        ...(job.standards ? { standards: job.standards } : {}),
        ...(job.results ? { results: job.results } : {}),
        ...plan,
        steps,
      },
      startedAt,
      abortRequestedAt: null,
      executeRequests: 1,
      abortRequests: 0,
    };
    this.runs.set(run.JobRunID, run);
    this.index();
    this.save();
    return run;
  }

  /**
   * Moves the job's ended runs `seconds` back in time, start, end and abort alike (runs still going
   * are left as they are): a collection that has gone stale since, without a test waiting for it.
   */
  ageRuns(jobId: string, seconds: number): SimRun[] {
    const job = this.jobs.get(jobId.toLowerCase());
    if (!job) throw new Error(`no job ${jobId} in the simulator`);
    const ms = seconds * 1000;
    const aged = this.runsOf(job.JobID).filter((run) => this.view(run).endedAt !== null);
    for (const run of aged) {
      run.startedAt -= ms;
      if (run.abortRequestedAt !== null) run.abortRequestedAt -= ms;
    }
    this.index();
    this.save();
    return aged;
  }

  /** The members of an asset group, from the first job that lists them; undefined for an unknown group. */
  assetGroup(groupId: string): SimAsset[] | undefined {
    const id = groupId.toLowerCase();
    let known = false;
    for (const job of this.jobs.values()) {
      for (const plan of [job, ...(job.runs ?? [])]) {
        for (const entry of plan.assets ?? []) {
          if (entry.Id.toLowerCase() !== id || !isAssetGroup(entry)) continue;
          if (entry.members) return entry.members;
          known = true;
        }
      }
    }
    return known ? [] : undefined;
  }

  /** What a run evaluated: its job's assets with each group replaced by its members (each asset once). */
  runAssets(run: SimRun): SimAsset[] {
    const entries = run.plan.assets ?? this.jobs.get(run.JobID)?.assets ?? [];
    const seen = new Map<string, SimAsset>();
    for (const entry of entries) {
      const members = isAssetGroup(entry) ? (entry.members ?? this.assetGroup(entry.Id) ?? []) : [entry];
      for (const asset of members) if (!seen.has(asset.Id.toLowerCase())) seen.set(asset.Id.toLowerCase(), asset);
    }
    return [...seen.values()];
  }

  /** The standards (lower-case GUIDs) a run evaluated. */
  runStandards(run: SimRun): string[] {
    return (run.plan.standards ?? this.jobs.get(run.JobID)?.standards ?? []).map((id) => id.toLowerCase());
  }

  requestAbort(run: SimRun): void {
    run.abortRequests++;
    if (run.abortRequestedAt === null && !run.plan.ignoreAbort) run.abortRequestedAt = this.now();
    this.save();
  }

  /**
   * Where the run is now: walks the steps by elapsed time. An accepted abort wins from the moment
   * it takes effect (request time plus the job's abort delay) unless the run ended before that.
   */
  view(run: SimRun, now = this.now()): RunView {
    // Runs started in the same millisecond get start times 1 ms apart, so a start can be a moment
    // ahead of the clock: a run is never seen before its start (it would look Pending, not ended).
    const at = Math.max(now, run.startedAt);
    const abortAt = run.abortRequestedAt === null ? Infinity : run.abortRequestedAt + (run.plan.abortDelaySeconds ?? 0) * 1000;
    let t = run.startedAt;
    let current: RunView = { status: 'Pending', endedAt: null };
    const steps = run.plan.steps;
    for (const [i, [status, seconds]] of steps.entries()) {
      if (Math.min(at, abortAt) < t) break;
      const last = i === steps.length - 1 && run.plan.endsInLastStep === true;
      current = { status, endedAt: isTerminal(status) || last ? t : null };
      if (current.endedAt !== null) break;
      t += seconds * 1000;
    }
    if (current.endedAt === null && at >= abortAt) current = { status: 'Aborted', endedAt: abortAt };
    return current;
  }

  private load(file: string): void {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { jobs: SimJob[]; runs: SimRun[] };
    this.jobs = new Map(data.jobs.map((j) => [j.JobID, j]));
    this.runs = new Map(data.runs.map((r) => [r.JobRunID, r]));
    this.index();
  }

  private index(): void {
    const sorted = [...this.runs.values()].sort((a, b) => b.startedAt - a.startedAt);
    this.byJob = new Map();
    for (const run of sorted) this.byJob.set(run.JobID, [...(this.byJob.get(run.JobID) ?? []), run]);
    this.lastStart = Math.max(this.lastStart, sorted[0]?.startedAt ?? 0);
  }

  /** Writes the state file atomically (a crash mid-write leaves the previous state). */
  save(): void {
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ jobs: [...this.jobs.values()], runs: [...this.runs.values()] }));
    renameSync(tmp, this.stateFile);
  }
}
