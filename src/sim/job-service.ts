/**
 * The simulated CCS Job service: execute and abort (POST /jobs/{id}), Get Latest Job Runs
 * (GET /Jobs/{id}/jobruns), Search Job by ID (GET /jobs/{id}), Search Jobs and Search Job by Name
 * (GET /Jobs?Attributes=… or ?jobname=…), with CCS's refusals; and, routed here to findings.ts, the
 * members of an asset group (GET /AssetGroup/{id}/Assets), raw evaluation results (POST /Results)
 * and the evaluation report (GET /Reports).
 */
import type http from 'node:http';
import type { TokenAuthority } from './auth';
import { isTerminal, type SimRun, type SimState } from './state';
import type { SimFaults } from './faults';
import { FindingsService, type FindingsOptions } from './findings';
import { searchJobs } from './job-search';
import { API, GUID, HttpError, jobDefinition, jobStatusInfo, type Dialect, type Endpoint, type Reply, type RunRendering } from './wire';

/** Texts of CCS's refusals: undocumented, so the simulator's own, and configurable (`--error-texts`). */
export interface ErrorTexts {
  jobNotFound: string;
  runNotFound: string;
  alreadyRunning: string;
  notRunning: string;
  invalidGuid: string;
  invalidBody: string;
  /** GET /AssetGroup/{id}/Assets for an unknown group (404). */
  assetGroupNotFound: string;
  /** POST /Results or GET /Reports when there are none: the run has not ended Completed/Faulted, or did not evaluate the pair (404). */
  noResults: string;
}

export const DEFAULT_ERROR_TEXTS: ErrorTexts = {
  jobNotFound: 'Job {id} does not exist.',
  runNotFound: 'Job run {id} does not exist.',
  alreadyRunning: 'Job {id} is already running.',
  notRunning: 'Job run {id} is not running.',
  invalidGuid: 'The ID {id} is not a valid GUID.',
  invalidBody: 'The request body is invalid.',
  assetGroupNotFound: 'Asset group {id} does not exist.',
  noResults: 'No evaluation results were found for {id}.',
};

export interface JobServiceOptions extends Dialect, FindingsOptions {
  /** Execute answers `{"JobStatusInfo": {...}}` (wrapped, default) or the fields at top level (flat). */
  responseShape?: 'wrapped' | 'flat';
  /** jobruns answers an array (default), `{"JobRuns": [...], "Count": n}`, or a single run as a bare object. */
  jobrunsShape?: 'array' | 'wrapped' | 'flat';
  /**
   * jobruns lists the `count` most recent runs (documented) newest first (default; the reference's
   * inference) or oldest first (the order is not documented; the client must not depend on it).
   */
  jobrunsOrder?: JobRunsOrder;
  /**
   * How "no runs" is answered, each form one a CCS or proxy may use: `[]` (default; `{"JobRuns": [], "Count": 0}`
   * when wrapped), `null`, 204 No Content, 200 with an empty body, `{}`, or the wrapper with an empty list.
   */
  emptyRuns?: EmptyRunsForm;
  /** Answer 415 to a job or Results POST without `Content-Type: application/json`, as ASP.NET Web API does. */
  requireContentType?: boolean;
  errorTexts?: Partial<ErrorTexts>;
  /** Search Jobs page size when the request names none (undocumented; default 50). */
  searchPageSize?: number;
  /** Search Jobs serves larger page sizes at this size (undocumented; default 100). */
  maxSearchPageSize?: number;
}

export const EMPTY_RUNS_FORMS = ['array', 'null', 'no-content', 'empty-body', 'object', 'wrapped'] as const;
export const JOBRUNS_ORDERS = ['newest', 'oldest'] as const;
export type JobRunsOrder = (typeof JOBRUNS_ORDERS)[number];
export type EmptyRunsForm = (typeof EMPTY_RUNS_FORMS)[number];

/** The answer to a jobruns request when the job has no runs (in the window asked for). */
function noRuns(form: EmptyRunsForm | undefined, shape: JobServiceOptions['jobrunsShape']): Reply {
  switch (form ?? (shape === 'wrapped' ? 'wrapped' : 'array')) {
    case 'null':
      return { status: 200, body: null };
    case 'no-content':
      return { status: 204 };
    case 'empty-body':
      return { status: 200, body: '' };
    case 'object':
      return { status: 200, body: {} };
    case 'wrapped':
      return { status: 200, body: { JobRuns: [], Count: 0 } };
    default:
      return { status: 200, body: [] };
  }
}

/** A routed request: which endpoint it is, the id in its path, and how to answer it (not yet answered). */
export interface Routed {
  endpoint: Endpoint;
  id?: string;
  reply: () => Reply;
}

/** Reads `Operation` from a job-operation body, any key case; null when the body is not JSON. */
function operationOf(raw: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return null;
  }
  const key = body && typeof body === 'object' ? Object.keys(body).find((k) => k.toLowerCase() === 'operation') : undefined;
  return key ? String((body as Record<string, unknown>)[key]).toLowerCase() : '';
}

export class JobService {
  private readonly findings: FindingsService;

  constructor(
    private readonly state: SimState,
    private readonly tokens: TokenAuthority,
    private readonly options: JobServiceOptions,
    /** The faults in effect now: the hostile ones bend how runs and tokens are written. */
    private readonly faults: () => SimFaults = () => ({}),
  ) {
    this.findings = new FindingsService(state, tokens, options, (key, id) => this.text(key, id));
  }

  /** An error text with `{id}` filled in. */
  private text(key: keyof ErrorTexts, id: string): string {
    return (this.options.errorTexts?.[key] ?? DEFAULT_ERROR_TEXTS[key]).replace('{id}', id);
  }

  private rendering(): RunRendering {
    const f = this.faults();
    return { malformedDates: f.malformedDates, activityStatusBytes: f.activityStatusBytes };
  }

  /** The job's runs a jobruns read shows, newest first: with `listingLagSeconds`, none started more recently than that. */
  private listedRuns(id: string): SimRun[] {
    const lagMs = (this.faults().listingLagSeconds ?? 0) * 1000;
    const runs = this.state.runsOf(id);
    if (lagMs === 0) return runs;
    const now = Date.now();
    return runs.filter((run) => now - run.startedAt >= lagMs);
  }

  private execute(id: string): Reply {
    const job = this.state.jobs.get(id);
    if (!job) throw new HttpError(400, this.text('jobNotFound', id));
    const latest = this.state.runsOf(id)[0];
    if (latest && job.rejectExecuteWhileRunning !== false && !isTerminal(this.state.view(latest).status)) {
      throw new HttpError(400, this.text('alreadyRunning', id));
    }
    const info = jobStatusInfo(this.state, this.state.startRun(job), false, this.options, this.rendering());
    if (this.faults().executeWithoutRunId) delete info.JobRunID;
    return { status: 200, body: this.options.responseShape === 'flat' ? info : { JobStatusInfo: info } };
  }

  private abort(id: string): Reply {
    const run = this.state.runs.get(id);
    if (!run) throw new HttpError(400, this.text('runNotFound', id));
    if (isTerminal(this.state.view(run).status)) throw new HttpError(400, this.text('notRunning', id));
    this.state.requestAbort(run);
    return { status: 204 };
  }

  /**
   * `GET /Jobs`: Search Jobs when `Attributes` is given (a page of jobs matching it, §6.1), else
   * Search Job by Name (`?jobname=<exact name>`: the jobs of that exact name, §6.2). Arrays both.
   */
  private searchJobs(req: http.IncomingMessage, query: Map<string, string>, onUser: (user: string) => void): Reply {
    this.tokens.authorize(req, false, onUser);
    const attributes = query.get('attributes');
    if (attributes !== undefined) {
      const paging = { defaultPageSize: this.options.searchPageSize ?? 50, maxPageSize: this.options.maxSearchPageSize ?? 100 };
      const page = searchJobs(this.state, attributes, query.get('page'), query.get('pagesize'), paging);
      return { status: 200, body: page.map((job) => jobDefinition(this.state, job, this.options)) };
    }
    const name = query.get('jobname');
    if (name === undefined || name === '') throw new HttpError(400, 'The Attributes parameter (or JobName) is mandatory.');
    const jobs = [...this.state.jobs.values()].filter((job) => job.JobName === name);
    return { status: 200, body: jobs.map((job) => jobDefinition(this.state, job, this.options)) };
  }

  /** Decides what a CCS request is and how to answer it, without answering yet. */
  route(req: http.IncomingMessage, path: string, query: Map<string, string>, raw: string, onUser: (user: string) => void): Routed {
    const method = req.method ?? 'GET';
    const lower = path.toLowerCase().replace(/\/+$/, '');
    if (lower === `${API}/oauth/tokens` && method === 'POST')
      return { endpoint: 'token', reply: () => this.tokens.tokenEndpoint(raw, onUser, this.faults()) };
    if (lower === `${API}/jobs` && method === 'GET') return { endpoint: 'jobsearch', reply: () => this.searchJobs(req, query, onUser) };
    const group = /^\/ccs\/api\/v1\/assetgroup\/([^/]+)\/assets$/.exec(lower);
    if (group && method === 'GET') {
      const groupId = decodeURIComponent(group[1] ?? '');
      return { endpoint: 'assetgroup', id: groupId, reply: () => this.findings.groupAssets(req, groupId, onUser) };
    }
    if (lower === `${API}/results` && method === 'POST') {
      return {
        endpoint: 'results',
        id: FindingsService.runIdOf(raw),
        reply: () => {
          if (this.options.requireContentType && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
            this.tokens.authorize(req, false, onUser, 'results');
            throw new HttpError(415, "The request entity's media type is not supported for this resource.");
          }
          return this.findings.results(req, raw, onUser);
        },
      };
    }
    if (lower === `${API}/reports` && method === 'GET')
      return { endpoint: 'reports', id: query.get('jobrunid')?.toLowerCase(), reply: () => this.findings.report(req, query, onUser) };
    if (group || lower === `${API}/results` || lower === `${API}/reports`)
      return {
        endpoint: 'other',
        reply: () => ({ status: 405, body: { Message: `The requested resource does not support http method '${method}'.` } }),
      };
    const m = /^\/ccs\/api\/v1\/jobs\/([^/]+)(\/jobruns)?$/.exec(lower);
    if (!m)
      return {
        endpoint: 'other',
        reply: () => ({ status: 404, body: { Message: 'No HTTP resource was found that matches the request URI.' } }),
      };
    const id = decodeURIComponent(m[1] ?? '');
    const check = (write: boolean): void => {
      this.tokens.authorize(req, write, onUser);
      if (!GUID.test(id)) throw new HttpError(400, this.text('invalidGuid', JSON.stringify(id.slice(0, 50))));
    };
    const { state } = this;
    if (m[2] && method === 'GET') {
      return {
        endpoint: 'jobruns',
        id,
        reply: () => {
          check(false);
          if (!state.jobs.has(id)) throw new HttpError(400, this.text('jobNotFound', id));
          const countText = query.get('count') ?? '1';
          if (!/^\d+$/.test(countText)) throw new HttpError(400, 'The count parameter must be a non-negative integer.');
          const n = Number(countText);
          const runs = this.listedRuns(id);
          const withMessages = (query.get('showmessages') ?? '').toLowerCase() === 'true';
          const window = n === 0 ? runs : runs.slice(0, n);
          const listed = this.options.jobrunsOrder === 'oldest' ? [...window].reverse() : window;
          const infos = listed.map((r) => jobStatusInfo(state, r, withMessages, this.options, this.rendering()));
          const shape = this.options.jobrunsShape ?? 'array';
          if (infos.length === 0) return noRuns(this.options.emptyRuns, shape);
          if (shape === 'wrapped') return { status: 200, body: { JobRuns: infos, Count: infos.length } };
          if (shape === 'flat' && infos.length === 1) return { status: 200, body: infos[0] };
          return { status: 200, body: infos };
        },
      };
    }
    if (!m[2] && method === 'GET') {
      return {
        endpoint: 'job',
        id,
        reply: () => {
          check(false);
          const job = state.jobs.get(id);
          if (!job) throw new HttpError(400, this.text('jobNotFound', id));
          return { status: 200, body: jobDefinition(state, job, this.options) };
        },
      };
    }
    if (!m[2] && method === 'POST') {
      const operation = operationOf(raw);
      return {
        endpoint: operation === 'abort' ? 'abort' : 'execute',
        id,
        reply: () => {
          // Authorise before judging the body: an unauthenticated caller learns nothing about operations.
          check(true);
          if (this.options.requireContentType && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
            throw new HttpError(415, "The request entity's media type is not supported for this resource.");
          }
          if (operation === null) throw new HttpError(400, this.text('invalidBody', id));
          if (operation === 'execute') return this.execute(id);
          if (operation === 'abort') return this.abort(id);
          throw new HttpError(400, `The operation ${JSON.stringify(operation)} is not supported; use execute or abort.`);
        },
      };
    }
    return {
      endpoint: 'other',
      reply: () => ({ status: 405, body: { Message: `The requested resource does not support http method '${method}'.` } }),
    };
  }
}
