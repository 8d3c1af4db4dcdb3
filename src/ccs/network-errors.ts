/**
 * Requests that got no answer: a socket or TLS failure becomes `CcsTlsError` or `CcsNetworkError`,
 * and says whether CCS may have received the request (what decides whether an execute may have
 * started a run).
 */
import { errors as undiciErrors } from 'undici';
import { CcsError, ErrorType } from '../domain/errors';
import { TlsTrustError, untrustedMessage } from './tls';

// Connection failed before anything was sent: CCS cannot have acted on the request.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME/;
/** How deep a chain of causes is searched for the code or the refused certificate. */
const MAX_CAUSE_DEPTH = 4;

/** The most specific error code in `err`'s chain of causes (undici wraps the socket's). */
function errorCode(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (err as { code?: string }).code ?? 'UNKNOWN';
}

/** The {@link TlsTrustError} behind `err`, if a certificate was refused. */
function untrusted(err: unknown): TlsTrustError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current; depth++) {
    if (current instanceof TlsTrustError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The typed error for a request to `baseUrl` (`where`: its method and path) that failed without an
 * answer: `CcsTlsError` (describing a refused certificate and the setting that trusts it), or
 * `CcsNetworkError` with `mayHaveReachedServer` false only when nothing can have been sent.
 */
export function networkError(err: unknown, where: string, baseUrl: string): CcsError {
  const refused = untrusted(err);
  if (refused)
    return new CcsError(ErrorType.TlsError, untrustedMessage(new URL(baseUrl).origin, refused), {
      cause: err,
      mayHaveReachedServer: false,
    });
  const code = errorCode(err);
  if (TLS_CODE.test(code)) {
    return new CcsError(
      ErrorType.TlsError,
      `TLS handshake with ${baseUrl} failed (${code}): the server may not speak TLS on this port, or refused this client's TLS versions`,
      { cause: err, mayHaveReachedServer: false },
    );
  }
  const notSent = NOT_SENT_CODES.has(code) || err instanceof undiciErrors.ConnectTimeoutError;
  return new CcsError(ErrorType.NetworkError, `${where} failed: ${code} (${notSent ? 'not sent' : 'CCS may have received it'})`, {
    cause: err,
    mayHaveReachedServer: !notSent,
  });
}
