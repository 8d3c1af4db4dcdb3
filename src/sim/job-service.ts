/**
 * The simulated CCS Job service: execute and abort (POST /jobs/{id}), Get Latest Job Runs
 * (GET /Jobs/{id}/jobruns) and Search Job by ID (GET /jobs/{id}), with CCS's refusals.
 */
import type http from 'node:http';
import type { TokenAuthority } from './auth';
import { isTerminal, type SimState } from './state';
import type { SimFaults } from './faults';
import { API, GUID, HttpError, jobDefinition, jobStatusInfo, type Endpoint, type Reply, type RunRendering, type StatusFormat } from './wire';

export interface JobServiceOptions {
  /** Execute answers `{"JobStatusInfo": {...}}` (wrapped, default) or the fields at top level (flat). */
  responseShape?: 'wrapped' | 'flat';
  statusFormat?: StatusFormat;
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
  constructor(
    private readonly state: SimState,
    private readonly tokens: TokenAuthority,
    private readonly options: JobServiceOptions,
    /** The faults in effect now: the hostile ones bend how runs and tokens are written. */
    private readonly faults: () => SimFaults = () => ({}),
  ) {}

  private rendering(): RunRendering {
    const f = this.faults();
    return { malformedDates: f.malformedDates, activityStatusBytes: f.activityStatusBytes };
  }

  private execute(id: string): Reply {
    const job = this.state.jobs.get(id);
    if (!job) throw new HttpError(400, `Job ${id} does not exist.`);
    const latest = this.state.runsOf(id)[0];
    if (latest && job.rejectExecuteWhileRunning !== false && !isTerminal(this.state.view(latest).status)) {
      throw new HttpError(400, `Job ${id} is already running.`);
    }
    const info = jobStatusInfo(this.state, this.state.startRun(job), false, this.options.statusFormat, this.rendering());
    return { status: 200, body: this.options.responseShape === 'flat' ? info : { JobStatusInfo: info } };
  }

  private abort(id: string): Reply {
    const run = this.state.runs.get(id);
    if (!run) throw new HttpError(400, `Job run ${id} does not exist.`);
    if (isTerminal(this.state.view(run).status)) throw new HttpError(400, `Job run ${id} is not running.`);
    this.state.requestAbort(run);
    return { status: 204 };
  }

  /** Decides what a CCS request is and how to answer it, without answering yet. */
  route(req: http.IncomingMessage, path: string, query: Map<string, string>, raw: string, onUser: (user: string) => void): Routed {
    const method = req.method ?? 'GET';
    const lower = path.toLowerCase().replace(/\/+$/, '');
    if (lower === `${API}/oauth/tokens` && method === 'POST') return { endpoint: 'token', reply: () => this.tokens.tokenEndpoint(raw, onUser, this.faults()) };
    const m = /^\/ccs\/api\/v1\/jobs\/([^/]+)(\/jobruns)?$/.exec(lower);
    if (!m) return { endpoint: 'other', reply: () => ({ status: 404, body: { Message: 'No HTTP resource was found that matches the request URI.' } }) };
    const id = decodeURIComponent(m[1] ?? '');
    const check = (write: boolean): void => {
      this.tokens.authorize(req, write, onUser);
      if (!GUID.test(id)) throw new HttpError(400, `The ID ${JSON.stringify(id.slice(0, 50))} is not a valid GUID.`);
    };
    const { state } = this;
    if (m[2] && method === 'GET') {
      return {
        endpoint: 'jobruns',
        id,
        reply: () => {
          check(false);
          if (!state.jobs.has(id)) throw new HttpError(400, `Job ${id} does not exist.`);
          const countText = query.get('count') ?? '1';
          if (!/^\d+$/.test(countText)) throw new HttpError(400, 'The count parameter must be a non-negative integer.');
          const n = Number(countText);
          const runs = state.runsOf(id);
          const withMessages = (query.get('showmessages') ?? '').toLowerCase() === 'true';
          return { status: 200, body: (n === 0 ? runs : runs.slice(0, n)).map((r) => jobStatusInfo(state, r, withMessages, this.options.statusFormat, this.rendering())) };
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
          if (!job) throw new HttpError(400, `Job ${id} does not exist.`);
          return { status: 200, body: jobDefinition(state, job, this.options.statusFormat) };
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
          if (operation === null) throw new HttpError(400, 'The request body is invalid.');
          if (operation === 'execute') return this.execute(id);
          if (operation === 'abort') return this.abort(id);
          throw new HttpError(400, `The operation ${JSON.stringify(operation)} is not supported; use execute or abort.`);
        },
      };
    }
    return { endpoint: 'other', reply: () => ({ status: 405, body: { Message: `The requested resource does not support http method '${method}'.` } }) };
  }
}
