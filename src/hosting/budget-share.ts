/**
 * One request budget per CCS server for the whole deployment: `requestsPerSecond`
 * (CCS_REQUESTS_PER_SECOND) is the most that server receives from all workers together. Each worker
 * takes an equal share, the budget divided by the workers polling its activity task queue as
 * Temporal lists them, re-read every 15 s as workers come and go. No coordinator: the Temporal
 * server already knows who polls. A worker that cannot ask divides by a configured worker count.
 */
import type { MetricMeter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { RequestBudget } from '../ccs/request-budget';

/** How often the workers polling the task queue are counted again. */
export const SHARE_REFRESH_MS = 15_000;
/**
 * A poller last seen longer ago than this has gone. An idle poller comes back at least every minute
 * (the server ends a long poll after 60 s), so this is twice that: a stopped worker is counted a
 * little too long (the others send less meanwhile), a live one is never missed (which would overrun).
 */
export const POLLER_FRESH_MS = 120_000;
const DESCRIBE_TIMEOUT_MS = 5_000;

export interface Poller {
  identity: string;
  /** Epoch ms; undefined when the server did not say (counted as live). */
  lastAccessMs: number | undefined;
}

/** The workers polling: distinct identities seen within `freshMs`, this worker (`self`) always among them. */
export function liveWorkers(pollers: readonly Poller[], self: string, now: number, freshMs = POLLER_FRESH_MS): number {
  const live = new Set([self]);
  for (const poller of pollers) {
    if (poller.identity && (poller.lastAccessMs === undefined || now - poller.lastAccessMs <= freshMs)) live.add(poller.identity);
  }
  return live.size;
}

/**
 * Lists the activity pollers of `taskQueue`: two DescribeTaskQueue calls, each bounded to 5 s, merged
 * (a worker seen by both counts once, by identity). The enhanced mode merges every partition's
 * unversioned pollers (the default mode lists only the root partition's, which misses workers whose
 * polls landed on the others) but lists no Worker Deployment version's pollers; the default mode lists
 * those. Without both, versioned workers would each count themselves alone and take the whole budget.
 */
export function taskQueuePollers(connection: NativeConnection, namespace: string, taskQueue: string): () => Promise<Poller[]> {
  const { enums } = temporal.api;
  const queue = { name: taskQueue, kind: enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL };
  const describe = (request: Omit<temporal.api.workflowservice.v1.IDescribeTaskQueueRequest, 'namespace' | 'taskQueue'>) =>
    connection.withDeadline(Date.now() + DESCRIBE_TIMEOUT_MS, () =>
      connection.workflowService.describeTaskQueue({ namespace, taskQueue: queue, ...request }),
    );
  const poller = (p: temporal.api.taskqueue.v1.IPollerInfo): Poller => ({
    identity: p.identity ?? '',
    lastAccessMs: optionalTsToMs(p.lastAccessTime),
  });
  return async () => {
    const [enhanced, legacy] = await Promise.all([
      describe({
        apiMode: enums.v1.DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
        taskQueueTypes: [enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
        reportPollers: true,
      }),
      describe({ taskQueueType: enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY }),
    ]);
    return [
      ...Object.values(enhanced.versionsInfo ?? {}).flatMap((version) =>
        Object.values(version.typesInfo ?? {}).flatMap((type) => (type.pollers ?? []).map(poller)),
      ),
      ...(legacy.pollers ?? []).map(poller),
    ];
  };
}

/** Each CCS server's budget (requests/s, whole deployment), and the budget its client takes slots from. */
export type SharedBudgets = Readonly<Record<string, { perSecond: number; budget: RequestBudget }>>;

/**
 * A budget for each server that has one, starting at the conservative share (divided by
 * `assumedWorkers`) until the first count: pass each to its server's client as `budget`.
 */
export function sharedBudgets(
  servers: Readonly<Record<string, { requestsPerSecond?: number | undefined }>>,
  assumedWorkers: number,
): SharedBudgets {
  const out: Record<string, { perSecond: number; budget: RequestBudget }> = {};
  for (const [name, { requestsPerSecond }] of Object.entries(servers)) {
    if (requestsPerSecond) out[name] = { perSecond: requestsPerSecond, budget: new RequestBudget(requestsPerSecond / assumedWorkers) };
  }
  return out;
}

export interface BudgetShareOptions {
  budgets: SharedBudgets;
  /** The activity pollers of this worker's task queue ({@link taskQueuePollers}). */
  pollers: () => Promise<Poller[]>;
  /** This worker's identity as it polls (counted even before it polls). */
  identity: string;
  /** Workers assumed when the pollers cannot be listed (CCS_BUDGET_ASSUMED_WORKERS). */
  assumedWorkers: number;
  log: { info: (message: string, meta?: Record<string, unknown>) => void; warn: (message: string, meta?: Record<string, unknown>) => void };
  meter?: MetricMeter | undefined;
  everyMs?: number | undefined;
  now?: (() => number) | undefined;
}

export interface BudgetShare {
  /** Counts the workers again and sets every budget's rate to its share. Never throws. */
  refresh: () => Promise<void>;
  /** The workers the budgets are divided by now (0 before the first refresh). */
  readonly workers: number;
  stop: () => void;
}

/**
 * Keeps each budget at its server's budget divided by the live workers on the task queue, and by
 * at least `assumedWorkers` until the list shows this worker itself polling. When the
 * pollers cannot be listed (describe refused, e.g. a Temporal Cloud key without the permission, or
 * the server unreachable) it divides by the larger of `assumedWorkers` and the last count learned,
 * and says so in one WARN until a count succeeds again (then one INFO).
 */
export function shareBudgets(options: BudgetShareOptions): BudgetShare {
  const servers = Object.entries(options.budgets);
  const now = options.now ?? Date.now;
  const gauge = options.meter?.createGauge(
    'ccs_request_budget_share',
    'float',
    'requests/s',
    "This worker's share of each CCS server's request budget: requestsPerSecond divided by the workers polling the task queue",
  );
  let workers = 0;
  let listed: boolean | undefined;
  const apply = (count: number): void => {
    if (count === workers) return;
    workers = count;
    for (const [ccs, { perSecond, budget }] of servers) {
      budget.setRate(perSecond / count);
      gauge?.set(perSecond / count, { ccs });
    }
    options.log.info('CCS request budget shared', {
      workers: count,
      share: Object.fromEntries(servers.map(([ccs, { perSecond }]) => [ccs, Math.round((perSecond / count) * 100) / 100])),
    });
  };
  const refresh = async (): Promise<void> => {
    if (servers.length === 0) return;
    try {
      const pollers = await options.pollers();
      // Until this worker is listed itself, the list may predate it (it does not poll yet at start, and
      // the server caches the list for 5 s), missing workers started with it: count at least the assumed.
      const listedItself = pollers.some((p) => p.identity === options.identity);
      const count = Math.max(liveWorkers(pollers, options.identity, now()), listedItself ? 0 : options.assumedWorkers);
      if (listed === false)
        options.log.info('the workers on the task queue can be counted again: each CCS request budget is shared among them');
      listed = true;
      apply(count);
    } catch (err) {
      const count = Math.max(options.assumedWorkers, workers);
      if (listed !== false) {
        options.log.warn(
          `cannot count the workers on the task queue from Temporal (${(err as Error).message}): each CCS request budget is divided by ${count} workers (CCS_BUDGET_ASSUMED_WORKERS) until it can`,
        );
      }
      listed = false;
      apply(count);
    }
  };
  const timer = servers.length > 0 ? setInterval(() => void refresh(), options.everyMs ?? SHARE_REFRESH_MS) : undefined;
  timer?.unref();
  return {
    refresh,
    get workers() {
      return workers;
    },
    stop: () => clearInterval(timer),
  };
}
