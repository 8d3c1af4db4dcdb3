/**
 * What one request to CCS is, what its answer is, and what the transport tells observers of it:
 * declarations only, shared by the transport, the answer mapping, the client and the metrics.
 */

/** What a request was for: the metrics label, never a path with IDs in it. */
export type Operation = 'token' | 'execute' | 'abort' | 'jobruns' | 'job' | 'jobsearch' | 'assetgroup' | 'results';

/** One request to a CCS server, below its base URL. */
export interface HttpRequest {
  operation: Operation;
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`, query included. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
  /** 1 for the first send, 2 for the replay after a 401 (recorded on the request's span). */
  attempt?: number | undefined;
  /**
   * Epoch ms after which the request is not sent at all: it fails "not sent" instead (an execute
   * whose activity attempt the Temporal server may have given up on by then: a later attempt may be
   * executing already). Checked after every wait before the request goes on the wire.
   */
  sendBy?: number | undefined;
  /** Served before requests that are waiting for the request budget (an execute, once per run, before polls). */
  urgent?: boolean | undefined;
}

/** A whole answer, whatever its status: read in full (bounded) before anyone interprets it. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** What the transport tells its observer of one request: what for, how it ended, how long it took. */
export interface RequestObservation {
  operation: Operation;
  /** HTTP status, or the failure type when there was no (complete) answer. */
  outcome: number | 'network' | 'tls' | 'aborted' | 'too_large' | 'paused';
  durationMs: number;
}

/** Told about every request once it has an answer (or failed), for metrics. */
export type RequestObserver = (observation: RequestObservation) => void;
