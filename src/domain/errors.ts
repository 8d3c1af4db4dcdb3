/**
 * The one error vocabulary of the project. Every failure that crosses a module boundary carries one
 * of these `type` strings; activities, workflows, retry policies, the CLI and tests branch on them.
 * This module is pure (no Node APIs) so workflows may import it.
 */
export const ErrorType = Object.freeze({
  /** CCS refused the credentials (token endpoint answered 400/401). Not retryable. */
  AuthenticationFailed: 'CcsAuthenticationFailed',
  /** CCS answered 403: the user lacks tasks or folder permissions. Not retryable. */
  Forbidden: 'CcsForbidden',
  /** CCS answered 400 for a reason not covered by a more specific type. Not retryable. */
  BadRequest: 'CcsBadRequest',
  /** The job or run does not exist in CCS. Not retryable. */
  NotFound: 'CcsNotFound',
  /** CCS answered 429; `retryAfterMs` says when to come back. Retryable. */
  RateLimited: 'CcsRateLimited',
  /** CCS answered 5xx. Retryable; the request may have been processed. */
  ServerError: 'CcsServerError',
  /** Connect failure, reset or timeout. Retryable; `mayHaveReachedServer` tells whether CCS may have acted. */
  NetworkError: 'CcsNetworkError',
  /** The TLS handshake failed (untrusted certificate, wrong host name). Not retryable: fix the trust setup. */
  TlsError: 'CcsTlsError',
  /** CCS answered with a body this client cannot read. Retryable (a proxy page is usually passing). */
  ProtocolError: 'CcsProtocolError',
  /** CCS answered with more bytes than the configured limit (CCS_MAX_RESPONSE_BYTES); the rest was not read. Not retryable. */
  ResponseTooLarge: 'CcsResponseTooLarge',
  /** A value given to the orchestrator is malformed; nothing was sent to CCS. Not retryable. */
  InvalidInput: 'CcsInvalidInput',
  /** The job already has a run in progress and the caller asked not to attach. Not retryable. */
  JobAlreadyRunning: 'CcsJobAlreadyRunning',
  /** The CCS run ended Faulted. Not retryable. */
  JobFaulted: 'CcsJobFaulted',
  /** The CCS run was aborted by someone other than this workflow. Not retryable. */
  JobAborted: 'CcsJobAborted',
  /** The CCS run ended (its end time is set) in a status other than Completed, Faulted or Aborted: Idle, Custom, or an undocumented code. Not retryable. */
  JobEndedUnexpectedly: 'CcsJobEndedUnexpectedly',
  /** The workflow's deadline passed; the run was aborted. Not retryable. */
  JobTimedOut: 'CcsJobTimedOut',
  /** An abort was sent but CCS never reported the run as ended within the bounded wait. Not retryable. */
  AbortUnconfirmed: 'CcsAbortUnconfirmed',
  /** A pipeline stopped because a job failed in a stage without continueOnFailure, or its timeout passed. Not retryable. */
  PipelineFailed: 'CcsPipelineFailed',
  /** A pipeline stage's required collection has no Completed run recent enough (`requireFresh`); its jobs did not run. Not retryable. */
  StaleData: 'CcsStaleData',
  /**
   * A pipeline redrive was refused before anything started: the attempt is still running, a later
   * attempt exists or is running, nothing is left to re-run, or the definition no longer validates. Not retryable.
   */
  RedriveRefused: 'CcsRedriveRefused',
  /**
   * Attention only, never thrown: a followed run has reported a status outside the documented codes
   * 0–7 for longer than its `unknownStatusAttentionAfter`. It is still followed; a known status clears it.
   */
  UnknownStatus: 'CcsUnknownStatus',
  /** Benign: a poll saw no change yet. Used as retry-as-poll; never the final outcome. */
  RunUnchanged: 'CcsRunUnchanged',
  /** Benign: the worker holding a wait is stopping; the wait continues on another worker a second later. Never an abort. */
  WorkerStopping: 'CcsWorkerStopping',
  /** A notification receiver refused the event (4xx other than 408/429, SMTP 5xx, an untrusted certificate). Not retryable. */
  NotificationRefused: 'NotificationRefused',
  /** A notification attempt failed on the way (network, timeout, 408, 429, 5xx, SMTP 4xx). Retryable, honouring Retry-After. */
  NotificationDeliveryFailed: 'NotificationDeliveryFailed',
} as const);

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types on which retrying the same call cannot help. Retry policies list exactly these. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorTypeName[] = Object.freeze([
  ErrorType.AuthenticationFailed,
  ErrorType.Forbidden,
  ErrorType.BadRequest,
  ErrorType.NotFound,
  ErrorType.TlsError,
  ErrorType.ResponseTooLarge,
  ErrorType.InvalidInput,
  ErrorType.JobAlreadyRunning,
  ErrorType.JobEndedUnexpectedly,
  ErrorType.NotificationRefused,
  ErrorType.RedriveRefused,
]);

/**
 * Once CCS has a run for a workflow, these errors do not close it: they need a person (credentials,
 * permissions, trust, a proxy mangling answers), so the run is flagged for attention and the call
 * is retried with a capped back-off until the cause goes away, the run ends, or it is cancelled.
 */
export const ATTENTION_ERROR_TYPES: readonly ErrorTypeName[] = Object.freeze([
  ErrorType.AuthenticationFailed,
  ErrorType.Forbidden,
  ErrorType.BadRequest,
  ErrorType.NotFound,
  ErrorType.TlsError,
  ErrorType.ProtocolError,
  ErrorType.ResponseTooLarge,
  ErrorType.InvalidInput,
]);

/** What a run needing attention shows in its `status` query (and, by type, in `CcsAttention`). */
export interface Attention {
  type: string;
  message: string;
  /** When this type was first seen, ISO-8601. */
  since: string;
}

/** The permissions the vendor's Job Operation page requires; named in every 403 message. */
export const JOB_OPERATION_PERMISSIONS =
  'tasks Manage jobs, Collect data, View all jobs, View assets, View standards, View evaluation results, ' +
  'Evaluate standards; folder access to Asset System and Standards';

export interface CcsErrorOptions {
  status?: number;
  retryAfterMs?: number;
  mayHaveReachedServer?: boolean;
  cause?: unknown;
}

/** Thrown by the CCS client for every failure; `type` is one of {@link ErrorType}. */
export class CcsError extends Error {
  readonly type: ErrorTypeName;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly mayHaveReachedServer: boolean;

  constructor(type: ErrorTypeName, message: string, options: CcsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Set explicitly: bundlers rename classes, and consumers branch on `type`, not on the class.
    this.name = 'CcsError';
    this.type = type;
    this.retryable = !NON_RETRYABLE_ERROR_TYPES.includes(type);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.mayHaveReachedServer = options.mayHaveReachedServer ?? true;
  }
}
