/**
 * The one place where CCS's answers become error types: a non-2xx status (`errorForStatus`), a
 * token request's outcome, a success body that is not JSON, and `Retry-After`. Texts taken from an
 * answer are stripped, bounded and scrubbed of secrets before they reach a message.
 */
import { CcsError, ErrorType, JOB_OPERATION_PERMISSIONS } from '../domain/errors';
import type { HttpResponse, RequestObservation } from './requests';
import { SecretSet } from './scrub';

/** The longest `Retry-After` honoured by default (CCS_MAX_RETRY_AFTER). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;
const MAX_SERVER_TEXT = 300;
/**
 * The longest one string of a JSON answer is kept (and scrubbed): far above every RUN_LIMITS text, so
 * it bounds the scrubbing of a huge text without shortening what a run keeps.
 */
export const MAX_ANSWER_TEXT_CHARS = 64 * 1024;
/** Where an error body says what went wrong: CCS's own, OAuth's, ASP.NET Core ProblemDetails'. */
const MESSAGE_KEYS = ['message', 'error_description', 'detail', 'title', 'error'];

/** Text of an error body for messages: tags stripped, whitespace folded, secrets scrubbed, length capped. */
export function serverText(text: string, secrets: SecretSet = new SecretSet()): string {
  let plain = text;
  try {
    const json = JSON.parse(text) as unknown;
    const said = new Map(
      typeof json === 'object' && json !== null
        ? Object.entries(json as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value])
        : [],
    );
    const msg = MESSAGE_KEYS.map((name) => said.get(name)).find((v) => typeof v === 'string');
    if (typeof msg === 'string') plain = msg;
  } catch {
    plain = text.replace(/<[^>]*>/g, ' ');
  }
  plain = plain.replace(/\s+/g, ' ').trim();
  // Only what is shown is scrubbed: the cost of a huge error page is its first few hundred characters.
  return plain.length > MAX_SERVER_TEXT ? `${secrets.scrubPrefix(plain, MAX_SERVER_TEXT)}…` : secrets.scrub(plain);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds, at most `maxMs`. */
export function retryAfterMs(
  value: string | string[] | undefined,
  now = Date.now(),
  maxMs = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text.trim())) ms = Math.round(Number(text) * 1000);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, maxMs);
}

/** How answers are turned into errors: which secrets to scrub, how long a `Retry-After` may be. */
export interface AnswerReading {
  secrets?: SecretSet | undefined;
  maxRetryAfterMs?: number | undefined;
}

/** Turns a non-2xx answer into its error type. The one place where status codes are interpreted. */
export function errorForStatus(res: HttpResponse, where: string, reading: AnswerReading = {}): CcsError {
  const text = serverText(res.text, reading.secrets);
  const said = text ? `: ${text}` : '';
  const status = res.status;
  if (status === 401) {
    return new CcsError(ErrorType.AuthenticationFailed, `${where} was refused with 401 after a fresh token${said}`, { status });
  }
  if (status === 403) {
    // A run's findings need one task more than following it: say which, not the whole list.
    const needs = /\/(Results|Reports)\b/i.test(where) ? 'the task View evaluation results' : JOB_OPERATION_PERMISSIONS;
    return new CcsError(ErrorType.Forbidden, `${where} was forbidden (403)${said}. The CCS user needs ${needs}`, {
      status,
    });
  }
  if (status === 404) return new CcsError(ErrorType.NotFound, `${where} found nothing (404)${said}`, { status });
  if (status === 429) {
    const after = retryAfterMs(res.headers['retry-after'], Date.now(), reading.maxRetryAfterMs);
    return new CcsError(ErrorType.RateLimited, `${where} was rate limited (429)${after === undefined ? '' : `; retry after ${after} ms`}`, {
      status,
      retryAfterMs: after,
    });
  }
  if (status >= 500) return new CcsError(ErrorType.ServerError, `${where} failed on the CCS server (${status})${said}`, { status });
  return new CcsError(ErrorType.BadRequest, `${where} was rejected (${status})${said}`, { status });
}

/**
 * What a token request's outcome says of a server's readiness: an error type, or undefined when it
 * granted one. Beside {@link errorForStatus} so that answers are mapped to types in one place.
 */
export function tokenOutcomeType(outcome: RequestObservation['outcome'], before: string | undefined): string | undefined {
  if (outcome === 200) return undefined;
  if (outcome === 400 || outcome === 401) return ErrorType.AuthenticationFailed;
  if (outcome === 403) return ErrorType.Forbidden;
  if (outcome === 'tls') return ErrorType.TlsError;
  if (outcome === 'too_large') return ErrorType.ResponseTooLarge;
  if (outcome === 'aborted') return before; // this process gave up waiting: says nothing of CCS
  if (outcome === 'network') return ErrorType.NetworkError;
  if (outcome === 'paused') return ErrorType.RateLimited;
  return outcome === 429 ? ErrorType.RateLimited : outcome >= 500 ? ErrorType.ServerError : ErrorType.ProtocolError;
}

/**
 * Parses a JSON success body; an HTML page or truncated JSON is a `CcsProtocolError`. Every string in
 * it is scrubbed as it is read: run exceptions and messages are CCS's free text, and a CCS or gateway
 * that echoes a request puts credentials there, from where they would reach results and history.
 */
export function jsonBody(res: HttpResponse, where: string, secrets?: SecretSet): unknown {
  const type = String(res.headers['content-type'] ?? '');
  try {
    // The token answer is read without `secrets`: its tokens are the secrets.
    if (!secrets) return JSON.parse(res.text) as unknown;
    return secrets.scrubStrings(JSON.parse(res.text) as unknown, MAX_ANSWER_TEXT_CHARS);
  } catch {
    const kind = type ? `${type.split(';')[0]} ` : '';
    throw new CcsError(
      ErrorType.ProtocolError,
      `${where} answered ${res.status} with an unreadable ${kind}body (${res.text.length} bytes): ${JSON.stringify(serverText(res.text, secrets).slice(0, 80))}`,
      { status: res.status },
    );
  }
}
