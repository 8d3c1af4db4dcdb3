/**
 * The CCS REST client: the Job service calls the orchestrator needs, over one keep-alive pool and
 * one shared token. Every failure is a {@link CcsError}; a 401 is answered inside (renew, replay once).
 */
import { CcsError, ErrorType } from '../domain/errors';
import { requireGuid } from '../domain/validation';
import { errorForStatus, jsonBody } from './answer-errors';
import type { HttpRequest, HttpResponse, Operation } from './requests';
import type { PauseStats } from './circuit-breaker';
import { Transport, type TransportOptions } from './transport';
import { withoutUserinfo } from './scrub';
import {
  parseAssetList,
  parseJob,
  parseJobRuns,
  parseJobScope,
  parseJobs,
  parseJobStatusInfo,
  summarizeResults,
  type ReadingContext,
} from './parse';
import { TokenManager, type TokenOptions, type TokenStats } from './tokens';
import type { Job, JobRun, JobScope, ResultsSummary } from '../domain/job-run';

/** The documented default port of the CCS REST API. */
export const DEFAULT_CCS_PORT = 12431;

/**
 * A client's options: the transport's (where CCS is, how its certificate is trusted, the bounds and
 * budget of every request; the secrets to scrub are the client's own), the token grant's (who, with
 * which password, how tokens are renewed), and the client's own below.
 */
export interface CcsClientOptions extends Omit<TransportOptions, 'secrets'>, TokenOptions {
  /** IANA zone in which CCS writes dates without an offset (server-local time). Default UTC. */
  timeZone?: string | undefined;
  /** Accept an `http://` base URL (the password and tokens in clear text): explicit opt-in only, warned. */
  allowPlaintext?: boolean | undefined;
  /** How many latest runs {@link CcsClient.getJobRun} reads before widening to all runs. Default 5. */
  runWindow?: number | undefined;
  /** Where the client's start-up warnings go (plain HTTP, verification off). Default console.warn. */
  warn?: ((message: string) => void) | undefined;
}

export interface ExecuteOptions {
  signal?: AbortSignal | undefined;
  /** Epoch ms after which the execute is not sent at all (fails "not sent"): see {@link HttpRequest.sendBy}. */
  sendBy?: number | undefined;
}

export interface GetJobRunsOptions {
  /** How many of the latest runs; 0 means all. CCS's default is 1. */
  count?: number;
  showMessages?: boolean;
  signal?: AbortSignal | undefined;
}

/** Request counts by operation, for tests, the benchmark and metrics. */
export interface RequestStats {
  requests: number;
  replaysAfter401: number;
}

/** The longest `Attributes` value sent to CCS. */
export const MAX_SEARCH_LENGTH = 1_024;

/**
 * A Search Jobs `Attributes` value, wrapped in parentheses as the vendor's samples send it; refuses
 * empty, oversized or control-character text before anything is sent.
 */
export function checkedSearch(attributes: string): string {
  const text = typeof attributes === 'string' ? attributes.trim() : '';
  if (text === '' || text === '()')
    throw new CcsError(ErrorType.InvalidInput, 'a job search needs terms like "JobName StartsWith Nightly, JobType = EvaluationJob"');
  if (text.length > MAX_SEARCH_LENGTH)
    throw new CcsError(ErrorType.InvalidInput, `a job search is at most ${MAX_SEARCH_LENGTH} characters; got ${text.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new CcsError(ErrorType.InvalidInput, 'a job search must not contain control characters');
  return text.startsWith('(') && text.endsWith(')') ? text : `(${text})`;
}

export class CcsClient {
  readonly baseUrl: string;
  readonly requestStats: RequestStats = { requests: 0, replaysAfter401: 0 };
  private readonly transport: Transport;
  private readonly tokens: TokenManager;
  private readonly runWindow: number;
  private readonly reading: ReadingContext;

  constructor(options: CcsClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new CcsError(
        ErrorType.InvalidInput,
        `CCS base URL ${JSON.stringify(withoutUserinfo(options.baseUrl))} is not a URL; expected https://<host>:${DEFAULT_CCS_PORT}/ccs/api/v1`,
      );
    }
    if (url.username || url.password) {
      // It would travel in every request line and log; the client has its own username and password.
      throw new CcsError(
        ErrorType.InvalidInput,
        `CCS base URL ${url.host} must not carry a user name or password (https://user:…@host); pass them as username and password`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new CcsError(ErrorType.InvalidInput, `CCS base URL must start with https://; got ${url.protocol}`);
    }
    if (url.protocol === 'http:') {
      if (!options.allowPlaintext) {
        throw new CcsError(
          ErrorType.InvalidInput,
          `CCS base URL ${url.origin} uses http://: the password and tokens would travel in clear text; use https://, or set CCS_ALLOW_PLAINTEXT=true to accept that knowingly`,
        );
      }
      (options.warn ?? console.warn)(
        `CCS at ${url.origin} is reached over plain HTTP (CCS_ALLOW_PLAINTEXT=true): the password and tokens travel in clear text`,
      );
    }
    if (options.insecure && url.protocol === 'https:') {
      (options.warn ?? console.warn)(
        `TLS certificate verification is OFF for ${options.baseUrl} (CCS_TLS_INSECURE=true); use CCS_CA_FILE instead in production`,
      );
    }
    this.transport = new Transport(options);
    this.baseUrl = this.transport.baseUrl;
    this.tokens = new TokenManager(this.transport, options);
    this.runWindow = Math.max(1, options.runWindow ?? 5);
    this.reading = { timeZone: options.timeZone };
  }

  get tokenStats(): TokenStats {
    return this.tokens.stats;
  }

  /** The longest one request is waited for; CCS may still process a request this client gave up on after it. */
  get requestTimeoutMs(): number {
    return this.transport.requestTimeoutMs;
  }

  /** The circuit breaker's counts: pauses begun after a 429/503 with Retry-After, requests refused meanwhile. */
  get pauseStats(): PauseStats {
    return this.transport.pauseStats;
  }

  /**
   * Starts a run of the job now. Not idempotent: CCS has no request key, so a failure with
   * `mayHaveReachedServer` may still have started a run. Raises every {@link ErrorType} of a call.
   */
  async executeJob(jobId: string, options: ExecuteOptions = {}): Promise<JobRun> {
    const id = requireGuid('jobId', jobId);
    const res = await this.call('execute', 'POST', `/jobs/${id}`, { Operation: 'execute' }, options.signal, {
      sendBy: options.sendBy,
      urgent: true,
    });
    try {
      return parseJobStatusInfo(jsonBody(res, `POST /jobs/${id}`, this.transport.secrets), this.reading);
    } catch (err) {
      // Keep the status: a 2xx whose body names no run means CCS accepted the execute (a run exists).
      if (err instanceof CcsError && err.status === undefined)
        throw new CcsError(err.type, err.message, { status: res.status, cause: err });
      throw err;
    }
  }

  /** Asks CCS to abort a running run; CCS answers 204. A 400 means the run is not running (or unknown). */
  async abortJobRun(jobRunId: string, signal?: AbortSignal): Promise<void> {
    const id = requireGuid('jobRunId', jobRunId);
    await this.call('abort', 'POST', `/jobs/${id}`, { Operation: 'abort' }, signal);
  }

  /** The latest runs of a job, in the order CCS lists them (undocumented: callers order by the runs' own times). Safe to retry. */
  async getJobRuns(jobId: string, options: GetJobRunsOptions = {}): Promise<JobRun[]> {
    const id = requireGuid('jobId', jobId);
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 0) throw new CcsError(ErrorType.InvalidInput, `count must be a whole number ≥ 0; got ${count}`);
    const query = `count=${count}${options.showMessages ? '&showmessages=true' : ''}`;
    const res = await this.call('jobruns', 'GET', `/Jobs/${id}/jobruns?${query}`, undefined, options.signal);
    // "No runs" may come as an empty answer (204, or 200 with no body).
    if (res.status === 204 || res.text.trim() === '') return [];
    return parseJobRuns(jsonBody(res, `GET /Jobs/${id}/jobruns`, this.transport.secrets), id, this.reading);
  }

  /**
   * One run of a job. CCS has no per-run endpoint: this reads the latest few runs, widens once to
   * all runs, and raises `CcsNotFound` when the run is in neither. Safe to retry.
   */
  async getJobRun(jobId: string, jobRunId: string, options: Omit<GetJobRunsOptions, 'count'> = {}): Promise<JobRun> {
    const runId = requireGuid('jobRunId', jobRunId);
    for (const count of [this.runWindow, 0]) {
      const runs = await this.getJobRuns(jobId, { ...options, count });
      const run = runs.find((r) => r.jobRunId === runId);
      if (run) return run;
      if (runs.length < this.runWindow) break; // the window already held every run
    }
    throw new CcsError(ErrorType.NotFound, `job run ${runId} of job ${jobId.toLowerCase()} is not among the job's runs in CCS`);
  }

  /** The job definition. Safe to retry. */
  async getJob(jobId: string, signal?: AbortSignal): Promise<Job> {
    const id = requireGuid('jobId', jobId);
    const res = await this.call('job', 'GET', `/jobs/${id}`, undefined, signal);
    return parseJob(jsonBody(res, `GET /jobs/${id}`, this.transport.secrets), this.reading);
  }

  /** The jobs named exactly `name` (Search Job by Name); job names are not unique in CCS. Safe to retry. */
  async findJobsByName(name: string, signal?: AbortSignal): Promise<Job[]> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 256)
      throw new CcsError(ErrorType.InvalidInput, 'a job name is 1 to 256 characters');
    const res = await this.call('jobsearch', 'GET', `/Jobs?jobname=${encodeURIComponent(name)}`, undefined, signal);
    if (res.status === 204 || res.text.trim() === '') return [];
    return parseJobs(jsonBody(res, 'GET /Jobs?jobname=', this.transport.secrets), this.reading);
  }

  /**
   * One page of Search Jobs (`GET /Jobs?Attributes=(…)&page=&pagesize=`, zero-based pages): the jobs
   * matching `attributes`, terms like `JobName StartsWith Nightly, JobType = EvaluationJob`. A page
   * shorter than `pageSize` is the last. Safe to retry.
   */
  async searchJobs(attributes: string, options: { page: number; pageSize: number; signal?: AbortSignal | undefined }): Promise<Job[]> {
    const terms = checkedSearch(attributes);
    const { page, pageSize } = options;
    if (!Number.isInteger(page) || page < 0 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new CcsError(
        ErrorType.InvalidInput,
        `search paging must be page ≥ 0 and 1 ≤ pagesize ≤ 1000; got page ${page}, pagesize ${pageSize}`,
      );
    }
    const query = `Attributes=${encodeURIComponent(terms)}&page=${page}&pagesize=${pageSize}`;
    const res = await this.call('jobsearch', 'GET', `/Jobs?${query}`, undefined, options.signal);
    if (res.status === 204 || res.text.trim() === '') return [];
    return parseJobs(jsonBody(res, 'GET /Jobs?Attributes=', this.transport.secrets), this.reading);
  }

  /** What a collection or evaluation job covers (its JobDetails), null for another job type. Safe to retry. */
  async getJobScope(jobId: string, signal?: AbortSignal): Promise<JobScope | null> {
    return parseJobScope((await this.getJob(jobId, signal)).raw);
  }

  /** The assets of an asset group. Safe to retry. */
  async getAssetGroupAssets(groupId: string, signal?: AbortSignal): Promise<{ id: string; name: string | null; type: string | null }[]> {
    const id = requireGuid('groupId', groupId);
    const res = await this.call('assetgroup', 'GET', `/AssetGroup/${id}/Assets`, undefined, signal);
    if (res.status === 204 || res.text.trim() === '') return [];
    return parseAssetList(jsonBody(res, `GET /AssetGroup/${id}/Assets`, this.transport.secrets));
  }

  /**
   * The raw evaluation results of one asset × standard of a run (`POST /Results`), as CCS wrote them
   * apart from this worker's secrets (scrubbed, whatever CCS echoes), with their counts when the shape
   * is one this client reads (null otherwise: kept, never guessed at). Needs the CCS task "View
   * evaluation results" (a 403 otherwise). Safe to retry: it reads.
   */
  async getEvaluationResults(
    query: { assetId: string; standardId: string; jobRunId: string },
    signal?: AbortSignal,
  ): Promise<{ text: string; contentType: string; summary: ResultsSummary | null }> {
    const body = {
      assetid: requireGuid('assetId', query.assetId),
      standardid: requireGuid('standardId', query.standardId),
      jobrunid: requireGuid('jobRunId', query.jobRunId),
    };
    const res = await this.call('results', 'POST', '/Results', body, signal);
    const text = this.transport.secrets.scrub(res.text);
    const contentType = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    let summary: ResultsSummary | null = null;
    if (/json/i.test(contentType) || /^\s*[[{]/.test(text)) {
      try {
        summary = summarizeResults(JSON.parse(text) as unknown);
      } catch {
        summary = null;
      }
    }
    return { text, contentType, summary };
  }

  /**
   * A read-only GET's answer as CCS wrote it (JSON parsed and scrubbed, not interpreted), for a
   * diagnosis of the server's dialect (`ccs-jobs ccs check`). Errors as for every call.
   */
  async readAnswer(
    operation: 'job' | 'jobruns',
    path: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; contentType: string; body: unknown; empty: boolean }> {
    const res = await this.call(operation, 'GET', path, undefined, signal);
    const contentType = String(res.headers['content-type'] ?? '');
    const empty = res.status === 204 || res.text.trim() === '';
    return {
      status: res.status,
      contentType,
      body: empty ? undefined : jsonBody(res, `GET ${path.split('?')[0]}`, this.transport.secrets),
      empty,
    };
  }

  /** Obtains a token (or confirms the cached one): proves CCS answers and accepts the credentials. */
  async checkCredentials(signal?: AbortSignal): Promise<void> {
    await this.tokens.get(signal);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async call(
    operation: Operation,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    sending: Pick<HttpRequest, 'sendBy' | 'urgent'> = {},
  ): Promise<HttpResponse> {
    const where = `${method} ${path.split('?')[0]}`;
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.get(signal);
      this.requestStats.requests++;
      const res = await this.transport.send({
        operation,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        attempt,
        ...sending,
      });
      if (res.status === 401 && attempt === 1) {
        // The token was revoked (an application-server restart) or expired early: renew, replay once.
        this.tokens.invalidate(token);
        this.requestStats.replaysAfter401++;
        continue;
      }
      if (res.status < 200 || res.status > 299)
        throw errorForStatus(res, where, { secrets: this.transport.secrets, maxRetryAfterMs: this.transport.maxRetryAfterMs });
      return res;
    }
  }
}
