/**
 * The simulator's control API under `/__sim` (not part of CCS): add jobs, list runs with their
 * execute and abort counts, request counts, faults, token revocation and reset. Unauthenticated: bind
 * the simulator to loopback or a private network only.
 */
import type http from 'node:http';
import { ROLES, type SimRole, type TokenAuthority } from './auth';
import type { FaultInjector } from './faults';
import { validateJob } from './scenario';
import type { SimState } from './state';
import { HttpError, STATUS_NAMES, statusValue, type Reply } from './wire';

export type RequestCounts = Record<string, Record<string, number>>;

/** Seconds of history {@link RequestRate} keeps: enough for a measurement, bounded whatever the load. */
export const REQUEST_RATE_SECONDS = 600;

/**
 * CCS requests answered in each wall-clock second (control requests not included), the latest
 * {@link REQUEST_RATE_SECONDS} kept: what a CCS server's request budget is about.
 */
export class RequestRate {
  private readonly bySecond = new Map<number, number>();

  add(at = Date.now()): void {
    const second = Math.floor(at / 1000);
    this.bySecond.set(second, (this.bySecond.get(second) ?? 0) + 1);
    for (const oldest of this.bySecond.keys()) {
      if (oldest > second - REQUEST_RATE_SECONDS) break;
      this.bySecond.delete(oldest);
    }
  }

  /** Every whole second from the first request kept to the last finished second, quiet seconds as 0. */
  perSecond(now = Date.now()): { second: string; requests: number }[] {
    const first = this.bySecond.keys().next();
    if (first.done) return [];
    const current = Math.floor(now / 1000);
    const out: { second: string; requests: number }[] = [];
    for (let second = Math.max(first.value, current - REQUEST_RATE_SECONDS); second < current; second++)
      out.push({ second: new Date(second * 1000).toISOString(), requests: this.bySecond.get(second) ?? 0 });
    return out;
  }

  clear(): void {
    this.bySecond.clear();
  }
}

export class ControlApi {
  constructor(
    private readonly state: SimState,
    private readonly counts: RequestCounts,
    private readonly faults: FaultInjector,
    private readonly tokens: TokenAuthority,
    private readonly rate: RequestRate,
  ) {}

  handle(req: http.IncomingMessage, path: string, query: Map<string, string>, raw: string): Reply {
    const body = raw.trim() ? (JSON.parse(raw) as unknown) : {};
    const method = req.method ?? 'GET';
    const { state } = this;
    const age = /^\/__sim\/jobs\/([^/]+)\/age\/*$/i.exec(path);
    if (method === 'POST' && age) return this.age(age[1]!, body);
    switch (`${method} ${path.toLowerCase().replace(/\/+$/, '')}`) {
      case 'POST /__sim/jobs': {
        let jobId: string;
        try {
          jobId = state.addJob(validateJob(body)).JobID;
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
        return { status: 201, body: { JobID: jobId } };
      }
      case 'GET /__sim/jobs':
        return { status: 200, body: [...state.jobs.values()] };
      case 'GET /__sim/runs': {
        const jobId = query.get('jobid')?.toLowerCase();
        const runs = [...state.runs.values()].filter((r) => !jobId || r.JobID === jobId);
        return {
          status: 200,
          body: runs.map((r) => {
            const view = state.view(r);
            return {
              JobRunID: r.JobRunID,
              JobID: r.JobID,
              Status: STATUS_NAMES[Number(statusValue(view.status, 'number'))] ?? view.status,
              StartTime: new Date(r.startedAt).toISOString(),
              EndTime: view.endedAt === null ? null : new Date(view.endedAt).toISOString(),
              ExecuteRequests: r.executeRequests,
              AbortRequests: r.abortRequests,
            };
          }),
        };
      }
      case 'GET /__sim/stats':
        return { status: 200, body: this.counts };
      case 'GET /__sim/request-rate':
        return { status: 200, body: { perSecond: this.rate.perSecond() } };
      case 'POST /__sim/faults':
        return { status: 200, body: this.faults.set(body) };
      case 'POST /__sim/users': {
        const user = body as { name?: unknown; password?: unknown; role?: unknown };
        if (
          typeof user.name !== 'string' ||
          typeof user.password !== 'string' ||
          (user.role !== undefined && !ROLES.includes(user.role as SimRole))
        ) {
          throw new HttpError(400, `a user is {"name": "...", "password": "...", "role": ${ROLES.map((r) => `"${r}"`).join(' | ')}}`);
        }
        this.tokens.setUser(user.name, { password: user.password, role: (user.role as SimRole | undefined) ?? 'operator' });
        return { status: 204 };
      }
      case 'POST /__sim/revoke-tokens':
        this.tokens.revoke();
        return { status: 204 };
      case 'POST /__sim/reset':
        state.reset();
        this.faults.set({});
        for (const key of Object.keys(this.counts)) delete this.counts[key];
        this.rate.clear();
        return { status: 204 };
      default:
        return { status: 404, body: { Message: `No control endpoint ${method} ${path}` } };
    }
  }

  /** `POST /__sim/jobs/<JobID>/age {"seconds": n}`: the job's ended runs moved n seconds into the past. */
  private age(jobId: string, body: unknown): Reply {
    const seconds = (body as { seconds?: unknown } | null)?.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 366 * 86_400)
      throw new HttpError(400, 'age is {"seconds": 0 to 31622400}');
    if (!this.state.jobs.has(jobId.toLowerCase())) return { status: 404, body: { Message: `No job ${jobId}` } };
    const aged = this.state.ageRuns(jobId, seconds);
    return { status: 200, body: { aged: aged.map((r) => r.JobRunID) } };
  }
}
